// Who may call what (DESIGN.md, "Callers and permissions"). The one table
// every service's authorizer reads; health and reflection are open.
#ifndef GIFTCARD_LIBS_AUTH_PERMISSIONS_H_
#define GIFTCARD_LIBS_AUTH_PERMISSIONS_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace giftcard::auth {

// The principals a token or a client certificate can name.
inline constexpr absl::string_view kStorefront = "storefront";
inline constexpr absl::string_view kBillingSystem = "billing-system";
inline constexpr absl::string_view kAdmin = "admin";
inline constexpr absl::string_view kSupport = "support";
inline constexpr absl::string_view kCodeVault = "code-vault";
inline constexpr absl::string_view kBilling = "billing";

const std::vector<std::string>& AllPrincipals();

// Full method names ("/giftcard.v1.CodeVault/RedeemCode") of every RPC of the API.
const std::vector<std::string>& AllMethods();

// True when `principal` may call `method` (a full method name).
bool Allowed(absl::string_view principal, absl::string_view method);

// The principals that may call `method`, in AllPrincipals() order.
std::vector<std::string> PrincipalsAllowed(absl::string_view method);

// The methods `principal` may call, sorted.
std::vector<std::string> MethodsAllowed(absl::string_view principal);

// Health checks and reflection need no identity.
bool IsOpenMethod(absl::string_view method);

}  // namespace giftcard::auth

#endif  // GIFTCARD_LIBS_AUTH_PERMISSIONS_H_

// The authorizer a service serves with: built from --tokens_file and
// --allow_unauthenticated, and hooked into the server's options so call logs
// name the caller and SIGHUP reloads the tokens.
#ifndef GIFTCARD_LIBS_AUTH_SERVING_H_
#define GIFTCARD_LIBS_AUTH_SERVING_H_

#include <memory>

#include "absl/status/statusor.h"
#include "auth/authorizer.h"
#include "server/bootstrap.h"

namespace giftcard::auth {

// The returned authorizer must outlive the server that `options` configures.
// Logs and returns the error when the tokens file cannot be used.
absl::StatusOr<std::unique_ptr<Authorizer>> AuthorizerForServing(server::ServeOptions& options);

}  // namespace giftcard::auth

#endif  // GIFTCARD_LIBS_AUTH_SERVING_H_

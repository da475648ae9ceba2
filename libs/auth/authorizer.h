// Caller identity and authorization, one object per service process.
//
// Identity comes from the client certificate when the connection is mutual
// TLS and its subject alternative name is a principal, else from
// `authorization: Bearer <token>` looked up in a tokens file that holds only
// SHA-256 hashes of tokens. The file is reloaded on SIGHUP.
//
// Every handler starts with `Authorize(context, kMethod)`: gRPC 1.51's server
// interceptors cannot refuse a call, and its AuthMetadataProcessor needs
// secure credentials while local development runs plaintext, so the guard is
// one call on the handler thread, shared by all services and driven by one
// table (permissions.h). A test calls every RPC as every principal.
#ifndef GIFTCARD_LIBS_AUTH_AUTHORIZER_H_
#define GIFTCARD_LIBS_AUTH_AUTHORIZER_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace giftcard::auth {

// Parses a tokens file: one "principal sha256-hex-of-token" pair per line;
// blank lines and lines starting with '#' are ignored. Returns hash → principal.
absl::StatusOr<std::map<std::string, std::string>> ParseTokensFile(const std::string& text);

// SHA-256 hex of a token, as the tokens file stores it.
std::string TokenHash(absl::string_view token);

class Authorizer {
 public:
  struct Options {
    std::string tokens_file;             // Empty: no bearer tokens accepted.
    bool allow_unauthenticated = false;  // Local development only.
    // Client certificates name the callers (then a tokens file is optional).
    bool mutual_tls = false;
  };

  // Fails when the tokens file cannot be read or parsed.
  static absl::StatusOr<std::unique_ptr<Authorizer>> Create(Options options);

  // OK when the caller may call `method`; else UNAUTHENTICATED/CALLER_UNKNOWN
  // or PERMISSION_DENIED/METHOD_NOT_ALLOWED, ready to return from a handler.
  grpc::Status Authorize(const grpc::ServerContextBase& context, absl::string_view method) const;

  // The caller's principal, if it is known.
  std::optional<std::string> PrincipalOf(const grpc::ServerContextBase& context) const;

  // Re-reads the tokens file (SIGHUP); on error the old tokens stay.
  absl::Status Reload();

 private:
  explicit Authorizer(Options options) : options_(std::move(options)) {}

  const Options options_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::string> principal_by_hash_ ABSL_GUARDED_BY(mu_);
  // Tokens already matched, by the token itself: a call (authorized, then
  // logged with its principal) hashes its token once, and later calls with
  // it not at all. Only known tokens, at most kMaxRememberedTokens; emptied
  // by Reload, so a token taken out of the file stops working with it.
  static constexpr size_t kMaxRememberedTokens = 64;
  mutable std::map<std::string, std::string, std::less<>> principal_by_token_ ABSL_GUARDED_BY(mu_);
};

}  // namespace giftcard::auth

#endif  // GIFTCARD_LIBS_AUTH_AUTHORIZER_H_

#include "auth/serving.h"

#include "errors/status.h"
#include "log/log.h"
#include "server/flags.h"

namespace giftcard::auth {

absl::StatusOr<std::unique_ptr<Authorizer>> AuthorizerForServing(server::ServeOptions& options) {
  absl::StatusOr<std::unique_ptr<Authorizer>> authorizer =
      Authorizer::Create({server::TokensFileFlag(), server::AllowUnauthenticatedFlag(),
                          !options.tls_client_ca_file.empty()});
  if (!authorizer.ok()) {
    log::Error("bad_tokens_file", {{"status", errors::Describe(authorizer.status())}});
    return authorizer.status();
  }
  Authorizer* a = authorizer->get();
  options.principal_of = [a](const grpc::ServerContextBase& context) {
    return a->PrincipalOf(context).value_or("");
  };
  options.on_sighup = [a] {
    if (absl::Status s = a->Reload(); !s.ok()) {
      log::Error("tokens_reload_failed", {{"status", errors::Describe(s)}});
    }
  };
  return authorizer;
}

}  // namespace giftcard::auth

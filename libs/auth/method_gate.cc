#include "auth/method_gate.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace giftcard::auth {

grpc::Status MethodGate::Allow(const grpc::ServerContextBase& context,
                               absl::string_view method) const {
  return auth_.Authorize(context, absl::StrCat("/", service_, "/", method));
}

grpc::ServerUnaryReactor* MethodGate::Run(grpc::CallbackServerContext* context,
                                          absl::string_view method, server::Lane lane,
                                          server::CallRunner::Body body) {
  return calls_.Run(
      context, method, lane,
      [this, context, method = std::string(method), body = std::move(body)]() -> grpc::Status {
        if (grpc::Status denied = Allow(*context, method); !denied.ok()) {
          return denied;
        }
        return body();
      });
}

}  // namespace giftcard::auth

// A handler's way in: the caller's permission for "/<service>/<method>"
// (DESIGN.md's table, through the Authorizer), and the call runner's
// workers for the methods that run there, each method named once.
#ifndef GIFTCARD_LIBS_AUTH_METHOD_GATE_H_
#define GIFTCARD_LIBS_AUTH_METHOD_GATE_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/strings/string_view.h"
#include "auth/authorizer.h"
#include "server/call_runner.h"

namespace giftcard::auth {

class MethodGate {
 public:
  // `service_full_name`: "giftcard.v1.CodeVault". Both outlive the gate.
  MethodGate(const Authorizer& auth, server::CallRunner& calls, std::string service_full_name)
      : auth_(auth), calls_(calls), service_(std::move(service_full_name)) {}

  // OK when the caller may call `method` of this service; else the refusal.
  grpc::Status Allow(const grpc::ServerContextBase& context, absl::string_view method) const;

  // `body` on the call runner's workers (its `lane`), once the caller may
  // call `method`: the name serves the call's log, metrics and permission.
  // `method` is copied: the worker checks it after this returns.
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context, absl::string_view method,
                                server::Lane lane, server::CallRunner::Body body);

 private:
  const Authorizer& auth_;
  server::CallRunner& calls_;
  const std::string service_;
};

}  // namespace giftcard::auth

#endif  // GIFTCARD_LIBS_AUTH_METHOD_GATE_H_

// One JSON log line per call: method, principal, status, reason, latency and
// the request's idempotency key (request_id, invoice_id) and subject
// (account_id, serial, batch_id) — never the code itself. A server
// interceptor that only observes; health and reflection calls are not logged.
#ifndef GIFTCARD_LIBS_SERVER_CALL_LOG_H_
#define GIFTCARD_LIBS_SERVER_CALL_LOG_H_

#include <grpcpp/support/server_interceptor.h>

#include <functional>
#include <memory>
#include <string>

namespace grpc {
class ServerContextBase;
}

namespace giftcard::server {

// Who the caller is, for the log ("" when unknown).
using PrincipalOf = std::function<std::string(const grpc::ServerContextBase&)>;

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeCallLogInterceptorFactory(PrincipalOf principal_of);

}  // namespace giftcard::server

#endif  // GIFTCARD_LIBS_SERVER_CALL_LOG_H_

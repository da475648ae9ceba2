// One JSON log line per call: method, principal, status, reason, latency,
// the call's trace (trace_id, span_id) and the request's idempotency key
// (request_id, invoice_id) and subject (account_id, serial, batch_id) —
// never the code itself. A server interceptor that only observes; health
// and reflection calls are not logged.
//
// Trace context: a call that brings a W3C `traceparent` continues its
// trace; one without starts a new one. Each item of a batch call may carry
// its own (a `traceparent` field), and the batch's line lists their trace
// ids (trace_ids), so a grep for one trace id finds every hop.
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

// The `traceparent` a handler sends with the calls it makes for `context`'s
// call: this call's span in its trace (the one its log line names). A call
// the interceptor did not see (none installed) continues what it brought.
std::string OutgoingTraceparent(const grpc::ServerContextBase& context);

}  // namespace giftcard::server

#endif  // GIFTCARD_LIBS_SERVER_CALL_LOG_H_

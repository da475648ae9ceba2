// A gRPC call's deadline for deadline::Scope, so that every SQL statement a
// handler runs is bounded by the call it serves.
#ifndef GIFTCARD_LIBS_SERVER_CALL_DEADLINE_H_
#define GIFTCARD_LIBS_SERVER_CALL_DEADLINE_H_

#include <grpcpp/server_context.h>

#include "absl/time/time.h"

namespace giftcard::server {

// InfiniteFuture when the caller set no deadline.
absl::Time CallDeadline(const grpc::ServerContextBase& context);

}  // namespace giftcard::server

#endif  // GIFTCARD_LIBS_SERVER_CALL_DEADLINE_H_

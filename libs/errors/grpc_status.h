// The one place where absl::Status and grpc::Status meet. Details travel as a
// serialized google.rpc.Status in grpc::Status::error_details (the
// "grpc-status-details-bin" trailer), as every gRPC language expects.
#ifndef GIFTCARD_LIBS_ERRORS_GRPC_STATUS_H_
#define GIFTCARD_LIBS_ERRORS_GRPC_STATUS_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace google::rpc {
class Status;
}  // namespace google::rpc

namespace giftcard::errors {

// absl::Status (with ErrorInfo / BadRequest / RetryInfo payloads) → grpc::Status.
grpc::Status ToGrpcStatus(const absl::Status& status);

// grpc::Status → absl::Status, keeping the details, so a service can reason
// about a peer's answer (e.g. REGION_MISMATCH from account-credit).
absl::Status FromGrpcStatus(const grpc::Status& status);

// The same as a google.rpc.Status message, for one item's answer inside a
// batch call's response; and back.
void ToRpcStatus(const absl::Status& status, google::rpc::Status* out);
absl::Status FromRpcStatus(const google::rpc::Status& status);

}  // namespace giftcard::errors

#endif  // GIFTCARD_LIBS_ERRORS_GRPC_STATUS_H_

#include "errors/grpc_status.h"

#include <string>

#include "absl/strings/cord.h"
#include "errors/status.h"
#include "google/rpc/status.pb.h"

namespace giftcard::errors {
namespace {

constexpr absl::string_view kTypeUrls[] = {kErrorInfoTypeUrl, kBadRequestTypeUrl,
                                           kRetryInfoTypeUrl};

}  // namespace

void ToRpcStatus(const absl::Status& status, google::rpc::Status* out) {
  out->Clear();
  out->set_code(static_cast<int>(status.code()));
  out->set_message(std::string(status.message()));
  for (absl::string_view type_url : kTypeUrls) {
    if (auto payload = status.GetPayload(type_url)) {
      auto* any = out->add_details();
      any->set_type_url(std::string(type_url));
      any->set_value(std::string(*payload));
    }
  }
}

absl::Status FromRpcStatus(const google::rpc::Status& status) {
  if (status.code() == 0) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.code()), status.message());
  for (const auto& any : status.details()) out.SetPayload(any.type_url(), absl::Cord(any.value()));
  return out;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  google::rpc::Status rpc_status;
  ToRpcStatus(status, &rpc_status);
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      rpc_status.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  google::rpc::Status rpc_status;
  if (!status.error_details().empty() && rpc_status.ParseFromString(status.error_details())) {
    // The trailer's own code and message stand (they are what the caller saw).
    rpc_status.set_code(static_cast<int>(status.error_code()));
    rpc_status.set_message(status.error_message());
    return FromRpcStatus(rpc_status);
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace giftcard::errors

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

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  google::rpc::Status rpc_status;
  rpc_status.set_code(static_cast<int>(status.code()));
  rpc_status.set_message(std::string(status.message()));
  for (absl::string_view type_url : kTypeUrls) {
    if (auto payload = status.GetPayload(type_url)) {
      auto* any = rpc_status.add_details();
      any->set_type_url(std::string(type_url));
      any->set_value(std::string(*payload));
    }
  }
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      rpc_status.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  google::rpc::Status rpc_status;
  if (!status.error_details().empty() && rpc_status.ParseFromString(status.error_details())) {
    for (const auto& any : rpc_status.details()) {
      out.SetPayload(any.type_url(), absl::Cord(any.value()));
    }
  }
  return out;
}

}  // namespace giftcard::errors

#include "protoconv/batch_results.h"

#include "errors/grpc_status.h"
#include "errors/status.h"

namespace giftcard::protoconv {

std::vector<absl::StatusOr<v1::Transfer>> TransferResults(
    const grpc::Status& call, const google::protobuf::RepeatedPtrField<v1::TransferResult>& results,
    size_t items, absl::string_view peer) {
  if (!call.ok()) {
    return std::vector<absl::StatusOr<v1::Transfer>>(
        items, errors::PeerError(errors::FromGrpcStatus(call), peer));
  }
  if (static_cast<size_t>(results.size()) != items) {
    return std::vector<absl::StatusOr<v1::Transfer>>(
        items, errors::DependencyUnavailable(peer, "a batch answer without one result per item"));
  }
  std::vector<absl::StatusOr<v1::Transfer>> out;
  out.reserve(items);
  for (const v1::TransferResult& result : results) {
    if (result.has_transfer()) {
      out.push_back(result.transfer());
    } else {
      absl::Status error = errors::FromRpcStatus(result.error());
      out.push_back(errors::PeerError(
          error.ok() ? absl::UnknownError("an item answered with neither transfer nor error")
                     : error,
          peer));
    }
  }
  return out;
}

}  // namespace giftcard::protoconv

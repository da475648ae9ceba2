// The caller's side of account-credit's batch calls (BatchCreditAccounts,
// BatchDebitAccounts): one answer per item, as the single call would have
// given it.
#ifndef GIFTCARD_LIBS_PROTOCONV_BATCH_RESULTS_H_
#define GIFTCARD_LIBS_PROTOCONV_BATCH_RESULTS_H_

#include <grpcpp/support/status.h>

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "giftcard/v1/account_credit.pb.h"

namespace giftcard::protoconv {

// Each item's transfer, or its own error as errors::PeerError sees it from
// `peer`. When the call failed, or did not answer every item, every item
// gets the call's failure: an unknown outcome, to retry with the same
// request ids.
std::vector<absl::StatusOr<v1::Transfer>> TransferResults(
    const grpc::Status& call, const google::protobuf::RepeatedPtrField<v1::TransferResult>& results,
    size_t items, absl::string_view peer);

}  // namespace giftcard::protoconv

#endif  // GIFTCARD_LIBS_PROTOCONV_BATCH_RESULTS_H_

// account-credit's proto ⇄ domain conversions, for its handler (api/).
#ifndef GIFTCARD_SERVICES_ACCOUNT_CREDIT_API_CONVERSIONS_H_
#define GIFTCARD_SERVICES_ACCOUNT_CREDIT_API_CONVERSIONS_H_

#include <grpcpp/support/status.h>

#include <vector>

#include "absl/status/statusor.h"
#include "giftcard/v1/account_credit.pb.h"
#include "services/account_credit/domain/account_service.h"

namespace giftcard::account_credit {

namespace v1 = ::giftcard::v1;

BillingChannel FromProto(v1::BillingChannel c);
v1::BillingChannel ToProto(BillingChannel c);
v1::TransferKind ToProto(TransferKind k);
v1::LedgerEntryKind ToProto(EntryKind k);
void ToProto(const Account& a, v1::Account* out);
void ToProto(const Transfer& t, v1::Transfer* out);
CreditCommand CreditCommandOf(const v1::CreditAccountRequest& request);
DebitCommand DebitCommandOf(const v1::DebitAccountRequest& request);
// A batch call's answers: each item's transfer or its own error.
grpc::Status ToProto(const absl::StatusOr<std::vector<absl::StatusOr<Transfer>>>& answers,
                     google::protobuf::RepeatedPtrField<v1::TransferResult>* out);

}  // namespace giftcard::account_credit

#endif  // GIFTCARD_SERVICES_ACCOUNT_CREDIT_API_CONVERSIONS_H_

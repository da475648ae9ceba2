#include "services/account_credit/api/conversions.h"

#include "errors/grpc_status.h"
#include "protoconv/protoconv.h"

namespace giftcard::account_credit {

BillingChannel FromProto(v1::BillingChannel c) {
  switch (c) {
    case v1::BILLING_CHANNEL_DIRECT:
      return BillingChannel::kDirect;
    case v1::BILLING_CHANNEL_APP_STORE:
      return BillingChannel::kAppStore;
    case v1::BILLING_CHANNEL_PLAY_STORE:
      return BillingChannel::kPlayStore;
    case v1::BILLING_CHANNEL_PARTNER:
      return BillingChannel::kPartner;
    default:
      return BillingChannel::kUnspecified;
  }
}

v1::BillingChannel ToProto(BillingChannel c) {
  switch (c) {
    case BillingChannel::kDirect:
      return v1::BILLING_CHANNEL_DIRECT;
    case BillingChannel::kAppStore:
      return v1::BILLING_CHANNEL_APP_STORE;
    case BillingChannel::kPlayStore:
      return v1::BILLING_CHANNEL_PLAY_STORE;
    case BillingChannel::kPartner:
      return v1::BILLING_CHANNEL_PARTNER;
    case BillingChannel::kUnspecified:
      break;
  }
  return v1::BILLING_CHANNEL_UNSPECIFIED;
}

v1::TransferKind ToProto(TransferKind k) {
  switch (k) {
    case TransferKind::kCredit:
      return v1::TRANSFER_KIND_CREDIT;
    case TransferKind::kDebit:
      return v1::TRANSFER_KIND_DEBIT;
    case TransferKind::kReversal:
      return v1::TRANSFER_KIND_REVERSAL;
    case TransferKind::kRepayment:
      return v1::TRANSFER_KIND_REPAYMENT;
  }
  return v1::TRANSFER_KIND_UNSPECIFIED;
}

v1::LedgerEntryKind ToProto(EntryKind k) {
  switch (k) {
    case EntryKind::kRedemption:
      return v1::LEDGER_ENTRY_KIND_REDEMPTION;
    case EntryKind::kInvoice:
      return v1::LEDGER_ENTRY_KIND_INVOICE;
    case EntryKind::kInvoiceReversal:
      return v1::LEDGER_ENTRY_KIND_INVOICE_REVERSAL;
    case EntryKind::kClawback:
      return v1::LEDGER_ENTRY_KIND_CLAWBACK;
    case EntryKind::kOwedRepayment:
      return v1::LEDGER_ENTRY_KIND_OWED_REPAYMENT;
  }
  return v1::LEDGER_ENTRY_KIND_UNSPECIFIED;
}

void ToProto(const Account& a, v1::Account* out) {
  out->set_account_id(a.account_id);
  out->set_country(a.country);
  out->set_currency_code(a.currency_code);
  out->set_billing_channel(ToProto(a.billing_channel));
  *out->mutable_balance() = protoconv::ToProto({a.currency_code, a.balance_minor});
  protoconv::ToTimestamp(a.create_time, out->mutable_create_time());
  protoconv::ToTimestamp(a.update_time, out->mutable_update_time());
  out->set_state(a.closed ? v1::ACCOUNT_STATE_CLOSED : v1::ACCOUNT_STATE_OPEN);
  *out->mutable_owed() = protoconv::ToProto({a.currency_code, a.owed_minor});
}

void ToProto(const Transfer& t, v1::Transfer* out) {
  out->set_transfer_id(t.transfer_id);
  out->set_account_id(t.account_id);
  *out->mutable_amount() = protoconv::ToProto(t.amount);
  *out->mutable_balance() = protoconv::ToProto({t.amount.currency_code, t.balance_after_minor});
  out->set_kind(ToProto(t.kind));
  out->set_request_id(t.request_id);
  out->set_reverses_transfer_id(t.reverses_transfer_id);
  protoconv::ToTimestamp(t.create_time, out->mutable_create_time());
  if (t.owed_repaid_minor > 0) {
    *out->mutable_owed_repaid() = protoconv::ToProto({t.amount.currency_code, t.owed_repaid_minor});
  }
  if (t.owed_added_minor > 0) {
    *out->mutable_owed_added() = protoconv::ToProto({t.amount.currency_code, t.owed_added_minor});
  }
}

CreditCommand CreditCommandOf(const v1::CreditAccountRequest& request) {
  CreditCommand cmd;
  cmd.account_id = request.account_id();
  cmd.amount = protoconv::FromProto(request.amount());
  cmd.code_region = request.code_region();
  cmd.request_id = request.request_id();
  cmd.reference = request.reference();
  cmd.traceparent = request.traceparent();
  return cmd;
}

DebitCommand DebitCommandOf(const v1::DebitAccountRequest& request) {
  DebitCommand cmd;
  cmd.account_id = request.account_id();
  cmd.max_amount = protoconv::FromProto(request.max_amount());
  cmd.allow_partial = request.allow_partial();
  cmd.request_id = request.request_id();
  cmd.reference = request.reference();
  cmd.traceparent = request.traceparent();
  return cmd;
}

grpc::Status ToProto(const absl::StatusOr<std::vector<absl::StatusOr<Transfer>>>& answers,
                     google::protobuf::RepeatedPtrField<v1::TransferResult>* out) {
  if (!answers.ok()) return errors::ToGrpcStatus(answers.status());
  for (const absl::StatusOr<Transfer>& answer : *answers) {
    v1::TransferResult* result = out->Add();
    if (answer.ok()) {
      ToProto(*answer, result->mutable_transfer());
    } else {
      errors::ToRpcStatus(answer.status(), result->mutable_error());
    }
  }
  return grpc::Status::OK;
}

}  // namespace giftcard::account_credit

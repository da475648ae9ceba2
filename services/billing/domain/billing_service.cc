#include "domain/billing_service.h"

#include "absl/strings/str_cat.h"
#include "errors/macros.h"
#include "errors/status.h"
#include "log/log.h"
#include "validate/validate.h"

namespace giftcard::billing {
namespace {

absl::Status ValidateInvoiceId(const std::string& invoice_id) {
  GIFTCARD_RETURN_IF_ERROR(validate::Id("invoice_id", invoice_id));
  if (invoice_id.size() > kMaxInvoiceIdLength) {
    return errors::InvalidField(
        "invoice_id", absl::StrCat("must be at most ", kMaxInvoiceIdLength, " characters"));
  }
  return absl::OkStatus();
}

// A debit refusal that means nothing was taken (unknown account, wrong currency).
bool IsDefiniteRefusal(const absl::Status& status) {
  return status.code() == absl::StatusCode::kFailedPrecondition ||
         status.code() == absl::StatusCode::kNotFound ||
         status.code() == absl::StatusCode::kInvalidArgument;
}

}  // namespace

std::string DebitRequestId(const std::string& invoice_id) { return "billing:apply:" + invoice_id; }

absl::StatusOr<CreditApplication> BillingService::ApplyCredit(const ApplyCreditCommand& command) {
  GIFTCARD_RETURN_IF_ERROR(ValidateInvoiceId(command.invoice_id));
  GIFTCARD_RETURN_IF_ERROR(validate::Id("account_id", command.account_id));
  GIFTCARD_RETURN_IF_ERROR(money::ValidatePositive("amount_due", command.amount_due));

  CreditApplication pending;
  pending.invoice_id = command.invoice_id;
  pending.account_id = command.account_id;
  pending.amount_due = command.amount_due;
  GIFTCARD_ASSIGN_OR_RETURN(CreditApplication recorded, store_.Start(pending));
  if (recorded.account_id != command.account_id || !(recorded.amount_due == command.amount_due)) {
    return errors::Error(absl::StatusCode::kInvalidArgument, errors::reason::kRequestIdReused,
                         "invoice_id was already used with another account or amount",
                         {{"invoice_id", command.invoice_id}});
  }
  if (recorded.state != ApplicationState::kPending) return recorded;  // A replay.

  absl::StatusOr<DebitResult> debit =
      debit_.DebitUpTo(command.account_id, command.amount_due, DebitRequestId(command.invoice_id),
                       command.invoice_id);
  if (!debit.ok()) {
    if (IsDefiniteRefusal(debit.status())) {
      // Nothing was taken; forget the attempt so the invoice can be retried
      // once the cause (say, a missing account) is fixed.
      if (absl::Status s = store_.DropPending(command.invoice_id); !s.ok()) {
        log::Warning("drop_pending_failed", {{"invoice_id", command.invoice_id}});
      }
      return debit.status();
    }
    return errors::Error(absl::StatusCode::kUnavailable, errors::reason::kDependencyUnavailable,
                         "the credit could not be confirmed yet; retry with the same invoice_id",
                         {{"invoice_id", command.invoice_id}});
  }
  absl::StatusOr<CreditApplication> applied = store_.MarkApplied(
      command.invoice_id, debit->transfer_id, debit->amount_minor, debit->balance_after_minor);
  if (!applied.ok()) {
    // The debit is durable and idempotent: a retry records it.
    return errors::Error(absl::StatusCode::kUnavailable, errors::reason::kDependencyUnavailable,
                         "the application is being recorded; retry with the same invoice_id",
                         {{"invoice_id", command.invoice_id}});
  }
  return applied;
}

absl::StatusOr<CreditApplication> BillingService::GetCreditApplication(
    const std::string& invoice_id) {
  GIFTCARD_RETURN_IF_ERROR(ValidateInvoiceId(invoice_id));
  return store_.Get(invoice_id);
}

}  // namespace giftcard::billing

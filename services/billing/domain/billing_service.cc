#include "services/billing/domain/billing_service.h"

#include <optional>

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

// A PENDING application as its mark writes it, for an answer that does not
// wait for that write.
CreditApplication Applied(CreditApplication pending, const DebitResult& debit,
                          absl::Time update_time) {
  pending.state = ApplicationState::kApplied;
  pending.debit_transfer_id = debit.transfer_id;
  pending.applied_minor = debit.amount_minor;
  pending.remaining_credit_minor = debit.balance_after_minor;
  pending.update_time = update_time;
  pending.attempts = 0;
  return pending;
}

void WarnMarkFailed(const std::string& invoice_id, const absl::Status& status) {
  log::Warning("application_mark_failed",
               {{"invoice_id", invoice_id}, {"status", errors::Describe(status)}});
}

}  // namespace

std::string DebitRequestId(const std::string& invoice_id) { return "billing:apply:" + invoice_id; }

std::string ReversalRequestId(const std::string& invoice_id) {
  return "billing:reverse:" + invoice_id;
}

absl::StatusOr<CreditApplication> BillingService::ApplyCredit(const ApplyCreditCommand& command) {
  std::optional<absl::StatusOr<CreditApplication>> answer;
  StartApplyCredit(SyncPorts(), command,
                   [&answer](absl::StatusOr<CreditApplication> a) { answer = std::move(a); });
  if (!answer) return absl::InternalError("the blocking ports left an application unanswered");
  return *std::move(answer);
}

void BillingService::StartApplyCredit(ApplyPorts ports, ApplyCreditCommand command,
                                      ApplyDone done) {
  absl::Status valid = ValidateInvoiceId(command.invoice_id);
  if (valid.ok()) valid = validate::Id("account_id", command.account_id);
  if (valid.ok()) valid = money::ValidatePositive("amount_due", command.amount_due);
  if (!valid.ok()) return std::move(done)(valid);

  CreditApplication pending;
  pending.invoice_id = command.invoice_id;
  pending.account_id = command.account_id;
  pending.amount_due = command.amount_due;
  ports.store.Start(pending, [this, ports, command, done = std::move(done)](
                                 absl::StatusOr<CreditApplication> recorded) mutable {
    if (!recorded.ok()) return std::move(done)(recorded.status());
    if (recorded->account_id != command.account_id ||
        !(recorded->amount_due == command.amount_due)) {
      return std::move(done)(
          errors::Error(absl::StatusCode::kInvalidArgument, errors::reason::kRequestIdReused,
                        "invoice_id was already used with another account or amount",
                        {{"invoice_id", command.invoice_id}}));
    }
    if (recorded->state != ApplicationState::kPending) {
      return std::move(done)(std::move(recorded));  // A replay.
    }
    recorded->traceparent = command.traceparent;
    FinishApplyAsync(ports, *recorded, options_.answer_before_mark, std::move(done));
  });
}

absl::StatusOr<CreditApplication> BillingService::FinishApply(const CreditApplication& pending) {
  std::optional<absl::StatusOr<CreditApplication>> answer;
  FinishApplyAsync(SyncPorts(), pending, false,
                   [&answer](absl::StatusOr<CreditApplication> a) { answer = std::move(a); });
  if (!answer) return absl::InternalError("the blocking ports left an application unanswered");
  return *std::move(answer);
}

void BillingService::FinishApplyAsync(ApplyPorts ports, const CreditApplication& pending,
                                      bool answer_first, ApplyDone done) {
  ports.debit.DebitUpTo(
      pending.account_id, pending.amount_due, DebitRequestId(pending.invoice_id),
      pending.invoice_id, pending.traceparent,
      [this, ports, pending, answer_first,
       done = std::move(done)](absl::StatusOr<DebitResult> debit) mutable {
        if (!debit.ok()) {
          if (errors::IsRecordedDecision(debit.status())) {
            // Nothing was taken, and the refusal is this invoice's answer:
            // account-credit keeps it under the debit's request id, so a
            // retry of the invoice gets it again. No pending record is left
            // behind. Any other error (UNAUTHENTICATED, INVALID_ARGUMENT, a
            // deadline) says nothing about the debit: the application stays
            // PENDING.
            const absl::Status refusal = debit.status();
            ports.store.DropPending(
                pending.invoice_id, [invoice_id = pending.invoice_id, refusal,
                                     done = std::move(done)](absl::Status dropped) mutable {
                  if (!dropped.ok()) {
                    log::Warning("drop_pending_failed", {{"invoice_id", invoice_id}});
                  }
                  std::move(done)(refusal);
                });
            return;
          }
          unknown_outcomes_.fetch_add(1);
          if (pending.attempts <= 1) {  // When it becomes stuck, not on every retry.
            log::Warning("debit_outcome_unknown", {{"invoice_id", pending.invoice_id},
                                                   {"status", errors::Describe(debit.status())}});
          }
          return std::move(done)(
              errors::Error(absl::StatusCode::kUnavailable, errors::reason::kDependencyUnavailable,
                            "the credit could not be confirmed yet; retry with the same invoice_id",
                            {{"invoice_id", pending.invoice_id}}));
        }
        RecordDebitAsync(ports, pending, *debit, answer_first, std::move(done));
      });
}

void BillingService::RecordDebitAsync(ApplyPorts ports, const CreditApplication& pending,
                                      const DebitResult& debit, bool answer_first, ApplyDone done) {
  // The mark's time is ours, in whole microseconds as Postgres keeps it, so
  // an answer given before the mark commits is what a replay reads.
  const absl::Time update_time = absl::FromUnixMicros(absl::ToUnixMicros(absl::Now()));
  if (answer_first) {
    // Answered once the mark is ordered before anything this service does
    // next (a retry's read, another insert): they see it, unless it fails,
    // which leaves the application PENDING for the recovery worker to mark
    // with the same debit.
    ports.store.MarkAppliedOrdered(
        pending.invoice_id, debit, update_time,
        [done = std::move(done), answer = Applied(pending, debit, update_time)]() mutable {
          std::move(done)(std::move(answer));
        },
        [invoice_id = pending.invoice_id](absl::StatusOr<CreditApplication> applied) {
          if (!applied.ok()) WarnMarkFailed(invoice_id, applied.status());
        });
    return;
  }
  ports.store.MarkApplied(
      pending.invoice_id, debit, update_time,
      [invoice_id = pending.invoice_id,
       done = std::move(done)](absl::StatusOr<CreditApplication> applied) mutable {
        if (!applied.ok()) {
          // The debit is durable and idempotent: a retry records it.
          WarnMarkFailed(invoice_id, applied.status());
          return std::move(done)(
              errors::Error(absl::StatusCode::kUnavailable, errors::reason::kDependencyUnavailable,
                            "the application is being recorded; retry with the same invoice_id",
                            {{"invoice_id", invoice_id}}));
        }
        std::move(done)(std::move(applied));
      });
}

absl::StatusOr<CreditApplication> BillingService::ReverseCredit(const std::string& invoice_id,
                                                                const std::string& reason) {
  GIFTCARD_RETURN_IF_ERROR(ValidateInvoiceId(invoice_id));
  GIFTCARD_RETURN_IF_ERROR(validate::Text("reason", reason, 512));
  GIFTCARD_ASSIGN_OR_RETURN(CreditApplication app, store_.Get(invoice_id));
  if (app.state == ApplicationState::kPending) {
    // The application itself is unsettled: settle it first.
    GIFTCARD_ASSIGN_OR_RETURN(app, FinishApply(app));
  }
  if (app.state == ApplicationState::kReversed) return app;  // A replay.
  if (app.state == ApplicationState::kApplied) {
    GIFTCARD_ASSIGN_OR_RETURN(app, store_.MarkReversalPending(invoice_id, reason));
  }
  if (app.state != ApplicationState::kReversalPending) return app;
  return FinishReversal(app);
}

absl::StatusOr<CreditApplication> BillingService::FinishReversal(const CreditApplication& pending) {
  if (pending.applied_minor == 0) {
    // Nothing was taken, so nothing goes back.
    return store_.MarkReversed(pending.invoice_id, "", pending.remaining_credit_minor);
  }
  absl::StatusOr<DebitResult> reversal =
      debit_.Reverse(pending.debit_transfer_id, ReversalRequestId(pending.invoice_id));
  if (!reversal.ok()) {
    // Only a refusal account-credit recorded for the reversal's request id
    // puts the application back to APPLIED.
    if (errors::IsRecordedDecision(reversal.status())) {
      log::Warning("reversal_refused", {{"invoice_id", pending.invoice_id},
                                        {"status", errors::Describe(reversal.status())}});
      (void)store_.CancelReversal(pending.invoice_id);
      return reversal.status();
    }
    unknown_outcomes_.fetch_add(1);
    if (pending.attempts <= 1) {
      log::Warning("reversal_outcome_unknown", {{"invoice_id", pending.invoice_id},
                                                {"status", errors::Describe(reversal.status())}});
    }
    return errors::Error(absl::StatusCode::kUnavailable, errors::reason::kDependencyUnavailable,
                         "the reversal could not be confirmed yet; retry with the same invoice_id",
                         {{"invoice_id", pending.invoice_id}});
  }
  absl::StatusOr<CreditApplication> reversed =
      store_.MarkReversed(pending.invoice_id, reversal->transfer_id, reversal->balance_after_minor);
  if (!reversed.ok()) {
    return errors::Error(absl::StatusCode::kUnavailable, errors::reason::kDependencyUnavailable,
                         "the reversal is being recorded; retry with the same invoice_id",
                         {{"invoice_id", pending.invoice_id}});
  }
  return reversed;
}

int BillingService::RecoverUnsettled(absl::Duration min_age, int limit) {
  // Claimed rows are this worker's until their next attempt time (a lease
  // that grows with each attempt): replicas split the work, and an invoice
  // that keeps failing waits its turn behind the others.
  absl::StatusOr<std::vector<CreditApplication>> unsettled = store_.ClaimUnsettled(min_age, limit);
  if (!unsettled.ok()) {
    log::Warning("recovery_scan_failed", {{"status", errors::Describe(unsettled.status())}});
    return 0;
  }
  int settled = 0;
  for (const CreditApplication& app : *unsettled) {
    absl::StatusOr<CreditApplication> outcome =
        app.state == ApplicationState::kPending ? FinishApply(app) : FinishReversal(app);
    const bool definite = outcome.ok() || errors::IsRecordedDecision(outcome.status());
    if (definite) {
      log::Info("recovery_settled", {{"invoice_id", app.invoice_id}, {"attempts", app.attempts}});
    }
    settled += definite ? 1 : 0;
  }
  return settled;
}

absl::StatusOr<CreditApplication> BillingService::GetCreditApplication(
    const std::string& invoice_id) {
  GIFTCARD_RETURN_IF_ERROR(ValidateInvoiceId(invoice_id));
  return store_.Get(invoice_id);
}

}  // namespace giftcard::billing

// Billing's rules (DESIGN.md "Billing"): an invoice takes
// min(balance, amount_due) of credit exactly once. The application is
// recorded PENDING before the debit, and the debit is idempotent on a request
// id derived from the invoice id, so a retry after any failure finishes the
// same debit instead of making a second one.
#ifndef GIFTCARD_SERVICES_BILLING_DOMAIN_BILLING_SERVICE_H_
#define GIFTCARD_SERVICES_BILLING_DOMAIN_BILLING_SERVICE_H_

#include <atomic>
#include <string>

#include "absl/status/statusor.h"
#include "services/billing/domain/apply_ports.h"
#include "services/billing/domain/ports.h"

namespace giftcard::billing {

// Invoice ids are shorter than other ids: the debit's request id is
// "billing:apply:" + invoice_id and must fit account-credit's 128.
inline constexpr size_t kMaxInvoiceIdLength = 96;

struct ApplyCreditCommand {
  std::string invoice_id;
  std::string account_id;
  money::Money amount_due;
  // The call's trace context, for the calls it makes; may be "". Optional, so
  // an aggregate initializer may leave it out.
  std::string traceparent{};
};

// The request ids of the debit for an invoice, and of its reversal.
std::string DebitRequestId(const std::string& invoice_id);
std::string ReversalRequestId(const std::string& invoice_id);

class BillingService {
 public:
  struct Options {
    // StartApplyCredit answers once the debit is durable in account-credit
    // and the mark of the application is sent (ordered before whatever the
    // store runs next), not once the mark is committed. A mark that fails
    // leaves the application PENDING for the recovery worker, which gets
    // the same debit again (its request id is the invoice's) and marks it.
    bool answer_before_mark = false;
  };
  BillingService(ApplicationStore& store, DebitGateway& debit)
      : BillingService(store, debit, Options{}) {}
  BillingService(ApplicationStore& store, DebitGateway& debit, Options options)
      : store_(store), debit_(debit), sync_store_(store), sync_debit_(debit), options_(options) {}

  // The saga through the blocking ports: returns its answer.
  absl::StatusOr<CreditApplication> ApplyCredit(const ApplyCreditCommand& command);
  using ApplyDone = Callback<absl::StatusOr<CreditApplication>>;
  // The same saga without waiting: each step asks `ports` and goes on in
  // its callback; `done` gets the answer on the thread the ports answer on
  // (the engine's, in the service). The ports outlive the call.
  void StartApplyCredit(ApplyPorts ports, ApplyCreditCommand command, ApplyDone done);
  // Puts the credit an invoice took back on the account, exactly once.
  absl::StatusOr<CreditApplication> ReverseCredit(const std::string& invoice_id,
                                                  const std::string& reason);
  absl::StatusOr<CreditApplication> GetCreditApplication(const std::string& invoice_id);

  // The recovery worker's pass: finishes applications left PENDING or
  // REVERSAL_PENDING by a crash or an unreachable account-credit. Returns
  // how many it settled.
  int RecoverUnsettled(absl::Duration min_age, int limit);

  // Debit and reversal calls whose outcome stayed unknown (left unsettled).
  int64_t unknown_outcome_count() const { return unknown_outcomes_.load(); }

 private:
  // Debit, then record it or drop the refused application: the saga's
  // second half, shared by a call and the recovery worker.
  absl::StatusOr<CreditApplication> FinishApply(const CreditApplication& pending);
  // `answer_first`: Options::answer_before_mark (a call's saga only; the
  // recovery worker counts only what it settled).
  void FinishApplyAsync(ApplyPorts ports, const CreditApplication& pending, bool answer_first,
                        ApplyDone done);
  // Marks the application APPLIED with `debit`, and answers.
  void RecordDebitAsync(ApplyPorts ports, const CreditApplication& pending,
                        const DebitResult& debit, bool answer_first, ApplyDone done);
  ApplyPorts SyncPorts() { return {sync_store_, sync_debit_}; }
  absl::StatusOr<CreditApplication> FinishReversal(const CreditApplication& pending);

  ApplicationStore& store_;
  DebitGateway& debit_;
  SyncApplicationStore sync_store_;
  SyncDebit sync_debit_;
  const Options options_;
  std::atomic<int64_t> unknown_outcomes_{0};
};

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_DOMAIN_BILLING_SERVICE_H_

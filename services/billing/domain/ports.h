// What billing's domain needs: its store (Postgres, storage/pg_application_store.h)
// and the debit side (account-credit over gRPC, peers/account_credit_gateway.h).
#ifndef GIFTCARD_SERVICES_BILLING_DOMAIN_PORTS_H_
#define GIFTCARD_SERVICES_BILLING_DOMAIN_PORTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/billing/domain/model.h"

namespace giftcard::billing {

// The longest an unsettled application waits between two recovery attempts.
inline constexpr absl::Duration kMaxRetryBackoff = absl::Minutes(5);

class ApplicationStore {
 public:
  virtual ~ApplicationStore() = default;
  // Records a PENDING application, or returns the one already recorded for
  // this invoice (whatever its state and parameters: the domain compares).
  virtual absl::StatusOr<CreditApplication> Start(const CreditApplication& pending) = 0;
  // PENDING → APPLIED at `update_time`; returns the final record (already
  // applied is fine).
  virtual absl::StatusOr<CreditApplication> MarkApplied(const std::string& invoice_id,
                                                        const std::string& transfer_id,
                                                        int64_t applied_minor,
                                                        int64_t remaining_credit_minor,
                                                        absl::Time update_time) = 0;
  // Forgets a PENDING application whose debit was definitely refused.
  virtual absl::Status DropPending(const std::string& invoice_id) = 0;
  // APPLIED → REVERSAL_PENDING (other states unchanged); returns the record.
  virtual absl::StatusOr<CreditApplication> MarkReversalPending(const std::string& invoice_id,
                                                                const std::string& reason) = 0;
  // REVERSAL_PENDING → REVERSED, or back to APPLIED when the reversal was refused.
  virtual absl::StatusOr<CreditApplication> MarkReversed(const std::string& invoice_id,
                                                         const std::string& reversal_transfer_id,
                                                         int64_t remaining_credit_minor) = 0;
  virtual absl::StatusOr<CreditApplication> CancelReversal(const std::string& invoice_id) = 0;
  // Claims up to `limit` PENDING and REVERSAL_PENDING applications unchanged
  // for `min_age` whose next attempt is due, most overdue first, skipping
  // rows another worker holds; each claimed row's attempt count grows by one
  // and its next attempt moves out by a backoff (min_age doubling per
  // attempt, at most kMaxRetryBackoff), which is also the claim's lease.
  virtual absl::StatusOr<std::vector<CreditApplication>> ClaimUnsettled(absl::Duration min_age,
                                                                        int limit) = 0;
  // NOT_FOUND/INVOICE_NOT_FOUND when absent.
  virtual absl::StatusOr<CreditApplication> Get(const std::string& invoice_id) = 0;
};

struct DebitResult {
  std::string transfer_id;
  int64_t amount_minor = 0;
  int64_t balance_after_minor = 0;
};

class DebitGateway {
 public:
  virtual ~DebitGateway() = default;
  // Takes min(balance, max_amount) off the account, idempotent on request_id.
  // `traceparent`: the trace of the call the debit is for ("" for none).
  virtual absl::StatusOr<DebitResult> DebitUpTo(const std::string& account_id,
                                                const money::Money& max_amount,
                                                const std::string& request_id,
                                                const std::string& reference,
                                                const std::string& traceparent) = 0;
  // Puts a debit back (a reversal transfer), idempotent on request_id.
  virtual absl::StatusOr<DebitResult> Reverse(const std::string& transfer_id,
                                              const std::string& request_id) = 0;
};

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_DOMAIN_PORTS_H_

// ApplicationStore on Postgres; invoice_id is the primary key, so concurrent
// ApplyCredit calls for one invoice share one row.
#ifndef GIFTCARD_SERVICES_BILLING_STORAGE_PG_APPLICATION_STORE_H_
#define GIFTCARD_SERVICES_BILLING_STORAGE_PG_APPLICATION_STORE_H_

#include <vector>

#include "pg/pool.h"
#include "services/billing/domain/ports.h"

namespace giftcard::billing {

class PgApplicationStore : public ApplicationStore {
 public:
  explicit PgApplicationStore(pg::Pool& pool) : pool_(pool) {}

  static std::vector<pg::Statement> Statements();

  absl::StatusOr<CreditApplication> Start(const CreditApplication& pending) override;
  absl::StatusOr<CreditApplication> MarkApplied(const std::string& invoice_id,
                                                const std::string& transfer_id,
                                                int64_t applied_minor,
                                                int64_t remaining_credit_minor) override;
  absl::Status DropPending(const std::string& invoice_id) override;
  absl::StatusOr<CreditApplication> MarkReversalPending(const std::string& invoice_id,
                                                        const std::string& reason) override;
  absl::StatusOr<CreditApplication> MarkReversed(const std::string& invoice_id,
                                                 const std::string& reversal_transfer_id,
                                                 int64_t remaining_credit_minor) override;
  absl::StatusOr<CreditApplication> CancelReversal(const std::string& invoice_id) override;
  absl::StatusOr<std::vector<CreditApplication>> ClaimUnsettled(absl::Duration min_age,
                                                                int limit) override;
  absl::StatusOr<CreditApplication> Get(const std::string& invoice_id) override;

 private:
  // Runs one statement on an invoice's row, then returns the row.
  absl::StatusOr<CreditApplication> UpdateThenGet(
      const std::string& invoice_id,
      const std::function<pqxx::result(pqxx::transaction_base&)>& update);

  pg::Pool& pool_;
};

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_STORAGE_PG_APPLICATION_STORE_H_

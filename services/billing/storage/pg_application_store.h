// ApplicationStore on Postgres; invoice_id is the primary key, so concurrent
// ApplyCredit calls for one invoice share one row. The two writes of every
// ApplyCredit, Start and MarkApplied, batch concurrent calls into one
// statement each (flat combining, libs/batch), each call with its answer.
#ifndef GIFTCARD_SERVICES_BILLING_STORAGE_PG_APPLICATION_STORE_H_
#define GIFTCARD_SERVICES_BILLING_STORAGE_PG_APPLICATION_STORE_H_

#include <vector>

#include "batch/batcher.h"
#include "pg/pool.h"
#include "services/billing/domain/ports.h"

namespace giftcard::billing {

class PgApplicationStore : public ApplicationStore {
 public:
  struct Options {
    size_t max_batch = 64;  // Calls per statement at most (1: each alone).
    int batches_in_flight = 1;
  };
  explicit PgApplicationStore(pg::Pool& pool) : PgApplicationStore(pool, Options{}) {}
  PgApplicationStore(pg::Pool& pool, Options options);

  static std::vector<pg::Statement> Statements();

  absl::StatusOr<CreditApplication> Start(const CreditApplication& pending) override;
  absl::StatusOr<CreditApplication> MarkApplied(const std::string& invoice_id,
                                                const std::string& transfer_id,
                                                int64_t applied_minor,
                                                int64_t remaining_credit_minor,
                                                absl::Time update_time) override;
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

  // What Start and MarkApplied run for a batch (bl_insert_many,
  // bl_mark_applied_many; a batch of one runs the single statement). Public
  // so that store tests can run a batch exactly.
  struct Applied {
    std::string invoice_id, transfer_id;
    int64_t applied_minor = 0, remaining_credit_minor = 0;
    int64_t update_time_us = 0;  // Microseconds since the epoch.
  };
  std::vector<absl::StatusOr<CreditApplication>> StartBatch(
      const std::vector<CreditApplication>& batch);
  std::vector<absl::StatusOr<CreditApplication>> MarkAppliedBatch(
      const std::vector<Applied>& batch);

 private:
  // Runs one statement on an invoice's row, then returns the row.
  absl::StatusOr<CreditApplication> UpdateThenGet(
      const std::string& invoice_id,
      const std::function<pqxx::result(pqxx::transaction_base&)>& update);

  // Each item's row from `rows` (by invoice id), else as it is now (bl_get);
  // `missing` answers an item without a row.
  std::vector<absl::StatusOr<CreditApplication>> RowsOrGet(
      pqxx::transaction_base& tx, const pqxx::result& rows, const std::vector<std::string>& ids,
      const std::function<absl::Status(const std::string&)>& missing);

  pg::Pool& pool_;
  batch::Batcher<CreditApplication, absl::StatusOr<CreditApplication>> starts_;
  batch::Batcher<Applied, absl::StatusOr<CreditApplication>> applied_;
};

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_STORAGE_PG_APPLICATION_STORE_H_

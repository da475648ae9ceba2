// LedgerStore on Postgres: the account row locked (SELECT … FOR UPDATE) so
// concurrent debits serialize on it and can never overdraw; the request_id
// primary key makes replays return the original. Concurrent credits and
// debits go together in one transaction (a batch: the accounts locked in
// account order, each posting decided on the balance the earlier ones left,
// every transfer written by one statement, one commit), each with its own
// answer; a reversal, or a posting alone, has a transaction of its own.
#ifndef GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_PG_LEDGER_STORE_H_
#define GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_PG_LEDGER_STORE_H_

#include <vector>

#include "batch/batcher.h"
#include "pg/pool.h"
#include "services/account_credit/domain/ledger_store.h"

namespace giftcard::account_credit {

class PgLedgerStore : public LedgerStore {
 public:
  struct Options {
    size_t max_batch = 64;  // Postings per transaction at most (1: each alone).
    int batches_in_flight = 2;
    // Where ListEntries reads (a standby: a statement may lag the primary
    // by the replication delay); nullptr: the primary's pool.
    pg::Pool* standby = nullptr;
  };

  explicit PgLedgerStore(pg::Pool& pool) : PgLedgerStore(pool, Options{}) {}
  PgLedgerStore(pg::Pool& pool, Options options);

  // The named statements this store uses; the pool prepares them.
  static std::vector<pg::Statement> Statements();

  absl::StatusOr<Account> UpsertAccount(const Account& account,
                                        std::optional<bool> closed) override;
  absl::StatusOr<Account> GetAccount(const std::string& account_id) override;
  absl::StatusOr<Transfer> Post(const Posting& posting) override;
  // max_batch postings to a transaction (reversals alone), on this thread:
  // a batch call brings its own batch.
  std::vector<absl::StatusOr<Transfer>> PostAll(const std::vector<Posting>& postings) override;
  absl::StatusOr<EntryPage> ListEntries(const std::string& account_id, int64_t before_entry_id,
                                        int limit, const TimeRange& range) override;

  // Postings waiting for a batch (tests make batches happen with it).
  size_t queued_postings() const { return postings_.queued(); }

 private:
  absl::StatusOr<Transfer> PostOne(const Posting& posting);
  std::vector<absl::StatusOr<Transfer>> PostBatch(const std::vector<Posting>& batch);

  pg::Pool& pool_;
  const Options options_;
  batch::Batcher<Posting, absl::StatusOr<Transfer>> postings_;
};

}  // namespace giftcard::account_credit

#endif  // GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_PG_LEDGER_STORE_H_

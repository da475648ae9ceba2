// LedgerStore on Postgres: one transaction per posting, the account row locked
// (SELECT … FOR UPDATE) so concurrent debits serialize on it and can never
// overdraw; the request_id primary key makes replays return the original.
#ifndef GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_PG_LEDGER_STORE_H_
#define GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_PG_LEDGER_STORE_H_

#include <vector>

#include "pg/pool.h"
#include "services/account_credit/domain/ledger_store.h"

namespace giftcard::account_credit {

class PgLedgerStore : public LedgerStore {
 public:
  explicit PgLedgerStore(pg::Pool& pool) : pool_(pool) {}

  // The named statements this store uses; the pool prepares them.
  static std::vector<pg::Statement> Statements();

  absl::StatusOr<Account> UpsertAccount(const Account& account,
                                        std::optional<bool> closed) override;
  absl::StatusOr<Account> GetAccount(const std::string& account_id) override;
  absl::StatusOr<Transfer> Post(const Posting& posting) override;
  absl::StatusOr<EntryPage> ListEntries(const std::string& account_id, int64_t before_entry_id,
                                        int limit) override;

 private:
  pg::Pool& pool_;
};

}  // namespace giftcard::account_credit

#endif  // GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_PG_LEDGER_STORE_H_

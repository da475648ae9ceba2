// What the account-credit domain needs from storage. The Postgres
// implementation is storage/pg_ledger_store.h; unit tests use a fake.
#ifndef GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_LEDGER_STORE_H_
#define GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_LEDGER_STORE_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "domain/model.h"

namespace giftcard::account_credit {

// A posting the domain asks storage to make atomically. Storage:
//  1. returns the transfer already recorded under `request_id` when its
//     fingerprint matches (a replay), or REQUEST_ID_REUSED when it does not;
//  2. otherwise locks the account, asks `decide` how much to move (the
//     domain's rules run on the locked row: eligibility, partial debits);
//  3. records the transfer and its two entries and updates the balance, all
//     in one transaction.
// A definite refusal (FAILED_PRECONDITION or NOT_FOUND, from `decide` or for
// a missing account) is recorded under the request_id and returned to every
// replay; other `decide` errors write nothing.
struct Posting {
  TransferKind kind = TransferKind::kCredit;
  std::string account_id;
  std::string counter_account_id;  // The system account on the other side.
  std::string currency_code;
  std::string request_id;
  std::string request_fingerprint;
  std::string reference;
  // Signed direction for the customer: +1 credit, -1 debit.
  int direction = +1;
  // Amount to move given the locked account (0 allowed: a transfer without entries).
  std::function<absl::StatusOr<int64_t>(const Account&)> decide;
};

class LedgerStore {
 public:
  virtual ~LedgerStore() = default;

  // Creates or updates the account's attributes. FAILED_PRECONDITION when
  // the currency would change while the account holds credit.
  virtual absl::StatusOr<Account> UpsertAccount(const Account& account) = 0;
  // NOT_FOUND/ACCOUNT_NOT_FOUND when absent.
  virtual absl::StatusOr<Account> GetAccount(const std::string& account_id) = 0;
  // See Posting.
  virtual absl::StatusOr<Transfer> Post(const Posting& posting) = 0;
};

}  // namespace giftcard::account_credit

#endif  // GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_LEDGER_STORE_H_

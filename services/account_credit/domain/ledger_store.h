// What the account-credit domain needs from storage. The Postgres
// implementation is storage/pg_ledger_store.h; unit tests use a fake.
#ifndef GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_LEDGER_STORE_H_
#define GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_LEDGER_STORE_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "services/account_credit/domain/model.h"

namespace giftcard::account_credit {

// What a posting's rules see: the locked customer account and, for a
// reversal, the transfer being reversed and whether it already was.
struct PostingContext {
  const Account& account;
  const Transfer* original = nullptr;
  bool original_reversed = false;
};

// How much moves, and which way for the customer (+1 in, -1 out). An amount
// of 0 records a transfer without entries. A clawback adds what it could not
// take to the account's owed amount; a credit pays owed first, and storage
// moves that part back in a repayment transfer in the same transaction.
struct Movement {
  int64_t amount_minor = 0;
  int direction = +1;
  int64_t owed_added_minor = 0;
  int64_t owed_repaid_minor = 0;
};

// A posting the domain asks storage to make atomically. Storage:
//  1. returns the transfer already recorded under `request_id` when its
//     fingerprint matches (a replay), the recorded refusal likewise, or
//     REQUEST_ID_REUSED when the fingerprint differs;
//  2. for a reversal, loads the original transfer (TRANSFER_NOT_FOUND if
//     none), whose account and counter account the reversal uses;
//  3. locks the customer account and asks `decide` what moves — the domain's
//     rules run on the locked row (eligibility, partial debits, reversals);
//  4. records the transfer, its two entries, the new balance and owed amount
//     and, when the movement repays owed, the repayment transfer, all in one
//     transaction.
// A definite refusal (FAILED_PRECONDITION or NOT_FOUND, from `decide` or for
// a missing account or transfer) is recorded under the request_id and
// returned to every replay; other errors write nothing.
struct Posting {
  TransferKind kind = TransferKind::kCredit;
  std::string account_id;          // Empty for a reversal: the original's.
  std::string counter_account_id;  // Empty for a reversal: the original's.
  std::string currency_code;       // Empty for a reversal: the original's.
  std::string reverses_transfer_id;
  std::string request_id;
  std::string request_fingerprint;
  std::string reference;
  std::function<absl::StatusOr<Movement>(const PostingContext&)> decide;
};

struct EntryPage {
  std::vector<LedgerEntry> entries;
  bool more = false;
};

// [start, end); an unset side is unbounded.
struct TimeRange {
  std::optional<absl::Time> start = std::nullopt;
  std::optional<absl::Time> end = std::nullopt;
};

class LedgerStore {
 public:
  virtual ~LedgerStore() = default;

  // Creates or updates the account's attributes (`closed` unset: keep the
  // stored state). FAILED_PRECONDITION/CURRENCY_LOCKED when the currency
  // would change once the account has a ledger entry.
  virtual absl::StatusOr<Account> UpsertAccount(const Account& account,
                                                std::optional<bool> closed) = 0;
  // NOT_FOUND/ACCOUNT_NOT_FOUND when absent.
  virtual absl::StatusOr<Account> GetAccount(const std::string& account_id) = 0;
  // See Posting.
  virtual absl::StatusOr<Transfer> Post(const Posting& posting) = 0;
  // Every posting as Post makes it, one answer each, in order; a store that
  // can makes them together (one transaction for many). By default one by one.
  virtual std::vector<absl::StatusOr<Transfer>> PostAll(const std::vector<Posting>& postings) {
    std::vector<absl::StatusOr<Transfer>> out;
    out.reserve(postings.size());
    for (const Posting& p : postings) out.push_back(Post(p));
    return out;
  }
  // The account's entries with entry_id < before_entry_id (0: from the
  // newest) written within `range`, newest first. ACCOUNT_NOT_FOUND for an
  // unknown customer account.
  virtual absl::StatusOr<EntryPage> ListEntries(const std::string& account_id,
                                                int64_t before_entry_id, int limit,
                                                const TimeRange& range) = 0;
};

template <typename T>
using Callback = absl::AnyInvocable<void(T) &&>;
using PostAllDone = Callback<std::vector<absl::StatusOr<Transfer>>>;

// LedgerStore::PostAll without waiting: the answers come through `done`.
// The engine's store (storage/loop_ledger_store.h) answers on the engine's
// thread; SyncPostings answers at once through a blocking LedgerStore.
class AsyncPostings {
 public:
  virtual ~AsyncPostings() = default;
  virtual void PostAll(std::vector<Posting> postings, PostAllDone done) = 0;
};

class SyncPostings : public AsyncPostings {
 public:
  explicit SyncPostings(LedgerStore& store) : store_(store) {}
  void PostAll(std::vector<Posting> postings, PostAllDone done) override {
    std::move(done)(store_.PostAll(postings));
  }

 private:
  LedgerStore& store_;
};

}  // namespace giftcard::account_credit

#endif  // GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_LEDGER_STORE_H_

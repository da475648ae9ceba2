// An in-memory fake of account-credit's LedgerStore, for unit tests of its rules.
#ifndef GIFTCARD_TESTS_SUPPORT_FAKES_ACCOUNT_CREDIT_FAKES_H_
#define GIFTCARD_TESTS_SUPPORT_FAKES_ACCOUNT_CREDIT_FAKES_H_

#include <map>
#include <optional>
#include <string>
#include <utility>

#include "errors/status.h"
#include "services/account_credit/domain/ledger_store.h"

namespace giftcard::account_credit::fakes {

class FakeLedgerStore : public LedgerStore {
 public:
  std::map<std::string, Account> accounts;
  std::map<std::string, std::pair<std::string, Transfer>> transfers;  // request → (fingerprint, t)
  int posts = 0;

  absl::StatusOr<Account> UpsertAccount(const Account& a, std::optional<bool> closed) override {
    Account stored = a;
    stored.closed = closed.value_or(accounts.count(a.account_id) && accounts[a.account_id].closed);
    return accounts[a.account_id] = stored;
  }
  absl::StatusOr<Account> GetAccount(const std::string& id) override {
    if (!accounts.count(id))
      return errors::Error(absl::StatusCode::kNotFound, errors::reason::kAccountNotFound, "");
    return accounts[id];
  }
  absl::StatusOr<Transfer> Post(const Posting& p) override {
    ++posts;
    if (transfers.count(p.request_id)) {
      if (transfers[p.request_id].first != p.request_fingerprint) {
        return errors::Error(absl::StatusCode::kInvalidArgument, errors::reason::kRequestIdReused,
                             "");
      }
      return transfers[p.request_id].second;
    }
    if (!accounts.count(p.account_id)) {
      return errors::Error(absl::StatusCode::kNotFound, errors::reason::kAccountNotFound, "");
    }
    Account& a = accounts[p.account_id];
    auto movement = p.decide(PostingContext{a});
    if (!movement.ok()) return movement.status();
    a.balance_minor += movement->direction * movement->amount_minor - movement->owed_repaid_minor;
    a.owed_minor += movement->owed_added_minor - movement->owed_repaid_minor;
    Transfer t;
    t.request_id = p.request_id;
    t.amount = money::Money{p.currency_code, movement->amount_minor};
    t.balance_after_minor = a.balance_minor;
    t.owed_added_minor = movement->owed_added_minor;
    t.owed_repaid_minor = movement->owed_repaid_minor;
    transfers[p.request_id] = {p.request_fingerprint, t};
    return t;
  }
  absl::StatusOr<EntryPage> ListEntries(const std::string&, int64_t, int,
                                        const TimeRange&) override {
    return EntryPage{};
  }
};

}  // namespace giftcard::account_credit::fakes

#endif  // GIFTCARD_TESTS_SUPPORT_FAKES_ACCOUNT_CREDIT_FAKES_H_

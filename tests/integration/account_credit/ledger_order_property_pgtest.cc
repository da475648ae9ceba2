// The order of operations never changes where the money ends (DESIGN.md,
// Ledger): random interleavings of redeem, apply, reverse and clawback on one
// account each, run by the account-credit domain on its Postgres store,
// checked step by step against a model a reader can hold in their head, and
// at the end against the formula that does not depend on order and against
// the operator's audit. Accounts run four at a time, so credits of different
// accounts share batches as they do in the service.
//
// GIFTCARD_PROPERTY_SEED=<n> replays one run; GIFTCARD_PROPERTY_TRIALS=<n>
// runs more (CI: the default, 1,000).
#include <gtest/gtest.h>

#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "audit/audit.h"
#include "pg/migrations.h"
#include "pg/pool.h"
#include "services/account_credit/account_credit_migrations.h"
#include "services/account_credit/domain/account_service.h"
#include "services/account_credit/storage/pg_audit_facts.h"
#include "services/account_credit/storage/pg_ledger_store.h"
#include "support/harness.h"

namespace giftcard::account_credit {
namespace {

// The model: a balance and an owed amount. A credit pays owed first; a
// debit takes at most the balance; a clawback takes what the balance holds
// and owes the rest. Its invariant: balance - owed is the sum of what came
// in minus what went out, whatever the order.
struct Model {
  int64_t balance = 0, owed = 0;
  int64_t net_in = 0;  // Credits and reversals in, less clawbacks (whole) and debits.

  int64_t Credit(int64_t amount) {  // Returns what it repaid.
    const int64_t repaid = std::min(amount, owed);
    owed -= repaid;
    balance += amount - repaid;
    net_in += amount;
    return repaid;
  }
  int64_t Debit(int64_t amount) {
    const int64_t taken = std::min(amount, balance);
    balance -= taken;
    net_in -= taken;
    return taken;
  }
  int64_t ClawBack(int64_t amount) {  // Returns what it took from the balance.
    const int64_t taken = std::min(amount, balance);
    balance -= taken;
    owed += amount - taken;
    net_in -= amount;
    return taken;
  }
};

struct Redemption {
  std::string request_id, serial, transfer_id;
  int64_t amount = 0;
  bool clawed_back = false;
  std::string clawback_request_id;
  int64_t clawed_back_minor = 0;
};

struct Invoice {
  std::string invoice_id, debit_transfer_id, reversal_transfer_id;
  int64_t applied = 0;
  bool reversed = false;
};

// One account's run: what happened, for the audit's facts and for a reader
// of a failure.
struct Trial {
  std::string account;
  Model model;
  std::vector<Redemption> redemptions;
  std::vector<Invoice> invoices;
  std::vector<std::string> steps;
  bool failed = false;
};

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoull(v, nullptr, 10) : fallback;
}

class LedgerOrderPropertyTest : public ::testing::Test {
 protected:
  LedgerOrderPropertyTest()
      : dsn_(testing::CreateDatabase(testing::TestServers::Get().pg_port, "ledger_order")),
        migrated_(pg::Migrate(dsn_, Migrations(), kMigrationLockKey)),
        pool_({.dsn = dsn_, .size = 6}, Statements()),
        store_(pool_, {.max_batch = 64, .batches_in_flight = 2}),
        service_(store_) {}

  static std::vector<pg::Statement> Statements() {
    std::vector<pg::Statement> all = PgLedgerStore::Statements();
    for (const auto& s : AuditStatements()) all.push_back(s);
    return all;
  }

  // Runs `steps` random operations on a new account, each answer checked
  // against the model's (a mismatch is a test failure; the run stops).
  // A mismatch with the model fails the test with the trial's story and
  // stops this trial.
  template <typename T>
  static bool Expect(Trial& trial, const T& got, const T& want, const char* what) {
    if (got == want) return true;
    trial.failed = true;
    ADD_FAILURE() << trial.account << ": " << what << " is " << got << ", the model says " << want
                  << "\n  after: " << absl::StrJoin(trial.steps, ", ");
    return false;
  }

  void RunTrial(std::mt19937_64& rng, Trial& trial, int steps) {
    Account a;
    a.account_id = trial.account;
    a.country = "DE";
    a.currency_code = "EUR";
    a.billing_channel = BillingChannel::kDirect;
    ASSERT_TRUE(service_.UpsertAccount(a, std::nullopt).ok());
    auto pick = [&](int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); };
    for (int k = 0; k < steps; ++k) {
      const std::string tag = absl::StrCat(trial.account, "-", k);
      std::vector<Redemption*> claw_candidates;
      for (auto& r : trial.redemptions) {
        if (!r.clawed_back) claw_candidates.push_back(&r);
      }
      std::vector<Invoice*> reverse_candidates;
      for (auto& inv : trial.invoices) {
        if (!inv.reversed && inv.applied > 0) reverse_candidates.push_back(&inv);
      }
      int op = static_cast<int>(pick(5));
      if (op == 2 && reverse_candidates.empty()) op = 0;
      if (op == 3 && claw_candidates.empty()) op = 0;
      if (op == 4 && trial.redemptions.empty()) op = 0;
      Model& m = trial.model;
      if (op == 0) {  // Redeem a card.
        static constexpr int64_t kCards[] = {300, 500, 1000, 2500};
        Redemption r;
        r.request_id = absl::StrCat("r-", tag);
        r.serial = absl::StrCat("GC", tag);
        r.amount = kCards[pick(4)];
        const int64_t repaid = m.Credit(r.amount);
        trial.steps.push_back(absl::StrCat("redeem ", r.amount));
        auto t = service_.CreditAccount(
            {trial.account, {"EUR", r.amount}, "DE", r.request_id, r.serial});
        if (!Expect(trial, t.status().ToString(), std::string("OK"), "status")) return;
        Expect(trial, t->amount.amount_minor, r.amount, "amount");
        Expect(trial, t->owed_repaid_minor, repaid, "owed repaid");
        Expect(trial, t->balance_after_minor, m.balance, "balance after");
        r.transfer_id = t->transfer_id;
        trial.redemptions.push_back(r);
      } else if (op == 1) {  // Apply credit to an invoice (partial: what the balance has).
        static constexpr int64_t kInvoices[] = {200, 700, 1500, 3000};
        const int64_t due = kInvoices[pick(4)];
        Invoice inv;
        inv.invoice_id = absl::StrCat("inv-", tag);
        inv.applied = m.Debit(due);
        trial.steps.push_back(absl::StrCat("apply ", due, " (takes ", inv.applied, ")"));
        auto t = service_.DebitAccount(
            {trial.account, {"EUR", due}, true, "billing:apply:" + inv.invoice_id, inv.invoice_id});
        if (!Expect(trial, t.status().ToString(), std::string("OK"), "status")) return;
        Expect(trial, t->amount.amount_minor, inv.applied, "amount");
        Expect(trial, t->balance_after_minor, m.balance, "balance after");
        inv.debit_transfer_id = t->transfer_id;
        trial.invoices.push_back(inv);
      } else if (op == 2) {  // Reverse an invoice: its credit comes back.
        Invoice& inv = *reverse_candidates[pick(static_cast<int64_t>(reverse_candidates.size()))];
        const int64_t repaid = m.Credit(inv.applied);
        trial.steps.push_back(absl::StrCat("reverse ", inv.invoice_id, " (", inv.applied, ")"));
        auto t =
            service_.ReverseTransfer({inv.debit_transfer_id, "billing:reverse:" + inv.invoice_id});
        if (!Expect(trial, t.status().ToString(), std::string("OK"), "status")) return;
        Expect(trial, t->amount.amount_minor, inv.applied, "amount");
        Expect(trial, t->owed_repaid_minor, repaid, "owed repaid");
        Expect(trial, t->balance_after_minor, m.balance, "balance after");
        inv.reversed = true;
        inv.reversal_transfer_id = t->transfer_id;
      } else if (op == 3) {  // Claw back a redemption: the whole of it.
        Redemption& r = *claw_candidates[pick(static_cast<int64_t>(claw_candidates.size()))];
        const int64_t taken = m.ClawBack(r.amount);
        trial.steps.push_back(absl::StrCat("clawback ", r.serial, " (", r.amount, ")"));
        r.clawback_request_id = absl::StrCat("vault:clawback:", r.request_id);
        auto t = service_.ClawBackCredit({r.transfer_id, r.clawback_request_id});
        if (!Expect(trial, t.status().ToString(), std::string("OK"), "status")) return;
        Expect(trial, t->amount.amount_minor, taken, "amount");
        Expect(trial, t->owed_added_minor, r.amount - taken, "owed added");
        Expect(trial, t->balance_after_minor, m.balance, "balance after");
        r.clawed_back = true;
        r.clawed_back_minor = taken;
      } else {  // A retry of an earlier redemption: the first answer, nothing moves.
        const Redemption& r =
            trial.redemptions[pick(static_cast<int64_t>(trial.redemptions.size()))];
        trial.steps.push_back(absl::StrCat("retry redeem ", r.serial));
        auto t = service_.CreditAccount(
            {trial.account, {"EUR", r.amount}, "DE", r.request_id, r.serial});
        if (!Expect(trial, t.status().ToString(), std::string("OK"), "status")) return;
        Expect(trial, t->transfer_id, r.transfer_id, "transfer id of the retry");
      }
      if (trial.failed) return;
    }
  }

  const std::string dsn_;
  const absl::Status migrated_;
  pg::Pool pool_;
  PgLedgerStore store_;
  AccountService service_;
};

TEST_F(LedgerOrderPropertyTest, NoInterleavingChangesTheBalanceOrTheAmountOwed) {
  ASSERT_TRUE(migrated_.ok()) << migrated_;
  const uint64_t seed = EnvOr("GIFTCARD_PROPERTY_SEED", 20261205);
  const int trials = static_cast<int>(EnvOr("GIFTCARD_PROPERTY_TRIALS", 1000));
  constexpr int kThreads = 4;
  std::cout << "seed " << seed << ", " << trials << " interleavings\n";
  std::vector<Trial> all(trials);
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int i = w; i < trials; i += kThreads) {
        std::mt19937_64 rng(seed * 1000003 + static_cast<uint64_t>(i));
        all[i].account = absl::StrCat("acct-", i);
        RunTrial(rng, all[i], 4 + static_cast<int>(rng() % 9));
        if (all[i].failed) return;
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_FALSE(HasFailure()) << "seed " << seed;

  // The end state of each account: the model's, and what the order-free
  // formula says — balance minus owed is what came in less what went out.
  int clawbacks_with_owed = 0, repayments = 0;
  audit::VaultFacts vault;
  audit::BillingFacts billing;
  for (const Trial& trial : all) {
    auto account = service_.GetAccount(trial.account);
    ASSERT_TRUE(account.ok()) << account.status();
    const std::string story = absl::StrJoin(trial.steps, ", ");
    EXPECT_EQ(account->balance_minor, trial.model.balance) << trial.account << ": " << story;
    EXPECT_EQ(account->owed_minor, trial.model.owed) << trial.account << ": " << story;
    EXPECT_TRUE(account->owed_minor == 0 || account->balance_minor == 0) << story;
    int64_t in = 0;
    for (const Redemption& r : trial.redemptions) {
      in += r.clawed_back ? 0 : r.amount;
      vault.redemptions.push_back({r.request_id, trial.account, "COMPLETED", "EUR", r.amount});
      if (r.clawed_back) {
        clawbacks_with_owed += r.clawed_back_minor < r.amount;
        vault.clawbacks.push_back({r.request_id, r.request_id, "COMPLETED", r.clawback_request_id,
                                   "EUR", r.clawed_back_minor, "BLOCKED"});
      } else {
        vault.redeemed_codes.push_back({r.serial, r.request_id, trial.account});
      }
    }
    for (const Invoice& inv : trial.invoices) {
      in -= inv.reversed ? 0 : inv.applied;
      billing.applications.push_back({inv.invoice_id, trial.account,
                                      inv.reversed ? "REVERSED" : "APPLIED", inv.debit_transfer_id,
                                      inv.reversal_transfer_id, inv.applied});
    }
    EXPECT_EQ(account->balance_minor - account->owed_minor, in) << trial.account << ": " << story;
  }
  repayments = std::stoi(
      testing::QueryColumn(dsn_, "SELECT count(*) FROM transfers WHERE kind = 'REPAYMENT'").at(0));
  // The run reached the cases that matter, or it proves nothing.
  EXPECT_GT(clawbacks_with_owed, trials / 20);
  EXPECT_GT(repayments, trials / 20);
  std::cout << clawbacks_with_owed << " clawbacks left an amount owed; " << repayments
            << " credits repaid one\n";

  // The operator's audit over the same books: clean.
  vault.snapshot_time = billing.snapshot_time = absl::Now();
  auto ledger = ReadAuditFacts(pool_);
  ASSERT_TRUE(ledger.ok()) << ledger.status();
  EXPECT_EQ(audit::Format(audit::Check(vault, billing, *ledger)), "");
}

}  // namespace
}  // namespace giftcard::account_credit

// A seeded random workload — redemptions, credit applications and reversals,
// with retries and duplicate request ids, from 8 concurrent clients — must
// leave the books clean, and, as in Jepsen's bank test, every snapshot a
// concurrent reader takes while it runs must balance too. The seed is
// printed; GIFTCARD_SEED replays a run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

// What one consistent snapshot of the ledger breaks (empty: nothing): per
// currency the entries sum to zero, no customer balance is negative, and
// each balance is the sum of its entries.
std::vector<std::string> LedgerSnapshotViolations(pqxx::connection& conn) {
  std::vector<std::string> out;
  pqxx::transaction<pqxx::repeatable_read, pqxx::read_only> tx(conn);
  for (const auto& row :
       tx.exec("SELECT currency_code, sum(amount_minor) FROM ledger_entries GROUP BY 1 "
               "HAVING sum(amount_minor) <> 0")) {
    out.push_back(absl::StrCat(row[0].c_str(), " sums to ", row[1].c_str()));
  }
  for (const auto& row : tx.exec(
           "SELECT a.account_id, a.balance_minor, coalesce(sum(e.amount_minor), 0) "
           "FROM accounts a LEFT JOIN ledger_entries e USING (account_id) GROUP BY 1, 2 "
           "HAVING a.balance_minor < 0 OR a.balance_minor <> coalesce(sum(e.amount_minor), 0)")) {
    out.push_back(
        absl::StrCat(row[0].c_str(), " balance ", row[1].c_str(), " entries ", row[2].c_str()));
  }
  tx.commit();
  return out;
}

TEST(RandomWorkloadTest, ThousandsOfMixedOperationsLeaveTheBooksClean) {
  uint64_t seed = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  if (const char* env = std::getenv("GIFTCARD_SEED")) {
    ASSERT_TRUE(absl::SimpleAtoi(env, &seed));
  }
  std::printf("random workload seed: %llu (GIFTCARD_SEED=%llu replays it)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  RecordProperty("seed", std::to_string(seed));

  Suite suite;
  constexpr int kAccounts = 12, kClients = 8, kOpsPerClient = 300;
  std::vector<std::string> accounts;
  for (int i = 0; i < kAccounts; ++i) {
    accounts.push_back(UniqueName("acct"));
    // A few accounts that every redemption refuses (wrong country, app store).
    const std::string country = i == 0 ? "FR" : "DE";
    ASSERT_TRUE(
        suite
            .UpsertAccount(accounts.back(), country, "EUR",
                           i == 1 ? v1::BILLING_CHANNEL_APP_STORE : v1::BILLING_CHANNEL_DIRECT)
            .ok());
  }
  auto codes = suite.IssueActiveCodes(400, 500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 400u);

  absl::Mutex mu;
  std::vector<std::string> invoices;  // Invoices created so far, to replay and reverse.
  // The applied amount of each invoice's first success: a replay must answer it again.
  std::map<std::string, int64_t> first_applied;
  std::atomic<int> ok{0}, refused{0}, unavailable{0}, replays_matched{0}, replays_differed{0};

  // Bank-style readers: consistent snapshots of the ledger while it moves.
  std::atomic<bool> done{false};
  std::atomic<int> snapshots{0};
  std::vector<std::string> snapshot_violations;
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      pqxx::connection conn(suite.account_credit_dsn);
      while (!done.load()) {
        std::vector<std::string> v = LedgerSnapshotViolations(conn);
        ++snapshots;
        if (!v.empty()) {
          absl::MutexLock lock(&mu);
          snapshot_violations.insert(snapshot_violations.end(), v.begin(), v.end());
        }
        absl::SleepFor(absl::Milliseconds(5));
      }
    });
  }
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      std::mt19937_64 rng(seed + c);
      auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
      for (int op = 0; op < kOpsPerClient; ++op) {
        grpc::Status s;
        const int kind = static_cast<int>(pick(10));
        const std::string& account = accounts[pick(accounts.size())];
        if (kind < 4) {
          // Redeem, sometimes a code someone else has, sometimes a replay.
          const auto& code = codes[pick(codes.size())];
          const std::string request = pick(4) == 0 ? "replay" : absl::StrCat("r", c, "-", op);
          s = suite.Redeem(code.code(), account, request);
        } else if (kind < 8) {
          std::string invoice;
          {
            absl::MutexLock lock(&mu);
            if (!invoices.empty() && pick(3) == 0) {
              invoice = invoices[pick(invoices.size())];  // A retry of an earlier invoice.
            }
          }
          if (invoice.empty()) {
            invoice = absl::StrCat("inv-", c, "-", op);
            absl::MutexLock lock(&mu);
            invoices.push_back(invoice);
          }
          v1::CreditApplication app;
          // The invoice's account and amount are fixed by its name, so a
          // retry is a true replay (not REQUEST_ID_REUSED).
          const size_t h = std::hash<std::string>()(invoice);
          const std::string& owner = accounts[h % accounts.size()];
          s = suite.ApplyCredit(invoice, owner, 100 + static_cast<int64_t>(h % 900), "EUR", &app);
          if (s.ok()) {
            absl::MutexLock lock(&mu);
            auto [it, first] = first_applied.emplace(invoice, app.applied().amount_minor());
            if (!first) {
              ++(it->second == app.applied().amount_minor() ? replays_matched : replays_differed);
            }
          }
        } else {
          std::string invoice;
          {
            absl::MutexLock lock(&mu);
            if (!invoices.empty()) invoice = invoices[pick(invoices.size())];
          }
          if (invoice.empty()) continue;
          v1::CreditApplication app;
          s = suite.ReverseCredit(invoice, &app);
        }
        if (s.ok()) {
          ++ok;
        } else if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
          ++unavailable;
          std::printf("unavailable (op kind %d): %s\n", kind, s.error_message().c_str());
        } else {
          ++refused;
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  done = true;
  for (auto& t : readers) t.join();
  std::printf("ok=%d refused=%d unavailable=%d replays=%d snapshots=%d\n", ok.load(),
              refused.load(), unavailable.load(), replays_matched.load(), snapshots.load());
  // The replay path was exercised, and every replay got the first answer.
  EXPECT_GT(replays_matched.load(), 50);
  EXPECT_EQ(replays_differed.load(), 0);
  // The readers looked many times, and no snapshot was ever out of balance.
  EXPECT_GT(snapshots.load(), 20);
  EXPECT_THAT(snapshot_violations, ::testing::IsEmpty());
  EXPECT_EQ(unavailable.load(), 0);
  EXPECT_GT(ok.load(), kClients * kOpsPerClient / 4);
  EXPECT_EQ(suite.AuditReport(), "") << "seed " << seed;
  EXPECT_THAT(
      QueryColumn(suite.code_vault_dsn, "SELECT count(*) FROM redemptions WHERE state = 'PENDING'"),
      AllEqual("0"));
}

}  // namespace
}  // namespace giftcard::testing

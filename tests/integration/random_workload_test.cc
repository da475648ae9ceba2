// A seeded random workload — redemptions, credit applications and reversals,
// with retries and duplicate request ids, from 8 concurrent clients — must
// leave the books clean. The seed is printed; GIFTCARD_SEED replays a run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <random>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

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
        suite.UpsertAccount(accounts.back(), country, "EUR", i == 1 ? v1::APP_STORE : v1::DIRECT)
            .ok());
  }
  auto codes = suite.IssueActiveCodes(400, 500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 400u);

  absl::Mutex mu;
  std::vector<std::string> invoices;  // Invoices created so far, to replay and reverse.
  std::atomic<int> ok{0}, refused{0}, unavailable{0};
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
          // The invoice's account is fixed by its name so retries match.
          const std::string& owner = accounts[std::hash<std::string>()(invoice) % accounts.size()];
          s = suite.ApplyCredit(invoice, owner, 100 + static_cast<int64_t>(pick(900)), "EUR", &app);
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
  std::printf("ok=%d refused=%d unavailable=%d\n", ok.load(), refused.load(), unavailable.load());
  EXPECT_EQ(unavailable.load(), 0);
  EXPECT_GT(ok.load(), kClients * kOpsPerClient / 4);
  EXPECT_EQ(suite.AuditReport(), "") << "seed " << seed;
  EXPECT_THAT(
      QueryColumn(suite.code_vault_dsn, "SELECT count(*) FROM redemptions WHERE state = 'PENDING'"),
      ::testing::Each(::testing::Eq("0")));
}

}  // namespace
}  // namespace giftcard::testing

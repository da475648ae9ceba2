// Exactly-once redemption under concurrency, with and without Redis.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

struct RaceResult {
  int successes = 0;
  std::map<std::string, int> failures;  // reason → count
  std::vector<v1::Redemption> redemptions;
};

// Fires `n` RedeemCode calls at once (released together by a shared future),
// each from its own client network: 64 customers, not one address over its
// limit (attempts in flight count against it until they prove not to fail).
RaceResult Race(Suite& suite, int n,
                const std::function<std::pair<std::string, std::string>(int)>& account_and_request,
                const std::string& code) {
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  std::vector<std::future<std::pair<grpc::Status, v1::Redemption>>> calls;
  for (int i = 0; i < n; ++i) {
    auto [account, request] = account_and_request(i);
    const std::string client_ip = absl::StrCat("10.", 100 + i, ".0.1");
    calls.push_back(
        std::async(std::launch::async, [&suite, start, account, request, &code, client_ip] {
          start.wait();
          v1::Redemption r;
          grpc::Status s = suite.Redeem(code, account, request, &r, client_ip);
          return std::make_pair(s, r);
        }));
  }
  go.set_value();
  RaceResult out;
  for (auto& call : calls) {
    auto [status, redemption] = call.get();
    if (status.ok()) {
      ++out.successes;
      out.redemptions.push_back(redemption);
    } else {
      const std::string reason = ReasonOf(status);
      ++out.failures[reason.empty()
                         ? absl::StrCat("code ", status.error_code(), ": ", status.error_message())
                         : reason];
    }
  }
  return out;
}

class VaultConcurrencyTest : public ::testing::Test {
 protected:
  // 64 accounts racing for one code: one wins, the rest are told why.
  void SixtyFourAccountsRace(Suite& suite) {
    std::vector<std::string> accounts;
    for (int i = 0; i < 64; ++i) {
      accounts.push_back(UniqueName("racer"));
      ASSERT_TRUE(
          suite.UpsertAccount(accounts.back(), "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
    }
    auto codes = suite.IssueActiveCodes(1, 2500, "EUR", "DE");
    ASSERT_EQ(codes.size(), 1u);
    RaceResult r = Race(
        suite, 64, [&](int i) { return std::make_pair(accounts[i], std::string("race")); },
        codes[0].code());
    EXPECT_EQ(r.successes, 1);
    int explained = 0;
    for (const auto& [reason, count] : r.failures) {
      EXPECT_TRUE(reason == "REDEMPTION_IN_PROGRESS" || reason == "CODE_ALREADY_REDEEMED")
          << reason;
      explained += count;
    }
    EXPECT_EQ(explained, 63);
    EXPECT_THAT(QueryColumn(suite.account_credit_dsn, "SELECT count(*) FROM transfers"),
                AllEqual("1"));
    EXPECT_THAT(QueryColumn(suite.account_credit_dsn, "SELECT sum(balance_minor) FROM accounts"),
                AllEqual("2500"));
    EXPECT_THAT(QueryColumn(suite.code_vault_dsn,
                            "SELECT count(*) FROM redemptions WHERE state = 'COMPLETED'"),
                AllEqual("1"));
  }
};

TEST_F(VaultConcurrencyTest, SixtyFourAccountsOneCodeOneCredit) {
  Suite suite;
  SixtyFourAccountsRace(suite);
}

TEST_F(VaultConcurrencyTest, SixtyFourAccountsOneCodeOneCreditWithRedisDown) {
  RedisServer redis_server;
  Suite suite({.redis_port = redis_server.port()});
  redis_server.Stop();
  SixtyFourAccountsRace(suite);
  EXPECT_THAT(suite.code_vault->Log(), ::testing::HasSubstr("redemption_guard_bypassed"));
}

TEST_F(VaultConcurrencyTest, TwentyRetriesOfOneRequestHaveOneEffect) {
  Suite suite;
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(2, 1000, "EUR", "DE");
  ASSERT_EQ(codes.size(), 2u);
  RaceResult r = Race(
      suite, 20, [&](int) { return std::make_pair(account, std::string("same-request")); },
      codes[0].code());
  ASSERT_GE(r.successes, 1);
  for (const auto& [reason, count] : r.failures) {
    EXPECT_EQ(reason, "REDEMPTION_IN_PROGRESS") << count;
  }
  for (const auto& redemption : r.redemptions) {
    EXPECT_EQ(redemption.SerializeAsString(), r.redemptions[0].SerializeAsString());
  }
  EXPECT_THAT(QueryColumn(suite.account_credit_dsn, "SELECT count(*) FROM transfers"),
              AllEqual("1"));
  v1::Account got;
  ASSERT_TRUE(suite.GetAccount(account, &got).ok());
  EXPECT_EQ(got.balance().amount_minor(), 1000);
  // Settled, every retry gets the same answer; another code under the same id is a reuse.
  v1::Redemption again;
  ASSERT_TRUE(suite.Redeem(codes[0].code(), account, "same-request", &again).ok());
  EXPECT_EQ(again.SerializeAsString(), r.redemptions[0].SerializeAsString());
  grpc::Status s = suite.Redeem(codes[1].code(), account, "same-request");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ReasonOf(s), "REQUEST_ID_REUSED");
}

}  // namespace
}  // namespace giftcard::testing

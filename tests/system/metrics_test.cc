// /metrics of real services: the counters move with real calls, and no PIN,
// serial, account id or other request value ever becomes a label.
#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "server/client.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kRedeem[] = "/giftcard.v1.CodeVault/RedeemCode";

std::string Series(const std::string& name, const std::string& labels, const std::string& value) {
  return absl::StrCat(name, "{", labels, "} ", value, "\n");
}

// RedeemCode runs on code-vault's engine (one loop thread); with
// --engine=false it runs on the call runner's workers and the engine's loop
// runs nothing. Its redemptions credit the same either way.
TEST(MetricsTest, RedemptionsRunOnTheEngineUnlessItIsTurnedOff) {
  for (const bool engine : {true, false}) {
    // With the engine, completions also commit without waiting for the
    // flush (its own connection, synchronous_commit = off).
    Suite suite({.code_vault_args = {absl::StrCat("--engine=", engine ? "true" : "false"),
                                     absl::StrCat("--completion_commit_without_flush=",
                                                  engine ? "true" : "false")}});
    const std::string account = UniqueName("engine-acct");
    ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
    auto codes = suite.IssueActiveCodes(3, 1000, "EUR", "DE");
    ASSERT_EQ(codes.size(), 3u);
    const double tasks_before =
        MetricValue(ScrapeMetrics(*suite.code_vault), "giftcard_engine_tasks_total");
    for (int i = 0; i < 3; ++i) {
      v1::Redemption r;
      ASSERT_TRUE(suite.Redeem(codes[i].code(), account, absl::StrCat("engine-", i), &r).ok());
      EXPECT_EQ(r.balance().amount_minor(), 1000 * (i + 1));
    }
    const double tasks_after =
        MetricValue(ScrapeMetrics(*suite.code_vault), "giftcard_engine_tasks_total");
    if (engine) {
      ASSERT_GE(tasks_before, 0) << "the engine's metric is missing";
      // At least the call itself and a continuation per step, per redemption.
      EXPECT_GE(tasks_after - tasks_before, 3 * 3);
    } else {
      EXPECT_EQ(tasks_after, -1) << "engine off: no engine, no metric";
    }
    EXPECT_THAT(QueryColumn(suite.code_vault_dsn, "SELECT DISTINCT state FROM redemptions"),
                ::testing::ElementsAre("COMPLETED"));
    EXPECT_EQ(suite.AuditReport(), "");
  }
}

// GetCodeStatus runs on the engine too: calls that arrive together are
// read in one statement, each answered with its own code and last change,
// by serial or by PIN, the same as the call runner's workers answer.
TEST(MetricsTest, CodeStatusRunsOnTheEngineAndEachCallerGetsItsOwnCode) {
  for (const bool engine : {true, false}) {
    Suite suite({.code_vault_args = {absl::StrCat("--engine=", engine ? "true" : "false")}});
    const std::string account = UniqueName("status-acct");
    ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
    auto codes = suite.IssueActiveCodes(12, 700, "EUR", "DE");
    ASSERT_EQ(codes.size(), 12u);
    ASSERT_TRUE(suite.Redeem(codes[0].code(), account, "status-redeem").ok());
    const double tasks_before =
        MetricValue(ScrapeMetrics(*suite.code_vault), "giftcard_engine_tasks_total");

    std::vector<v1::CodeStatus> answers(codes.size());
    std::vector<grpc::Status> statuses(codes.size());
    std::vector<std::thread> callers;
    for (size_t i = 0; i < codes.size(); ++i) {
      callers.emplace_back([&, i] {
        v1::GetCodeStatusRequest request;
        // Every third by PIN, the rest by serial.
        if (i % 3 == 1) {
          request.set_code(codes[i].code());
        } else {
          request.set_serial(codes[i].serial());
        }
        statuses[i] =
            suite.vault_stub->GetCodeStatus(Context(kSupportToken).get(), request, &answers[i]);
      });
    }
    for (auto& t : callers) t.join();
    for (size_t i = 0; i < codes.size(); ++i) {
      ASSERT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
      EXPECT_EQ(answers[i].serial(), codes[i].serial()) << i;
      EXPECT_EQ(answers[i].amount().amount_minor(), 700);
      const v1::CodeState want = i == 0 ? v1::CODE_STATE_REDEEMED : v1::CODE_STATE_ACTIVE;
      EXPECT_EQ(answers[i].state(), want) << i;
      EXPECT_EQ(answers[i].last_change().to_state(), want) << i;
      EXPECT_GT(answers[i].last_change().change_id(), 0) << i;
    }
    EXPECT_EQ(answers[0].redeemed_by_account_id(), account);

    v1::CodeStatus unknown;
    EXPECT_EQ(suite.GetCodeStatus("GC999999999999", &unknown).error_code(),
              grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(suite.GetCodeStatus("not-a-serial", &unknown).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);

    const double tasks_after =
        MetricValue(ScrapeMetrics(*suite.code_vault), "giftcard_engine_tasks_total");
    if (engine) {
      // At least one task per call.
      EXPECT_GE(tasks_after - tasks_before, 13);
    } else {
      EXPECT_EQ(tasks_after, -1);
    }
  }
}

// billing's ApplyCredit runs on its engine (--engine=false: the call
// runner's workers). Invoices that arrive together are recorded and debited
// in batches, each answered with its own application; a replay answers the
// recorded one, an invoice reused for another amount is refused, and an
// account without credit gets everything to charge.
TEST(MetricsTest, ApplyCreditRunsOnTheEngineUnlessItIsTurnedOff) {
  for (const bool engine : {true, false}) {
    Suite suite({.billing_args = {absl::StrCat("--engine=", engine ? "true" : "false")}});
    constexpr int kAccounts = 8;
    std::vector<std::string> accounts;
    for (int i = 0; i < kAccounts; ++i) {
      accounts.push_back(UniqueName("apply-acct"));
      ASSERT_TRUE(suite.UpsertAccount(accounts[i], "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
    }
    auto codes = suite.IssueActiveCodes(kAccounts - 1, 1000, "EUR", "DE");
    ASSERT_EQ(codes.size(), static_cast<size_t>(kAccounts - 1));
    for (int i = 0; i + 1 < kAccounts; ++i) {  // The last account has no credit.
      ASSERT_TRUE(suite.Redeem(codes[i].code(), accounts[i], absl::StrCat("fund-", i)).ok());
    }
    const double tasks_before =
        MetricValue(ScrapeMetrics(*suite.billing), "giftcard_engine_tasks_total");

    std::vector<v1::CreditApplication> apps(kAccounts);
    std::vector<grpc::Status> statuses(kAccounts);
    std::vector<std::thread> callers;
    for (int i = 0; i < kAccounts; ++i) {
      callers.emplace_back([&, i] {
        // Invoice i asks 300 + 100 i: accounts 0 to 6 hold 1,000 each.
        statuses[i] =
            suite.ApplyCredit(absl::StrCat("inv-", i), accounts[i], 300 + 100 * i, "EUR", &apps[i]);
      });
    }
    for (auto& t : callers) t.join();
    for (int i = 0; i < kAccounts; ++i) {
      ASSERT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
      EXPECT_EQ(apps[i].invoice_id(), absl::StrCat("inv-", i));
      EXPECT_EQ(apps[i].account_id(), accounts[i]);
      EXPECT_EQ(apps[i].state(), v1::CREDIT_APPLICATION_STATE_APPLIED);
      const int64_t due = 300 + 100 * i;
      const int64_t applied = i + 1 < kAccounts ? due : 0;
      EXPECT_EQ(apps[i].applied().amount_minor(), applied) << i;
      EXPECT_EQ(apps[i].amount_to_charge().amount_minor(), due - applied) << i;
      EXPECT_EQ(apps[i].remaining_credit().amount_minor(), i + 1 < kAccounts ? 1000 - due : 0);
    }
    // A replay answers what was recorded; another amount is refused.
    v1::CreditApplication again;
    ASSERT_TRUE(suite.ApplyCredit("inv-2", accounts[2], 500, "EUR", &again).ok());
    EXPECT_EQ(again.applied().amount_minor(), 500);
    EXPECT_EQ(again.remaining_credit().amount_minor(), 500);
    EXPECT_EQ(ReasonOf(suite.ApplyCredit("inv-2", accounts[2], 501, "EUR", &again)),
              "REQUEST_ID_REUSED");
    EXPECT_EQ(suite.ApplyCredit("", accounts[2], 501, "EUR", &again).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);

    const double tasks_after =
        MetricValue(ScrapeMetrics(*suite.billing), "giftcard_engine_tasks_total");
    if (engine) {
      EXPECT_GE(tasks_after - tasks_before, kAccounts + 3);  // At least one task per call.
    } else {
      EXPECT_EQ(tasks_after, -1);
    }
    EXPECT_EQ(suite.AuditReport(), "");
  }
}

TEST(MetricsTest, ARedemptionMovesTheCountersAndNoRequestValueIsALabel) {
  Suite suite;
  const std::string account = UniqueName("metrics-acct");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(2, 2500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 2u);

  const std::string before = ScrapeMetrics(*suite.code_vault);
  EXPECT_THAT(before, HasSubstr("# TYPE giftcard_grpc_server_calls_total counter\n"));
  EXPECT_THAT(before, Not(HasSubstr(kRedeem)));
  EXPECT_THAT(before, HasSubstr("giftcard_serving 1\n"));
  EXPECT_THAT(before, HasSubstr("giftcard_pg_pool_connections "));

  ASSERT_TRUE(suite.Redeem(codes[0].code(), account, "metrics-1").ok());
  // A code typed with one wrong symbol: refused, and counted by its reason.
  std::string mistyped = codes[1].code();
  mistyped[0] = mistyped[0] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(suite.Redeem(mistyped, account, "metrics-2").ok());

  const std::string vault = ScrapeMetrics(*suite.code_vault);
  EXPECT_THAT(vault, HasSubstr(Series("giftcard_grpc_server_calls_total",
                                      absl::StrCat("method=\"", kRedeem, "\",code=\"OK\""), "1")));
  EXPECT_THAT(vault, HasSubstr(Series(
                         "giftcard_grpc_server_calls_total",
                         absl::StrCat("method=\"", kRedeem, "\",code=\"INVALID_ARGUMENT\""), "1")));
  EXPECT_THAT(vault,
              HasSubstr(Series("giftcard_grpc_server_outcomes_total",
                               absl::StrCat("method=\"", kRedeem, "\",outcome=\"OK\""), "1")));
  EXPECT_THAT(vault, HasSubstr(Series(
                         "giftcard_grpc_server_outcomes_total",
                         absl::StrCat("method=\"", kRedeem, "\",outcome=\"CODE_MISTYPED\""), "1")));
  EXPECT_THAT(vault, HasSubstr(absl::StrCat("giftcard_grpc_server_call_seconds_count{method=\"",
                                            kRedeem, "\"} 2\n")));
  EXPECT_THAT(vault, HasSubstr(absl::StrCat("giftcard_grpc_server_call_seconds_bucket{method=\"",
                                            kRedeem, "\",le=\"+Inf\"} 2\n")));
  EXPECT_THAT(vault, HasSubstr("giftcard_pg_pool_wait_seconds_count "));
  EXPECT_THAT(vault, HasSubstr("giftcard_redis_guard_bypasses_total 0\n"));

  const std::string credit = ScrapeMetrics(*suite.account_credit);
  EXPECT_THAT(credit,
              HasSubstr(Series(
                  "giftcard_grpc_server_calls_total",
                  "method=\"/giftcard.v1.AccountCredit/BatchCreditAccounts\",code=\"OK\"", "1")));

  // No secret and no per-request value in any scrape.
  const std::string all = vault + credit + ScrapeMetrics(*suite.billing);
  for (const auto& code : codes) {
    std::string bare = code.code();
    bare.erase(std::remove(bare.begin(), bare.end(), '-'), bare.end());
    EXPECT_THAT(all, Not(HasSubstr(code.code())));
    EXPECT_THAT(all, Not(HasSubstr(bare)));
    EXPECT_THAT(all, Not(HasSubstr(bare.substr(bare.size() - 4))));
    EXPECT_THAT(all, Not(HasSubstr(code.serial())));
    EXPECT_THAT(all, Not(HasSubstr(code.batch_id())));
  }
  EXPECT_THAT(all, Not(HasSubstr(account)));
  EXPECT_THAT(all, Not(HasSubstr("metrics-1")));
}

TEST(MetricsTest, MethodsTheServerDoesNotHaveDoNotBecomeLabels) {
  Suite suite;
  // Any client can ask for any path: each must not grow a new series.
  grpc::GenericStub stub(server::MakeChannel(suite.code_vault_addr));
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    grpc::ByteBuffer request, response;
    grpc::Slice empty("");
    request = grpc::ByteBuffer(&empty, 1);
    std::mutex mu;
    std::condition_variable done_cv;
    bool done = false;
    grpc::Status status;
    stub.UnaryCall(&context, absl::StrCat("/giftcard.v1.CodeVault/Invented", i), {}, &request,
                   &response, [&](grpc::Status s) {
                     std::lock_guard<std::mutex> lock(mu);
                     status = s;
                     done = true;
                     done_cv.notify_one();
                   });
    std::unique_lock<std::mutex> lock(mu);
    done_cv.wait(lock, [&] { return done; });
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  }
  const std::string vault = ScrapeMetrics(*suite.code_vault);
  EXPECT_THAT(vault, Not(HasSubstr("Invented")));
  EXPECT_THAT(vault, HasSubstr(Series("giftcard_grpc_server_calls_total",
                                      "method=\"unknown\",code=\"UNIMPLEMENTED\"", "3")));
}

TEST(MetricsTest, RedisDownIsCountedAsFallbacks) {
  RedisServer redis;
  SuiteOptions options;
  options.redis_port = redis.port();
  Suite suite(options);
  const std::string account = UniqueName("metrics-redis");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(1, 100, "EUR", "DE");
  redis.Stop();
  grpc::Status s = suite.Redeem(codes[0].code(), account, "no-redis");
  ASSERT_TRUE(s.ok()) << s.error_message();
  const std::string vault = ScrapeMetrics(*suite.code_vault);
  EXPECT_THAT(vault, HasSubstr("giftcard_redis_guard_bypasses_total 1\n"));
  EXPECT_THAT(vault, Not(HasSubstr("giftcard_redis_limiter_fallbacks_total 0\n")));
}

}  // namespace
}  // namespace giftcard::testing

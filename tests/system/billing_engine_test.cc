// billing's engine through the real services: the inserts of new
// applications and the marks of applied debits share one stage, so what
// gathered of both goes in one flight and commits as one transaction; a
// deadlock in such a flight sends each part again alone; an answer given
// before its mark commits survives losing the mark.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::HasSubstr;

using Applied = std::pair<grpc::Status, v1::CreditApplication>;

std::future<Applied> ApplyAsync(Suite& suite, const std::string& invoice,
                                const std::string& account) {
  return std::async(std::launch::async, [&suite, invoice, account] {
    v1::CreditApplication app;
    grpc::Status s = suite.ApplyCredit(invoice, account, 1000, "EUR", &app);
    return std::make_pair(s, app);
  });
}

// Waits until account-credit has written `n` debits.
void WaitForDebits(Suite& suite, int n) {
  const std::string want = std::to_string(n);
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline &&
         QueryValue(suite.account_credit_dsn,
                    "SELECT count(*) FROM transfers WHERE kind = 'DEBIT'") != want) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(
      QueryValue(suite.account_credit_dsn, "SELECT count(*) FROM transfers WHERE kind = 'DEBIT'"),
      want);
}

std::string StateOf(Suite& suite, const std::string& invoice) {
  return QueryValue(
      suite.billing_dsn,
      absl::StrCat("SELECT state FROM credit_applications WHERE invoice_id = '", invoice, "'"));
}

// Builds the flight the tests need: A's mark and C's insert gathered behind
// B's insert, which waits on an uncommitted insert of B's invoice (held by
// `b_invoice`) until the caller releases it. C's debit then waits on C's
// account row (held by `c_account`), so C's row stays as the insert wrote it.
struct GatheredFlight {
  std::string a, b, c;
  std::future<Applied> first, second, third;
  std::unique_ptr<RowLock> b_invoice, c_account;

  explicit GatheredFlight(Suite& suite)
      : a(suite.FundedAccount(3000)), b(suite.FundedAccount(3000)), c(suite.FundedAccount(3000)) {
    // A's application is recorded; its debit waits on A's account row.
    RowLock a_account(
        suite.account_credit_dsn,
        absl::StrCat("SELECT 1 FROM accounts WHERE account_id = '", a, "' FOR UPDATE"));
    first = ApplyAsync(suite, "inv-a", a);
    EXPECT_TRUE(WaitForLockWaiters(suite.account_credit_dsn, 1, absl::Seconds(5)));
    b_invoice = std::make_unique<RowLock>(
        suite.billing_dsn,
        absl::StrCat("INSERT INTO credit_applications (invoice_id, account_id, currency_code, "
                     "amount_due_minor, state) VALUES ('inv-b', '",
                     b, "', 'EUR', 1000, 'PENDING') RETURNING invoice_id"));
    second = ApplyAsync(suite, "inv-b", b);  // Its flight waits.
    EXPECT_TRUE(WaitForLockWaiters(suite.billing_dsn, 1, absl::Seconds(5)));
    a_account.Release();  // A's debit goes through; its mark gathers.
    WaitForDebits(suite, 1);
    absl::SleepFor(absl::Milliseconds(300));  // The debit's answer reaches billing.
    c_account = std::make_unique<RowLock>(
        suite.account_credit_dsn,
        absl::StrCat("SELECT 1 FROM accounts WHERE account_id = '", c, "' FOR UPDATE"));
    third = ApplyAsync(suite, "inv-c", c);  // C's insert gathers too.
    absl::SleepFor(absl::Milliseconds(300));
  }
};

TEST(BillingEngineTest, AnInsertAndAMarkThatGatheredTogetherCommitAsOne) {
  Suite suite({.billing_args = {"--recovery_min_age=1h"}});
  GatheredFlight flight(suite);
  // B's flight goes; then C's insert and A's mark, in one flight.
  flight.b_invoice->Release();
  std::vector<v1::CreditApplication> answers;
  for (auto* call : {&flight.first, &flight.second}) {
    auto [status, app] = call->get();
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(app.state(), v1::CREDIT_APPLICATION_STATE_APPLIED);
    answers.push_back(app);
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline && StateOf(suite, "inv-a") != "APPLIED") {
    absl::SleepFor(absl::Milliseconds(10));
  }
  // A's row as its mark wrote it and C's as its insert did, C's debit held:
  // one transaction wrote both only if they committed together.
  EXPECT_EQ(QueryValue(suite.billing_dsn,
                       "SELECT a.xmin = c.xmin FROM credit_applications a, "
                       "credit_applications c WHERE a.invoice_id = 'inv-a' AND "
                       "c.invoice_id = 'inv-c'"),
            "t");
  flight.c_account->Release();
  auto [c_status, c_app] = flight.third.get();
  ASSERT_TRUE(c_status.ok()) << c_status.error_message();
  EXPECT_EQ(c_app.state(), v1::CREDIT_APPLICATION_STATE_APPLIED);
  // Answered before its mark committed (the default), A's answer is what
  // a replay reads: the mark wrote the update time billing answered with.
  v1::CreditApplication replay;
  ASSERT_TRUE(suite.ApplyCredit("inv-a", flight.a, 1000, "EUR", &replay).ok());
  EXPECT_EQ(replay.SerializeAsString(), answers[0].SerializeAsString())
      << replay.ShortDebugString() << " / " << answers[0].ShortDebugString();
  EXPECT_EQ(suite.AuditReport(), "");
}

// A flight whose mark and insert deadlock with another transaction is
// rolled back whole; the insert and the mark are then sent again, each
// alone, and both callers get their answers.
TEST(BillingEngineTest, ADeadlockedFlightIsSentAgainInParts) {
  Suite suite({.billing_args = {"--recovery_min_age=1h"}});
  const std::string deadlocks =
      "SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()";
  const int64_t deadlocks_before = std::stoll(QueryValue(suite.billing_dsn, deadlocks));
  GatheredFlight flight(suite);
  // T holds A's application row; T never looks for deadlocks first, so the
  // flight is the one Postgres cancels.
  RowLock t(suite.billing_dsn,
            "SET LOCAL deadlock_timeout = '60s'; "
            "SELECT 1 FROM credit_applications WHERE invoice_id = 'inv-a' FOR UPDATE");
  flight.b_invoice->Release();
  flight.c_account->Release();
  // B's flight commits; the next inserts C's row, then waits on A's row.
  const absl::Time b_by = absl::Now() + absl::Seconds(5);
  while (absl::Now() < b_by && StateOf(suite, "inv-b").empty()) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(WaitForLockWaiters(suite.billing_dsn, 1, absl::Seconds(5)));
  // T waits on C's uncommitted row: a deadlock, which cancels the flight.
  // Then T inserts C's row, unless the flight's insert, sent again, got
  // there first (it commits at once: T then finds the row there).
  const std::string t_inserted =
      t.Exec(absl::StrCat("INSERT INTO credit_applications (invoice_id, account_id, "
                          "currency_code, amount_due_minor, state) VALUES ('inv-c', '",
                          flight.c,
                          "', 'EUR', 1000, 'PENDING') ON CONFLICT DO NOTHING "
                          "RETURNING invoice_id"));
  EXPECT_THAT(t_inserted, ::testing::AnyOf("inv-c", "")) << "T was cancelled, not the flight";
  t.Release();  // The parts, sent again, then go through.
  for (auto* call : {&flight.first, &flight.second, &flight.third}) {
    auto [status, app] = call->get();
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(app.state(), v1::CREDIT_APPLICATION_STATE_APPLIED);
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline && StateOf(suite, "inv-a") != "APPLIED") {
    absl::SleepFor(absl::Milliseconds(10));
  }
  for (const char* invoice : {"inv-a", "inv-b", "inv-c"}) {
    EXPECT_EQ(StateOf(suite, invoice), "APPLIED") << invoice;
  }
  WaitForDebits(suite, 3);
  EXPECT_EQ(suite.AuditReport(), "");
  // The flight did deadlock (a backend reports it within its stats'
  // flush interval, at most 10 s).
  const absl::Time seen_by = absl::Now() + absl::Seconds(15);
  while (absl::Now() < seen_by &&
         std::stoll(QueryValue(suite.billing_dsn, deadlocks)) == deadlocks_before) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(std::stoll(QueryValue(suite.billing_dsn, deadlocks)), deadlocks_before + 1);
}

// Billing answers once the debit is durable and the mark is sent
// (--answer_before_mark, the default). A mark that cannot be written then
// leaves the application PENDING, and the recovery worker marks it with
// the same debit: one debit, the answer the caller got.
TEST(BillingEngineTest, AnAnswerBeforeTheMarkSurvivesLosingTheMark) {
  // account-credit holds each debit 1.5 s, so the test can lock the
  // applications before billing marks one. The lock outlasts the mark's
  // lock_timeout (2 s): that write is lost.
  Suite suite({.account_credit_args = {"--enable_test_hooks",
                                       "--test_delay_methods=BatchDebitAccounts=1500"},
               .billing_args = {"--answer_before_mark", "--recovery_interval=200ms",
                                "--recovery_min_age=4s"}});
  const std::string account = suite.FundedAccount(3000);
  auto call = std::async(std::launch::async, [&] {
    v1::CreditApplication app;
    grpc::Status s = suite.ApplyCreditAnswer("inv-early", account, 1000, "EUR", &app);
    return std::make_pair(s, app);
  });
  ASSERT_TRUE(suite.account_credit->WaitForLog("test_hook_delay"));
  auto lock = std::async(std::launch::async, [&] {
    return ExecSql(suite.billing_dsn,
                   "BEGIN; LOCK TABLE credit_applications IN EXCLUSIVE MODE; "
                   "SELECT pg_sleep(5); COMMIT;");
  });

  auto [status, answer] = call.get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(answer.state(), v1::CREDIT_APPLICATION_STATE_APPLIED);
  EXPECT_EQ(answer.applied().amount_minor(), 1000);
  EXPECT_EQ(answer.remaining_credit().amount_minor(), 2000);
  EXPECT_EQ(StateOf(suite, "inv-early"), "PENDING");  // Answered before the mark.
  lock.get();
  EXPECT_THAT(suite.billing->Log(), HasSubstr("application_mark_failed"));

  const absl::Time settled_by = absl::Now() + absl::Seconds(20);
  while (absl::Now() < settled_by && StateOf(suite, "inv-early") != "APPLIED") {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(StateOf(suite, "inv-early"), "APPLIED");
  WaitForDebits(suite, 1);
  v1::CreditApplication replay;
  ASSERT_TRUE(suite.ApplyCredit("inv-early", account, 1000, "EUR", &replay).ok());
  EXPECT_EQ(replay.applied().amount_minor(), 1000);
  EXPECT_EQ(replay.remaining_credit().amount_minor(), 2000);
  v1::Account got;
  ASSERT_TRUE(suite.GetAccount(account, &got).ok());
  EXPECT_EQ(got.balance().amount_minor(), 2000);
  EXPECT_EQ(suite.AuditReport(), "");
}

}  // namespace
}  // namespace giftcard::testing

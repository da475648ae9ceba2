// The redemption saga across a crash of account-credit, and refusals.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <future>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/client.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::HasSubstr;

// Until the test's one redemption is no longer PENDING and the recovery
// worker has logged it (it logs after settling), at most 20 s.
void WaitUntilTheWorkerSettled(Suite& suite) {
  const absl::Time done_by = absl::Now() + absl::Seconds(20);
  while (absl::Now() < done_by &&
         (QueryValue(suite.code_vault_dsn, "SELECT state FROM redemptions") == "PENDING" ||
          suite.code_vault->Log().find("recovery_settled") == std::string::npos)) {
    absl::SleepFor(absl::Milliseconds(100));
  }
}

TEST(VaultRecoveryTest, AccountCreditKilledMidCreditTheWorkerCompletesWithOneCredit) {
  // account-credit holds every CreditAccount 10 s (a test hook), so the
  // vault's credit call is deterministically in flight when we kill it.
  Suite suite({.account_credit_args = {"--enable_test_hooks",
                                       "--test_delay_methods=BatchCreditAccounts=10000"},
               .code_vault_args = {"--recovery_interval=200ms", "--recovery_min_age=500ms"}});
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(1, 2500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);
  // On failure, show what the services said.
  struct Diagnostics {
    Suite& suite;
    ~Diagnostics() {
      if (::testing::Test::HasFailure()) {
        std::printf("--- code-vault log\n%s--- account-credit log\n%s",
                    suite.code_vault->Log().c_str(), suite.account_credit->Log().c_str());
      }
    }
  } diagnostics{suite};

  auto call = std::async(std::launch::async, [&] {
    v1::Redemption r;
    grpc::Status s = suite.Redeem(codes[0].code(), account, "crash", &r);
    return s;
  });
  ASSERT_TRUE(suite.account_credit->WaitForLog("test_hook_delay"));
  // The code is reserved; the credit has not happened.
  EXPECT_THAT(QueryColumn(suite.code_vault_dsn, "SELECT state FROM redemptions"),
              AllEqual("PENDING"));
  suite.account_credit->Signal(SIGKILL);
  suite.account_credit->WaitExit(absl::Seconds(10));

  grpc::Status s = call.get();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(s), "DEPENDENCY_UNAVAILABLE");
  EXPECT_THAT(QueryColumn(suite.account_credit_dsn, "SELECT count(*) FROM transfers"),
              AllEqual("0"));

  // Back on the same address, without the hook; the recovery worker finishes.
  suite.RestartAccountCredit();
  WaitUntilTheWorkerSettled(suite);
  EXPECT_THAT(QueryColumn(suite.code_vault_dsn, "SELECT state FROM redemptions"),
              AllEqual("COMPLETED"));
  EXPECT_THAT(suite.code_vault->Log(), HasSubstr("recovery_settled"));
  // /metrics counts the recovered saga once the worker's pass returns.
  std::string scrape;
  for (int i = 0; i < 50; ++i) {
    scrape = ScrapeMetrics(*suite.code_vault);
    if (scrape.find("giftcard_saga_recoveries_total 1\n") != std::string::npos) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_THAT(scrape, HasSubstr("giftcard_saga_recoveries_total 1\n"));
  EXPECT_THAT(QueryColumn(suite.account_credit_dsn, "SELECT count(*) FROM transfers"),
              AllEqual("1"));
  v1::Account got;
  ASSERT_TRUE(suite.GetAccount(account, &got).ok());
  EXPECT_EQ(got.balance().amount_minor(), 2500);

  // The caller's retry gets the final outcome.
  v1::Redemption final_answer;
  s = suite.Redeem(codes[0].code(), account, "crash", &final_answer);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(final_answer.state(), v1::REDEMPTION_STATE_COMPLETED);
  EXPECT_EQ(final_answer.balance().amount_minor(), 2500);
  v1::GetCodeStatusRequest status_request;
  status_request.set_serial(codes[0].serial());
  v1::CodeStatus status;
  ASSERT_TRUE(
      suite.vault_stub->GetCodeStatus(Context(kAdminToken).get(), status_request, &status).ok());
  EXPECT_EQ(status.state(), v1::CODE_STATE_REDEEMED);
}

TEST(VaultRecoveryTest, AnAnswerBeforeTheCompletionSurvivesLosingTheCompletion) {
  // account-credit holds the credit 1.5 s, so the test can lock the
  // redemptions table before the vault marks the redemption COMPLETED. The
  // lock outlasts the completion's lock_timeout (2 s): that write is lost.
  Suite suite({.account_credit_args = {"--enable_test_hooks",
                                       "--test_delay_methods=BatchCreditAccounts=1500"},
               .code_vault_args = {"--answer_before_completion", "--recovery_interval=200ms",
                                   "--recovery_min_age=4s"}});
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(1, 2500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);

  auto call = std::async(std::launch::async, [&] {
    v1::Redemption r;
    grpc::Status s = suite.RedeemAnswer(codes[0].code(), account, "early", &r);
    return std::make_pair(s, r);
  });
  ASSERT_TRUE(suite.account_credit->WaitForLog("test_hook_delay"));
  auto lock = std::async(std::launch::async, [&] {
    return ExecSql(suite.code_vault_dsn,
                   "BEGIN; LOCK TABLE redemptions IN EXCLUSIVE MODE; SELECT pg_sleep(5); COMMIT;");
  });

  auto [status, answer] = call.get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(answer.state(), v1::REDEMPTION_STATE_COMPLETED);
  EXPECT_EQ(answer.balance().amount_minor(), 2500);
  // Answered while the completion could not be written.
  EXPECT_THAT(QueryColumn(suite.code_vault_dsn, "SELECT state FROM redemptions"),
              AllEqual("PENDING"));
  lock.get();
  EXPECT_THAT(suite.code_vault->Log(), HasSubstr("redemption_complete_failed"));

  WaitUntilTheWorkerSettled(suite);
  EXPECT_THAT(QueryColumn(suite.code_vault_dsn, "SELECT state FROM redemptions"),
              AllEqual("COMPLETED"));
  EXPECT_THAT(QueryColumn(suite.code_vault_dsn, "SELECT state FROM codes"), AllEqual("REDEEMED"));
  EXPECT_THAT(QueryColumn(suite.account_credit_dsn, "SELECT count(*) FROM transfers"),
              AllEqual("1"));
  v1::Account got;
  ASSERT_TRUE(suite.GetAccount(account, &got).ok());
  EXPECT_EQ(got.balance().amount_minor(), 2500);
  v1::Redemption replay;
  ASSERT_TRUE(suite.Redeem(codes[0].code(), account, "early", &replay).ok());
  EXPECT_EQ(replay.redemption_id(), answer.redemption_id());
  EXPECT_EQ(replay.balance().amount_minor(), 2500);
}

// The vault answers once the credit is durable and the completion is sent
// (the default), before the completion commits. What the same vault runs
// next goes out after it on the same connection, so a status read or
// another redemption of the code right after the answer sees REDEEMED, even
// when the completion had to wait for a flight ahead of it.
TEST(VaultRecoveryTest, WhatFollowsAnEarlyAnswerSeesItsCompletion) {
  Suite suite({.account_credit_args = {"--enable_test_hooks",
                                       "--test_delay_methods=BatchCreditAccounts=1000"},
               .code_vault_args = {"--recovery_min_age=1h"}});
  const std::string a = UniqueName("early-a"), b = UniqueName("early-b"), c = UniqueName("early-c");
  for (const std::string& account : {a, b, c}) {
    ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  }
  auto codes = suite.IssueActiveCodes(2, 700, "EUR", "DE");
  ASSERT_EQ(codes.size(), 2u);
  auto redeem = [&suite, &codes](int i, const std::string& account, const std::string& request) {
    return std::async(std::launch::async, [&suite, &codes, i, account, request] {
      v1::Redemption r;
      grpc::Status s = suite.RedeemAnswer(codes[i].code(), account, request, &r);
      return std::make_pair(s, r);
    });
  };
  auto pending_of_a = [&] {
    return QueryColumn(suite.code_vault_dsn,
                       absl::StrCat("SELECT state FROM redemptions WHERE account_id = '", a, "'"));
  };
  // C's reservation will wait on its code's row, holding the write stage.
  RowLock other_code(suite.code_vault_dsn, absl::StrCat("SELECT 1 FROM codes WHERE serial = '",
                                                        codes[1].serial(), "' FOR UPDATE"));
  auto first = redeem(0, a, "first");
  ASSERT_TRUE(suite.account_credit->WaitForLog("test_hook_delay"));
  // A is reserved, its credit under way. Its completion, once sent, waits
  // on its row.
  RowLock pending_row(
      suite.code_vault_dsn,
      absl::StrCat("SELECT 1 FROM redemptions WHERE account_id = '", a, "' FOR UPDATE"));
  auto third = redeem(1, c, "third");
  ASSERT_TRUE(WaitForLockWaiters(suite.code_vault_dsn, 1, absl::Seconds(5)));
  // A's credit lands while C's flight waits; then C's flight goes.
  auto release_other_code = std::async(std::launch::async, [&] {
    const absl::Time until = absl::Now() + absl::Seconds(5);
    while (absl::Now() < until &&
           QueryValue(suite.account_credit_dsn, "SELECT count(*) FROM transfers") != "1") {
      absl::SleepFor(absl::Milliseconds(10));
    }
    absl::SleepFor(absl::Milliseconds(300));
    other_code.Release();
  });

  auto [status, answer] = first.get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(answer.state(), v1::REDEMPTION_STATE_COMPLETED);
  EXPECT_EQ(answer.balance().amount_minor(), 700);
  EXPECT_THAT(pending_of_a(), AllEqual("PENDING"));  // Answered before the commit.
  auto read = std::async(std::launch::async, [&] {
    v1::CodeStatus code;
    grpc::Status s = suite.GetCodeStatus(codes[0].serial(), &code);
    return std::make_pair(s, code);
  });
  auto second = redeem(0, b, "second");
  absl::SleepFor(absl::Milliseconds(300));  // Both reach the vault, behind the completion.
  pending_row.Release();

  auto [read_status, code] = read.get();
  ASSERT_TRUE(read_status.ok()) << read_status.error_message();
  EXPECT_EQ(code.state(), v1::CODE_STATE_REDEEMED);
  EXPECT_EQ(ReasonOf(second.get().first), "CODE_ALREADY_REDEEMED");
  release_other_code.get();
  EXPECT_TRUE(third.get().first.ok());
  EXPECT_THAT(pending_of_a(), AllEqual("COMPLETED"));
  EXPECT_THAT(QueryColumn(suite.account_credit_dsn, "SELECT count(*) FROM transfers"),
              AllEqual("2"));
}

// Reservations and completions share one transaction per flight. When a
// reservation's request id turns out taken by a concurrent call (a unique
// violation), the whole flight rolls back; the completion in it must then be
// written on its own, not fail with the reservation: its credit is durable.
TEST(VaultRecoveryTest, AReservationsConflictDoesNotFailTheCompletionSharingItsFlight) {
  Suite suite({.code_vault_args = {"--recovery_min_age=1h"}});
  // A redeems; B's account is unknown to account-credit (a refusal, which
  // writes outside the flights); C's request id is taken.
  const std::string a = UniqueName("joint-a"), b = UniqueName("joint-b"), c = UniqueName("joint-c");
  ASSERT_TRUE(suite.UpsertAccount(a, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  ASSERT_TRUE(suite.UpsertAccount(c, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(3, 1500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 3u);
  auto flights = [&suite] {
    return std::max(0.0, MetricValue(ScrapeMetrics(*suite.code_vault),
                                     "giftcard_sql_batch_size_count{statement=\"cv_write\"}"));
  };
  const double flights_before = flights();

  // Another transaction takes C's request id, uncommitted for now.
  RowLock taken(suite.code_vault_dsn,
                absl::StrCat("INSERT INTO redemptions (account_id, request_id, code_hash, serial, "
                             "currency_code, amount_minor, region, state, reject_code, "
                             "reject_reason, reject_message) VALUES ('",
                             c,
                             "', 'rc', '\\x00', 'S-C', 'EUR', 1, 'DE', 'REJECTED', 9, "
                             "'CODE_NOT_ACTIVE', 'x') RETURNING request_id"));
  // B's reservation waits on its code's row; A's credit on its account's.
  RowLock code_row(suite.code_vault_dsn, absl::StrCat("SELECT 1 FROM codes WHERE serial = '",
                                                      codes[1].serial(), "' FOR UPDATE"));
  RowLock account_row(
      suite.account_credit_dsn,
      absl::StrCat("SELECT 1 FROM accounts WHERE account_id = '", a, "' FOR UPDATE"));
  auto redeem = [&suite, &codes](int i, const std::string& account, const std::string& request) {
    return std::async(std::launch::async, [&suite, &codes, i, account, request] {
      v1::Redemption r;
      grpc::Status s = suite.Redeem(codes[i].code(), account, request, &r);
      return std::make_pair(s, r);
    });
  };
  auto first = redeem(0, a, "ra");  // Reserved; its credit waits.
  ASSERT_TRUE(WaitForLockWaiters(suite.account_credit_dsn, 1, absl::Seconds(5)));
  auto second = redeem(1, b, "rb");  // Its flight waits on the code's row.
  ASSERT_TRUE(WaitForLockWaiters(suite.code_vault_dsn, 1, absl::Seconds(5)));
  auto third = redeem(2, c, "rc");  // Gathers behind that flight.
  account_row.Release();            // A's credit goes through; its completion gathers too.
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline &&
         QueryValue(suite.account_credit_dsn, "SELECT count(*) FROM transfers") != "1") {
    absl::SleepFor(absl::Milliseconds(10));
  }
  absl::SleepFor(absl::Milliseconds(300));  // The credit's answer reaches the vault.
  // B's flight goes; then C's reservation and A's completion in one, which
  // waits on the taken request id until it commits.
  code_row.Release();
  deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline &&
         QueryValue(suite.code_vault_dsn,
                    absl::StrCat("SELECT count(*) FROM redemptions WHERE account_id = '", b,
                                 "'")) != "1") {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_TRUE(WaitForLockWaiters(suite.code_vault_dsn, 1, absl::Seconds(5)));
  taken.Commit();

  auto [status, answer] = first.get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(answer.state(), v1::REDEMPTION_STATE_COMPLETED);
  EXPECT_EQ(answer.balance().amount_minor(), 1500);
  EXPECT_EQ(ReasonOf(second.get().first), "ACCOUNT_NOT_FOUND");
  EXPECT_FALSE(third.get().first.ok());  // The taken request id's answer.
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(
        QueryColumn(suite.code_vault_dsn, absl::StrCat("SELECT state FROM codes WHERE serial = '",
                                                       codes[i].serial(), "'")),
        AllEqual(i == 0 ? "REDEEMED" : "ACTIVE"));
  }
  EXPECT_THAT(
      QueryColumn(suite.code_vault_dsn,
                  absl::StrCat("SELECT state FROM redemptions WHERE account_id = '", a, "'")),
      AllEqual("COMPLETED"));
  EXPECT_THAT(QueryColumn(suite.account_credit_dsn, "SELECT count(*) FROM transfers"),
              AllEqual("1"));
  // Three flights of writes: A's reservation, B's, then C's with A's
  // completion (four had the completion not shared C's flight).
  EXPECT_EQ(flights() - flights_before, 3);
}

TEST(VaultRecoveryTest, RefusalsLeaveTheCodeRedeemableByTheRightAccount) {
  Suite suite;
  const std::string wrong_region = UniqueName("fr");
  const std::string wrong_currency = UniqueName("de-usd");
  const std::string partner = UniqueName("partner");
  const std::string missing = UniqueName("missing");
  const std::string right = UniqueName("de");
  ASSERT_TRUE(suite.UpsertAccount(wrong_region, "FR", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  ASSERT_TRUE(suite.UpsertAccount(wrong_currency, "DE", "USD", v1::BILLING_CHANNEL_DIRECT).ok());
  ASSERT_TRUE(suite.UpsertAccount(partner, "DE", "EUR", v1::BILLING_CHANNEL_PARTNER).ok());
  ASSERT_TRUE(suite.UpsertAccount(right, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(1, 2000, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);

  EXPECT_EQ(ReasonOf(suite.Redeem(codes[0].code(), wrong_region, "a")), "REGION_MISMATCH");
  EXPECT_EQ(ReasonOf(suite.Redeem(codes[0].code(), wrong_currency, "b")), "CURRENCY_MISMATCH");
  EXPECT_EQ(ReasonOf(suite.Redeem(codes[0].code(), partner, "c")), "THIRD_PARTY_BILLING");
  EXPECT_EQ(ReasonOf(suite.Redeem(codes[0].code(), missing, "d")), "ACCOUNT_NOT_FOUND");
  EXPECT_THAT(QueryColumn(suite.code_vault_dsn,
                          "SELECT count(*) FROM redemptions WHERE state = 'REJECTED'"),
              AllEqual("4"));
  EXPECT_THAT(QueryColumn(suite.account_credit_dsn, "SELECT count(*) FROM ledger_entries"),
              AllEqual("0"));

  // A retry of a refused request gets its first answer, and the code (ACTIVE
  // again) is not taken by it: the reservation meets the request's earlier
  // row and changes nothing.
  grpc::Status retry = suite.Redeem(codes[0].code(), wrong_region, "a");
  EXPECT_EQ(retry.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(retry), "REGION_MISMATCH");
  EXPECT_THAT(QueryColumn(suite.code_vault_dsn, "SELECT count(*) FROM redemptions"), AllEqual("4"));
  EXPECT_THAT(QueryColumn(suite.code_vault_dsn, "SELECT state FROM codes"), AllEqual("ACTIVE"));

  v1::Redemption ok;
  ASSERT_TRUE(suite.Redeem(codes[0].code(), right, "e", &ok).ok());
  EXPECT_EQ(ok.balance().amount_minor(), 2000);
}

}  // namespace
}  // namespace giftcard::testing

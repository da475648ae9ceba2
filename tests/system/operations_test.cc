// Money stays right under operations: a token file reloaded
// mid-saga, a currency change, calls that race for one request id, guesses
// in parallel and in many spellings, a PIN typed where a serial belongs.
// Each test reproduces its defect against real processes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <future>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "server/client.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> AllBut(const std::string& principal) {
  std::vector<std::string> out;
  for (const auto& p : AllTestPrincipals()) {
    if (p != principal) out.push_back(p);
  }
  return out;
}

// How many times `needle` occurs in `haystack`.
int Occurrences(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

// Rewrites account-credit's tokens file and waits until it has reloaded it.
void ReloadTokens(Suite& suite, const std::string& tokens_file,
                  const std::vector<std::string>& principals) {
  const int loads_before = Occurrences(suite.account_credit->Log(), "\"tokens_loaded\"");
  WriteTokensFile(tokens_file, principals);
  suite.account_credit->Signal(SIGHUP);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline &&
         Occurrences(suite.account_credit->Log(), "\"tokens_loaded\"") == loads_before) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_GT(Occurrences(suite.account_credit->Log(), "\"tokens_loaded\""), loads_before);
}

// Polls `query` (one value) on `dsn` until it reads `want` or `timeout` passes.
std::string WaitForValue(const std::string& dsn, const std::string& query, const std::string& want,
                         absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::vector<std::string> got = QueryColumn(dsn, query);
  while (absl::Now() < deadline && (got.size() != 1 || got[0] != want)) {
    absl::SleepFor(absl::Milliseconds(50));
    got = QueryColumn(dsn, query);
  }
  return got.size() == 1 ? got[0] : absl::StrCat("(", got.size(), " rows)");
}

// Waits until the service's metric `name` reaches at least `at_least`.
double WaitForMetric(const Process& service, const std::string& name, double at_least,
                     absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  double value = MetricValue(ScrapeMetrics(service), name);
  while (absl::Now() < deadline && value < at_least) {
    absl::SleepFor(absl::Milliseconds(100));
    value = MetricValue(ScrapeMetrics(service), name);
  }
  return value;
}

int64_t BalanceOf(Suite& suite, const std::string& account) {
  v1::Account a;
  EXPECT_TRUE(suite.GetAccount(account, &a).ok());
  return a.balance().amount_minor();
}

// Defect 1, the vault: the credit commits but its answer is late; then
// account-credit stops knowing the vault's token. UNAUTHENTICATED says
// nothing about the credit: the redemption must stay PENDING (before the
// fix it was rejected, the code went back to ACTIVE, and a second account
// redeemed the same card: 7.00 became 14.00).
TEST(OperationsTest, AnAuthErrorAfterACommittedCreditNeverPutsTheCodeBack) {
  const std::string tokens = WriteTokensFile(TempPath("tokens"), AllTestPrincipals());
  Suite suite({.account_credit_args = {"--tokens_file=" + tokens, "--enable_test_hooks",
                                       "--test_reply_delay_methods=BatchCreditAccounts=3000"},
               .code_vault_args = {"--credit_timeout=1s", "--recovery_interval=200ms",
                                   "--recovery_min_age=300ms"}});
  const std::string a = UniqueName("acct"), b = UniqueName("acct");
  ASSERT_TRUE(suite.UpsertAccount(a, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  ASSERT_TRUE(suite.UpsertAccount(b, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(1, 700, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);

  // The credit commits; its answer arrives after the vault's deadline.
  grpc::Status first = suite.Redeem(codes[0].code(), a, "r1");
  EXPECT_EQ(first.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(WaitForValue(suite.account_credit_dsn, "SELECT count(*) FROM transfers", "1",
                         absl::Seconds(10)),
            "1");
  // account-credit no longer accepts the vault's token (and answers at once).
  suite.RestartAccountCredit({"--tokens_file=" + WriteTokensFile(tokens, AllBut("code-vault"))});
  // The recovery worker meets UNAUTHENTICATED, again and again.
  EXPECT_GE(WaitForMetric(*suite.code_vault, "giftcard_saga_unknown_outcomes_total", 4,
                          absl::Seconds(20)),
            4);
  EXPECT_THAT(QueryColumn(suite.code_vault_dsn, "SELECT state FROM redemptions"),
              ElementsAre("PENDING"));
  EXPECT_THAT(QueryColumn(suite.code_vault_dsn, "SELECT state FROM codes"),
              ElementsAre("REDEEMING"));
  // The second account cannot have the card while the first one's credit stands.
  EXPECT_EQ(ReasonOf(suite.Redeem(codes[0].code(), b, "r2")), "REDEMPTION_IN_PROGRESS");

  // The token is back: the worker finishes the saga with the one credit.
  ReloadTokens(suite, tokens, AllTestPrincipals());
  EXPECT_EQ(WaitForValue(suite.code_vault_dsn, "SELECT state FROM redemptions", "COMPLETED",
                         absl::Seconds(30)),
            "COMPLETED");
  EXPECT_EQ(ReasonOf(suite.Redeem(codes[0].code(), b, "r3")), "CODE_ALREADY_REDEEMED");
  EXPECT_EQ(BalanceOf(suite, a), 700);
  EXPECT_EQ(BalanceOf(suite, b), 0);
  EXPECT_THAT(QueryColumn(suite.account_credit_dsn, "SELECT count(*) FROM transfers"),
              ElementsAre("1"));
  EXPECT_EQ(suite.AuditReport(), "");
  // Stuck, it said so once, not on every retry.
  EXPECT_EQ(Occurrences(suite.code_vault->SettledLog(), "\"redemption_outcome_unknown\""), 2);
}

// Defect 1, billing: the same for ApplyCredit (the application was dropped
// while the debit stood) and ReverseCredit (back to APPLIED after the
// credit was returned).
TEST(OperationsTest, AnAuthErrorAfterACommittedDebitOrReversalKeepsTheApplicationUnsettled) {
  const std::string tokens = WriteTokensFile(TempPath("tokens"), AllTestPrincipals());
  Suite suite({.account_credit_args = {"--tokens_file=" + tokens, "--enable_test_hooks",
                                       "--test_reply_delay_methods=BatchDebitAccounts=3000"},
               .billing_args = {"--debit_timeout=1s", "--recovery_interval=200ms",
                                "--recovery_min_age=300ms"}});
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(1, 3000, "EUR", "DE");
  ASSERT_TRUE(suite.Redeem(codes[0].code(), account, "fund").ok());

  v1::CreditApplication app;
  EXPECT_EQ(suite.ApplyCredit("inv-1", account, 1199, "EUR", &app).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(
      WaitForValue(suite.account_credit_dsn, "SELECT count(*) FROM transfers WHERE kind = 'DEBIT'",
                   "1", absl::Seconds(10)),
      "1");
  suite.RestartAccountCredit({"--tokens_file=" + WriteTokensFile(tokens, AllBut("billing")),
                              "--enable_test_hooks",
                              "--test_reply_delay_methods=ReverseTransfer=3000"});
  EXPECT_GE(
      WaitForMetric(*suite.billing, "giftcard_saga_unknown_outcomes_total", 4, absl::Seconds(20)),
      4);
  EXPECT_THAT(QueryColumn(suite.billing_dsn, "SELECT state FROM credit_applications"),
              ElementsAre("PENDING"));
  ReloadTokens(suite, tokens, AllTestPrincipals());
  EXPECT_EQ(WaitForValue(suite.billing_dsn, "SELECT state FROM credit_applications", "APPLIED",
                         absl::Seconds(30)),
            "APPLIED");
  EXPECT_EQ(BalanceOf(suite, account), 3000 - 1199);

  // The reversal: committed, answered late, then the token is gone.
  EXPECT_EQ(suite.ReverseCredit("inv-1", &app).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(WaitForValue(suite.account_credit_dsn,
                         "SELECT count(*) FROM transfers WHERE kind = 'REVERSAL'", "1",
                         absl::Seconds(10)),
            "1");
  const double unknown_before =
      MetricValue(ScrapeMetrics(*suite.billing), "giftcard_saga_unknown_outcomes_total");
  suite.RestartAccountCredit({"--tokens_file=" + WriteTokensFile(tokens, AllBut("billing"))});
  EXPECT_GE(WaitForMetric(*suite.billing, "giftcard_saga_unknown_outcomes_total",
                          unknown_before + 3, absl::Seconds(20)),
            unknown_before + 3);
  EXPECT_THAT(QueryColumn(suite.billing_dsn, "SELECT state FROM credit_applications"),
              ElementsAre("REVERSAL_PENDING"));
  ReloadTokens(suite, tokens, AllTestPrincipals());
  EXPECT_EQ(WaitForValue(suite.billing_dsn, "SELECT state FROM credit_applications", "REVERSED",
                         absl::Seconds(30)),
            "REVERSED");
  EXPECT_EQ(BalanceOf(suite, account), 3000);
  EXPECT_EQ(suite.AuditReport(), "");
}

// Defect 2: 10,000 JPY redeemed and applied, the account switched to USD,
// the invoice reversed — the account held 10,000 USD minor units.
TEST(OperationsTest, AnAccountsCurrencyIsFixedOnceItHasALedgerEntry) {
  Suite suite;
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite.UpsertAccount(account, "JP", "JPY", v1::BILLING_CHANNEL_DIRECT).ok());
  // Before any entry, the currency may still change.
  ASSERT_TRUE(suite.UpsertAccount(account, "JP", "USD", v1::BILLING_CHANNEL_DIRECT).ok());
  ASSERT_TRUE(suite.UpsertAccount(account, "JP", "JPY", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(1, 10000, "JPY", "JP");
  ASSERT_TRUE(suite.Redeem(codes[0].code(), account, "r").ok());
  v1::CreditApplication app;
  ASSERT_TRUE(suite.ApplyCredit("inv-jpy", account, 10000, "JPY", &app).ok());
  ASSERT_EQ(BalanceOf(suite, account), 0);

  grpc::Status s = suite.UpsertAccount(account, "JP", "USD", v1::BILLING_CHANNEL_DIRECT);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "CURRENCY_LOCKED");
  // Other attributes still change; the currency is what is fixed.
  EXPECT_TRUE(suite.UpsertAccount(account, "JP", "JPY", v1::BILLING_CHANNEL_APP_STORE).ok());

  ASSERT_TRUE(suite.ReverseCredit("inv-jpy", &app).ok());
  v1::Account a;
  ASSERT_TRUE(suite.GetAccount(account, &a).ok());
  EXPECT_EQ(a.balance().currency_code(), "JPY");
  EXPECT_EQ(a.balance().amount_minor(), 10000);
  EXPECT_EQ(suite.AuditReport(), "");
}

// Defect 2, the ledger's own guard: an entry in another currency than its
// account's is refused by the database, and the audit reports one anyway.
TEST(OperationsTest, TheLedgerRefusesAnEntryInAnotherCurrencyAndTheAuditSeesOne) {
  Suite suite;
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite.UpsertAccount(account, "US", "USD", v1::BILLING_CHANNEL_DIRECT).ok());
  const std::string insert = absl::StrCat(
      "INSERT INTO ledger_entries (account_id, transfer_id, currency_code, amount_minor) "
      "VALUES ('",
      account, "', gen_random_uuid(), 'JPY', 10000)");
  EXPECT_THAT(ExecSql(suite.account_credit_dsn, insert),
              HasSubstr("for an account in another currency"));
  // With the guard lifted (as a bad migration or a manual fix might), the
  // audit reports the entry.
  ASSERT_EQ(
      ExecSql(suite.account_credit_dsn,
              "ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_in_account_currency; " +
                  insert + "; UPDATE accounts SET balance_minor = 10000"),
      "");
  EXPECT_THAT(suite.AuditReport(), HasSubstr("entries_in_account_currency"));
}

// Defect 3: a duplicate queued behind the first call and an UpsertAccount
// read earlier answers in a snapshot taken before it waited for the
// account's lock: it missed the recorded refusal and credited.
TEST(OperationsTest, TwoCallsWithOneRequestIdDecideOnceEvenWhenTheAccountChangesBetween) {
  Suite suite;
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_APP_STORE).ok());
  auto credit = [&] {
    v1::CreditAccountRequest r;
    r.set_account_id(account);
    r.mutable_amount()->set_currency_code("EUR");
    r.mutable_amount()->set_amount_minor(500);
    r.set_code_region("DE");
    r.set_request_id("one-request");
    v1::Transfer t;
    return suite.credit_stub->CreditAccount(Context(kCodeVaultToken).get(), r, &t);
  };
  // Everything queues on the account's row: the first call, the switch to
  // direct billing, then the duplicate (Postgres grants row locks in order).
  RowLock lock(suite.account_credit_dsn,
               "SELECT 1 FROM accounts WHERE account_id = '" + account + "' FOR UPDATE");
  auto first = std::async(std::launch::async, credit);
  ASSERT_TRUE(WaitForLockWaiters(suite.account_credit_dsn, 1, absl::Seconds(10)));
  auto upsert = std::async(std::launch::async, [&] {
    return suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT);
  });
  ASSERT_TRUE(WaitForLockWaiters(suite.account_credit_dsn, 2, absl::Seconds(10)));
  auto duplicate = std::async(std::launch::async, credit);
  ASSERT_TRUE(WaitForLockWaiters(suite.account_credit_dsn, 3, absl::Seconds(10)));
  lock.Release();

  const grpc::Status a = first.get(), b = duplicate.get();
  ASSERT_TRUE(upsert.get().ok());
  EXPECT_EQ(ReasonOf(a), "THIRD_PARTY_BILLING");
  EXPECT_EQ(ReasonOf(b), "THIRD_PARTY_BILLING") << b.error_message();
  EXPECT_THAT(QueryColumn(suite.account_credit_dsn, "SELECT count(*) FROM transfers"),
              ElementsAre("0"));
  EXPECT_EQ(BalanceOf(suite, account), 0);
  // And every later replay gets the same first answer.
  EXPECT_EQ(ReasonOf(credit()), "THIRD_PARTY_BILLING");
}

// Fires `n` unknown-code redemptions at once from `client_ip(i)`.
std::map<std::string, int> GuessAtOnce(Suite& suite, int n,
                                       const std::function<std::string(int)>& client_ip) {
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  std::vector<std::future<grpc::Status>> calls;
  for (int i = 0; i < n; ++i) {
    calls.push_back(std::async(std::launch::async, [&, i, start] {
      start.wait();
      v1::RedeemCodeRequest r;
      r.set_code(UnknownPin());
      r.set_account_id(absl::StrCat("guesser-", i));
      r.set_request_id("g");
      r.set_client_ip(client_ip(i));
      v1::Redemption out;
      return suite.vault_stub->RedeemCode(Context(kStorefrontToken).get(), r, &out);
    }));
  }
  go.set_value();
  std::map<std::string, int> reasons;
  for (auto& c : calls) ++reasons[ReasonOf(c.get())];
  return reasons;
}

// Defect 4: check and count were two round trips, so parallel guesses on
// one key all passed the check.
TEST(OperationsTest, GuessesInParallelAreAllCountedWithAndWithoutRedis) {
  RedisServer redis;
  Suite suite(
      {.redis_port = redis.port(),
       .code_vault_args = {"--max_failures_per_client=10", "--max_failures_per_account=1000"}});
  auto reasons = GuessAtOnce(suite, 40, [](int) { return "198.51.100.7"; });
  EXPECT_EQ(reasons["CODE_INVALID"], 10);
  EXPECT_EQ(reasons["TOO_MANY_ATTEMPTS"], 30);

  redis.Stop();  // The in-process fallback counts the same way.
  reasons = GuessAtOnce(suite, 40, [](int) { return "198.51.100.8"; });
  EXPECT_EQ(reasons["CODE_INVALID"], 10);
  EXPECT_EQ(reasons["TOO_MANY_ATTEMPTS"], 30);
}

// Defect 5: 80 guesses in four spellings of one address were never limited.
TEST(OperationsTest, OneAddressInManySpellingsIsOneClient) {
  Suite suite({.code_vault_args = {"--max_failures_per_account=1000"}});
  const std::array<int, 4> o = UniqueIpv4Octets();
  const std::string dotted = absl::StrJoin(o, ".");
  const std::vector<std::string> spellings = {
      dotted, "::ffff:" + dotted, "::FFFF:" + dotted,
      absl::StrCat("0::ffff:", absl::Hex(o[0] << 8 | o[1]), ":", absl::Hex(o[2] << 8 | o[3]))};
  std::map<std::string, int> reasons;
  for (int i = 0; i < 80; ++i) {
    v1::RedeemCodeRequest r;
    r.set_code(UnknownPin());
    r.set_account_id(absl::StrCat("acct-", i));
    r.set_request_id("g");
    r.set_client_ip(spellings[i % spellings.size()]);
    v1::Redemption out;
    ++reasons[ReasonOf(suite.vault_stub->RedeemCode(Context(kStorefrontToken).get(), r, &out))];
  }
  EXPECT_EQ(reasons["CODE_INVALID"], 50);
  EXPECT_EQ(reasons["TOO_MANY_ATTEMPTS"], 30);

  // client_ip is required on RedeemCode, and parsed.
  for (const std::string bad : {"", "localhost", "203.0.113.777", "fe80::1%eth0"}) {
    v1::RedeemCodeRequest r;
    r.set_code(UnknownPin());
    r.set_account_id("acct");
    r.set_request_id("g");
    r.set_client_ip(bad);
    v1::Redemption out;
    grpc::Status s = suite.vault_stub->RedeemCode(Context(kStorefrontToken).get(), r, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_THAT(s.error_message(), HasSubstr("client_ip")) << bad;
  }
}

// Item 7: a replay is answered before the limiter; unsold codes answer
// CODE_INVALID even when redeemed in parallel (never REDEMPTION_IN_PROGRESS).
TEST(OperationsTest, AReplayIsAnsweredOverTheLimitAndUnsoldCodesAreUnknownCodes) {
  Suite suite({.code_vault_args = {"--max_failures_per_account=3"}});
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(1, 500, "EUR", "DE");
  ASSERT_TRUE(suite.Redeem(codes[0].code(), account, "mine").ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ReasonOf(suite.Redeem(UnknownPin(), account, absl::StrCat("g", i))), "CODE_INVALID");
  }
  EXPECT_EQ(ReasonOf(suite.Redeem(UnknownPin(), account, "g3")), "TOO_MANY_ATTEMPTS");
  v1::Redemption replay;
  ASSERT_TRUE(suite.Redeem(codes[0].code(), account, "mine", &replay).ok());
  EXPECT_EQ(replay.state(), v1::REDEMPTION_STATE_COMPLETED);

  // An issued, never activated code, redeemed by 16 accounts at once.
  v1::IssueCodesRequest issue;
  issue.set_count(1);
  issue.mutable_amount()->set_currency_code("EUR");
  issue.mutable_amount()->set_amount_minor(500);
  issue.set_region("DE");
  issue.set_request_id(UniqueName("unsold"));
  auto issue_context = Context(kAdminToken);
  auto stream = suite.vault_stub->IssueCodes(issue_context.get(), issue);
  v1::IssuedCode unsold;
  ASSERT_TRUE(stream->Read(&unsold));
  std::vector<std::future<grpc::Status>> calls;
  for (int i = 0; i < 16; ++i) {
    calls.push_back(std::async(std::launch::async, [&, i] {
      return suite.Redeem(unsold.code(), absl::StrCat(account, "-", i), "u");
    }));
  }
  for (auto& c : calls) EXPECT_EQ(ReasonOf(c.get()), "CODE_INVALID");
  EXPECT_THAT(QueryColumn(suite.code_vault_dsn, "SELECT count(*) FROM redemptions"),
              ElementsAre("1"));
}

// Item 7: an expire_time beyond what Postgres stores is a field error.
TEST(OperationsTest, AnExpiryFarBeyondAnyCardIsInvalidArgumentAndWritesNothing) {
  Suite suite;
  const std::string before = suite.ContentsDigest();
  v1::IssueCodesRequest issue;
  issue.set_count(1);
  issue.mutable_amount()->set_currency_code("EUR");
  issue.mutable_amount()->set_amount_minor(500);
  issue.set_region("DE");
  issue.set_request_id("far");
  issue.mutable_expire_time()->set_seconds(int64_t{1} << 42);
  auto issue_context = Context(kAdminToken);
  auto stream = suite.vault_stub->IssueCodes(issue_context.get(), issue);
  v1::IssuedCode code;
  EXPECT_FALSE(stream->Read(&code));
  grpc::Status s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("expire_time"));
  EXPECT_EQ(suite.ContentsDigest(), before);
}

// Item 7: UpsertAccount without a state leaves a closed account closed.
TEST(OperationsTest, AnUpsertWithoutAStateKeepsTheAccountsState) {
  Suite suite;
  const std::string account = UniqueName("acct");
  v1::UpsertAccountRequest close;
  close.mutable_account()->set_account_id(account);
  close.mutable_account()->set_country("DE");
  close.mutable_account()->set_currency_code("EUR");
  close.mutable_account()->set_billing_channel(v1::BILLING_CHANNEL_DIRECT);
  close.mutable_account()->set_state(v1::ACCOUNT_STATE_CLOSED);
  v1::Account out;
  ASSERT_TRUE(suite.credit_stub->UpsertAccount(Context(kStorefrontToken).get(), close, &out).ok());
  EXPECT_EQ(out.state(), v1::ACCOUNT_STATE_CLOSED);
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT, &out).ok());
  EXPECT_EQ(out.state(), v1::ACCOUNT_STATE_CLOSED);
  close.mutable_account()->set_state(v1::ACCOUNT_STATE_OPEN);
  ASSERT_TRUE(suite.credit_stub->UpsertAccount(Context(kStorefrontToken).get(), close, &out).ok());
  EXPECT_EQ(out.state(), v1::ACCOUNT_STATE_OPEN);
}

// Defect 8: a PIN typed where the serial belongs reached the call log.
TEST(OperationsTest, APinTypedAsASerialIsRefusedAndNeverLogged) {
  Suite suite;
  auto codes = suite.IssueActiveCodes(1, 500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);
  const std::string pin = codes[0].code();
  for (const std::string& serial :
       std::vector<std::string>{pin, "GC00000200000", "gc0000020000x2", "GC1"}) {
    v1::GetCodeStatusRequest r;
    r.set_serial(serial);
    v1::CodeStatus out;
    grpc::Status s = suite.vault_stub->GetCodeStatus(Context(kAdminToken).get(), r, &out);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << serial;
    EXPECT_THAT(s.error_message(), Not(HasSubstr(serial)));
    EXPECT_THAT(suite.code_vault->SettledLog(), Not(HasSubstr(serial)));
  }
  EXPECT_THAT(suite.code_vault->SettledLog(), HasSubstr("\"serial\":\"(invalid)\""));
  // A serial's spelling is forgiven (case, separators): that is no PIN.
  v1::GetCodeStatusRequest lower;
  lower.set_serial(absl::AsciiStrToLower(codes[0].serial()).insert(8, "-"));
  v1::CodeStatus found;
  EXPECT_TRUE(suite.vault_stub->GetCodeStatus(Context(kAdminToken).get(), lower, &found).ok());
  EXPECT_EQ(found.serial(), codes[0].serial());
  // The real serial still answers, and is logged.
  v1::GetCodeStatusRequest r;
  r.set_serial(codes[0].serial());
  v1::CodeStatus out;
  EXPECT_TRUE(suite.vault_stub->GetCodeStatus(Context(kAdminToken).get(), r, &out).ok());
  EXPECT_THAT(suite.code_vault->SettledLog(),
              HasSubstr("\"serial\":\"" + codes[0].serial() + "\""));
}

// Defect 9: started without a tokens file the service reported SERVING and
// refused every call; without --pg_dsn it retried for 60 s.
TEST(OperationsTest, AServiceThatCouldAuthenticateNobodyOrHasNoDatabaseRefusesToStart) {
  const std::string dsn = CreateDatabase(TestServers::Get().pg_port, "failclosed");
  Process no_tokens(BinaryOf("billing"), {}, {{"GIFTCARD_PG_DSN", dsn}},
                    TempPath("no-tokens") + ".log");
  EXPECT_EQ(no_tokens.WaitExit(absl::Seconds(10)), 2);
  EXPECT_THAT(no_tokens.Log(), HasSubstr("--tokens_file (GIFTCARD_TOKENS_FILE)"));
  // Found before any migration ran.
  EXPECT_THAT(QueryColumn(dsn, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"),
              ElementsAre("0"));

  Process missing_file(BinaryOf("billing"), {"--tokens_file=/nonexistent/tokens"},
                       {{"GIFTCARD_PG_DSN", dsn}}, TempPath("missing-tokens") + ".log");
  EXPECT_EQ(missing_file.WaitExit(absl::Seconds(10)), 2);
  EXPECT_THAT(missing_file.Log(), HasSubstr("/nonexistent/tokens"));
  EXPECT_THAT(QueryColumn(dsn, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"),
              ElementsAre("0"));

  Process no_dsn(BinaryOf("billing"), {"--tokens_file=" + TestTokensFile()}, {},
                 TempPath("no-dsn") + ".log");
  EXPECT_EQ(no_dsn.WaitExit(absl::Seconds(10)), 2);
  EXPECT_THAT(no_dsn.Log(), HasSubstr("--pg_dsn (or GIFTCARD_PG_DSN)"));
}

}  // namespace
}  // namespace giftcard::testing

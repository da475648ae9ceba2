// A code's whole life through the real vault: issue, activate, void, expire,
// list, check, status; storefront answers; limits on guessing; PINs kept secret.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "codes/codes.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "protoconv/protoconv.h"
#include "redis/client.h"
#include "server/client.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// `timeout` bounds the whole stream: a check of what is issued, not of how
// fast (a loaded shared machine issues 100,000 codes in well over 10 s).
std::vector<v1::IssuedCode> Issue(Suite& suite, const v1::IssueCodesRequest& request,
                                  grpc::Status* status,
                                  absl::Duration timeout = absl::Seconds(10)) {
  std::vector<v1::IssuedCode> out;
  auto ctx = Context(kAdminToken, timeout);
  auto reader = suite.vault_stub->IssueCodes(ctx.get(), request);
  v1::IssuedCode code;
  while (reader->Read(&code)) out.push_back(code);
  *status = reader->Finish();
  return out;
}

v1::IssueCodesRequest IssueRequest(int count, const std::string& request_id) {
  v1::IssueCodesRequest r;
  r.set_count(count);
  r.mutable_amount()->set_currency_code("EUR");
  r.mutable_amount()->set_amount_minor(1500);
  r.set_region("DE");
  r.set_request_id(request_id);
  return r;
}

grpc::Status Status(Suite& suite, const std::string& serial, v1::CodeStatus* out) {
  v1::GetCodeStatusRequest r;
  r.set_serial(serial);
  return suite.vault_stub->GetCodeStatus(Context(kAdminToken).get(), r, out);
}

class VaultLifecycleTest : public ::testing::Test {
 protected:
  Suite suite_;
};

TEST_F(VaultLifecycleTest, IssueIsIdempotentAndNeverShowsPinsTwice) {
  grpc::Status s;
  auto first = Issue(suite_, IssueRequest(5, "batch-a"), &s);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(first.size(), 5u);
  for (const auto& c : first) {
    EXPECT_EQ(c.code().size(), 19u);
    EXPECT_TRUE(codes::Normalize(c.code()).ok());
    EXPECT_EQ(c.batch_id(), first[0].batch_id());
  }
  auto replay = Issue(suite_, IssueRequest(5, "batch-a"), &s);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(replay.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(replay[i].serial(), first[i].serial());
    EXPECT_EQ(replay[i].batch_id(), first[0].batch_id());
    EXPECT_TRUE(replay[i].code().empty());
  }
  Issue(suite_, IssueRequest(6, "batch-a"), &s);
  EXPECT_EQ(ReasonOf(s), "REQUEST_ID_REUSED");
  EXPECT_THAT(QueryColumn(suite_.code_vault_dsn, "SELECT count(*) FROM codes"), AllEqual("5"));
}

TEST_F(VaultLifecycleTest, IssuesAHundredThousandCodesInOneCall) {
  grpc::Status s;
  const absl::Time start = absl::Now();
  auto codes = Issue(suite_, IssueRequest(100000, "batch-big"), &s, absl::Seconds(120));
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(codes.size(), 100000u);
  std::set<std::string> serials, pins;
  for (const auto& c : codes) {
    serials.insert(c.serial());
    pins.insert(c.code());
  }
  EXPECT_EQ(serials.size(), 100000u);
  EXPECT_EQ(pins.size(), 100000u);
  EXPECT_THAT(QueryColumn(suite_.code_vault_dsn, "SELECT count(*) FROM codes"), AllEqual("100000"));
  std::printf("issued 100000 codes in %s\n", absl::FormatDuration(absl::Now() - start).c_str());
  v1::IssueCodesRequest too_many = IssueRequest(100001, "batch-too-big");
  Issue(suite_, too_many, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(VaultLifecycleTest, ActivateAndVoidByBatchOrSerialsAreIdempotent) {
  grpc::Status s;
  auto codes = Issue(suite_, IssueRequest(4, "batch-b"), &s);
  ASSERT_EQ(codes.size(), 4u);
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite_.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());

  // Not yet sold: the storefront learns nothing.
  s = suite_.Redeem(codes[0].code(), account, "early");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ReasonOf(s), "CODE_INVALID");

  v1::ActivateCodesRequest activate;
  activate.add_serials(codes[0].serial());
  activate.add_serials(codes[1].serial());
  activate.set_request_id("act-1");
  v1::ActivateCodesResponse activated;
  ASSERT_TRUE(
      suite_.vault_stub->ActivateCodes(Context(kAdminToken).get(), activate, &activated).ok());
  EXPECT_EQ(activated.activated_count(), 2);
  ASSERT_TRUE(
      suite_.vault_stub->ActivateCodes(Context(kAdminToken).get(), activate, &activated).ok());
  EXPECT_EQ(activated.activated_count(), 2);  // The replay's answer is the first one.
  activate.clear_serials();
  activate.set_batch_id(codes[0].batch_id());
  activate.set_request_id("act-2");
  ASSERT_TRUE(
      suite_.vault_stub->ActivateCodes(Context(kAdminToken).get(), activate, &activated).ok());
  EXPECT_EQ(activated.activated_count(), 2);  // Only the two still ISSUED.

  ASSERT_TRUE(suite_.Redeem(codes[0].code(), account, "r1").ok());

  // A redeemed code cannot be voided, and then nothing is voided.
  v1::VoidCodesRequest void_request;
  void_request.add_serials(codes[0].serial());
  void_request.add_serials(codes[1].serial());
  void_request.set_reason("stolen from the shop");
  void_request.set_request_id("void-1");
  v1::VoidCodesResponse voided;
  s = suite_.vault_stub->VoidCodes(Context(kAdminToken).get(), void_request, &voided);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "CODE_ALREADY_REDEEMED");
  v1::CodeStatus status;
  ASSERT_TRUE(Status(suite_, codes[1].serial(), &status).ok());
  EXPECT_EQ(status.state(), v1::CODE_STATE_ACTIVE);

  void_request.clear_serials();
  void_request.set_batch_id(codes[0].batch_id());
  void_request.set_request_id("void-2");
  ASSERT_TRUE(suite_.vault_stub->VoidCodes(Context(kAdminToken).get(), void_request, &voided).ok());
  EXPECT_EQ(voided.voided_count(), 3);
  ASSERT_TRUE(suite_.vault_stub->VoidCodes(Context(kAdminToken).get(), void_request, &voided).ok());
  EXPECT_EQ(voided.voided_count(), 3);
  ASSERT_TRUE(Status(suite_, codes[1].serial(), &status).ok());
  EXPECT_EQ(status.state(), v1::CODE_STATE_VOIDED);
  EXPECT_GT(status.void_time().seconds(), 0);
  ASSERT_TRUE(Status(suite_, codes[0].serial(), &status).ok());
  EXPECT_EQ(status.state(), v1::CODE_STATE_REDEEMED);

  // Voided: one answer for the storefront, the exact state for admins.
  s = suite_.Redeem(codes[1].code(), account, "r2");
  EXPECT_EQ(ReasonOf(s), "CODE_INVALID");
  v1::CheckCodeRequest check;
  check.set_code(codes[1].code());
  check.set_client_ip("192.0.2.10");
  v1::CodeCheck checked;
  s = suite_.vault_stub->CheckCode(Context(kStorefrontToken).get(), check, &checked);
  EXPECT_EQ(ReasonOf(s), "CODE_INVALID");
  // Every change was recorded with its time.
  EXPECT_THAT(QueryColumn(suite_.code_vault_dsn,
                          "SELECT string_agg(to_state, '>' ORDER BY event_id) FROM code_events "
                          "GROUP BY code_hash ORDER BY 1"),
              ::testing::ElementsAre("ISSUED>ACTIVE>REDEEMING>REDEEMED", "ISSUED>ACTIVE>VOIDED",
                                     "ISSUED>ACTIVE>VOIDED", "ISSUED>ACTIVE>VOIDED"));
}

TEST_F(VaultLifecycleTest, ExpiredCodesCannotBeRedeemedAndSayWhyToAdmins) {
  grpc::Status s;
  v1::IssueCodesRequest request = IssueRequest(1, "batch-expiring");
  const absl::Time expiry = absl::Now() + absl::Milliseconds(1500);
  protoconv::ToTimestamp(expiry, request.mutable_expire_time());
  auto codes = Issue(suite_, request, &s);
  ASSERT_EQ(codes.size(), 1u);
  v1::ActivateCodesRequest activate;
  activate.set_batch_id(codes[0].batch_id());
  activate.set_request_id("act");
  v1::ActivateCodesResponse activated;
  ASSERT_TRUE(
      suite_.vault_stub->ActivateCodes(Context(kAdminToken).get(), activate, &activated).ok());
  v1::CodeStatus status;
  ASSERT_TRUE(Status(suite_, codes[0].serial(), &status).ok());
  EXPECT_EQ(status.state(), v1::CODE_STATE_ACTIVE);

  absl::SleepFor(expiry - absl::Now() + absl::Milliseconds(100));  // Until past expiry.
  ASSERT_TRUE(Status(suite_, codes[0].serial(), &status).ok());
  EXPECT_EQ(status.state(), v1::CODE_STATE_EXPIRED);
  EXPECT_EQ(absl::FromUnixSeconds(status.expire_time().seconds()),
            absl::FromUnixSeconds(absl::ToUnixSeconds(expiry)));
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite_.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  EXPECT_EQ(ReasonOf(suite_.Redeem(codes[0].code(), account, "late")), "CODE_INVALID");

  // Past expiry dates are refused at issue time.
  protoconv::ToTimestamp(absl::Now() - absl::Hours(1), request.mutable_expire_time());
  request.set_request_id("batch-past");
  Issue(suite_, request, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(VaultLifecycleTest, ListCodesPagesThroughABatchAndStatusWorksByPin) {
  grpc::Status s;
  auto codes = Issue(suite_, IssueRequest(25, "batch-list"), &s);
  ASSERT_EQ(codes.size(), 25u);
  v1::ListCodesRequest list;
  list.set_batch_id(codes[0].batch_id());
  list.set_page_size(10);
  std::vector<std::string> serials;
  int pages = 0;
  do {
    v1::ListCodesResponse page;
    s = suite_.vault_stub->ListCodes(Context(kAdminToken).get(), list, &page);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (const auto& c : page.codes()) {
      serials.push_back(c.serial());
      EXPECT_EQ(c.state(), v1::CODE_STATE_ISSUED);
      EXPECT_EQ(c.pin_last4().size(), 4u);
    }
    list.set_page_token(page.next_page_token());
    ++pages;
  } while (!list.page_token().empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(serials.size(), 25u);
  for (size_t i = 0; i < serials.size(); ++i) EXPECT_EQ(serials[i], codes[i].serial());

  list.set_page_token("");
  list.set_state(v1::CODE_STATE_ACTIVE);
  v1::ListCodesResponse none;
  ASSERT_TRUE(suite_.vault_stub->ListCodes(Context(kAdminToken).get(), list, &none).ok());
  EXPECT_EQ(none.codes_size(), 0);
  list.set_page_token("bm90IGEgdG9rZW4");
  EXPECT_EQ(suite_.vault_stub->ListCodes(Context(kAdminToken).get(), list, &none).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::GetCodeStatusRequest by_pin;
  by_pin.set_code(absl::AsciiStrToLower(codes[7].code()));
  v1::CodeStatus status;
  ASSERT_TRUE(suite_.vault_stub->GetCodeStatus(Context(kAdminToken).get(), by_pin, &status).ok());
  EXPECT_EQ(status.serial(), codes[7].serial());
  EXPECT_EQ(status.state(), v1::CODE_STATE_ISSUED);
  EXPECT_GT(status.create_time().seconds(), 0);
  EXPECT_EQ(status.activate_time().seconds(), 0);
}

TEST_F(VaultLifecycleTest, CheckCodeTellsTheValueWithoutRedeeming) {
  auto codes = suite_.IssueActiveCodes(1, 4200, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);
  v1::CheckCodeRequest check;
  check.set_code(absl::StrReplaceAll(codes[0].code(), {{"-", " "}}));
  check.set_client_ip(UniqueIpv4());
  v1::CodeCheck checked;
  ASSERT_TRUE(suite_.vault_stub->CheckCode(Context(kStorefrontToken).get(), check, &checked).ok());
  EXPECT_EQ(checked.amount().amount_minor(), 4200);
  EXPECT_EQ(checked.region(), "DE");
  EXPECT_TRUE(checked.redeemable());
  v1::CodeStatus status;
  ASSERT_TRUE(Status(suite_, codes[0].serial(), &status).ok());
  EXPECT_EQ(status.state(), v1::CODE_STATE_ACTIVE);
}

// CheckCode on the engine and on the call runner's workers alike: a check of
// a real code is refunded, so a storefront may check one as often as it
// likes; a guess stays counted under the client address, and past the
// limit every check from that address is refused, a real code's too.
TEST(VaultLimitsTest, CheckCodeCountsGuessesNotRealCodes) {
  for (const bool engine : {true, false}) {
    Suite suite({.code_vault_args = {absl::StrCat("--engine=", engine ? "true" : "false"),
                                     "--max_failures_per_client=3"}});
    auto codes = suite.IssueActiveCodes(1, 500, "EUR", "DE");
    ASSERT_EQ(codes.size(), 1u);
    const std::string ip = UniqueIpv4();
    auto check = [&](const std::string& code, v1::CodeCheck* out) {
      v1::CheckCodeRequest request;
      request.set_code(code);
      request.set_client_ip(ip);
      return suite.vault_stub->CheckCode(Context(kStorefrontToken).get(), request, out);
    };
    v1::CodeCheck out;
    for (int i = 0; i < 6; ++i) {
      grpc::Status s = check(codes[0].code(), &out);
      ASSERT_TRUE(s.ok()) << "engine " << engine << ", check " << i << ": " << s.error_message();
      EXPECT_EQ(out.amount().amount_minor(), 500);
      EXPECT_TRUE(out.redeemable());
    }
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(ReasonOf(check(codes::Format(codes::GeneratePin()), &out)), "CODE_INVALID")
          << "engine " << engine << ", guess " << i;
    }
    EXPECT_EQ(ReasonOf(check(codes::Format(codes::GeneratePin()), &out)), "TOO_MANY_ATTEMPTS");
    EXPECT_EQ(ReasonOf(check(codes[0].code(), &out)), "TOO_MANY_ATTEMPTS");
  }
}

TEST(VaultKeysTest, CodesIssuedUnderAnOldPepperStillRedeemAfterRotation) {
  Suite suite;
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto old_codes = suite.IssueActiveCodes(1, 1100, "EUR", "DE");
  ASSERT_EQ(old_codes.size(), 1u);

  // Rotate: a new active key first, the old one kept for lookups.
  suite.code_vault.reset();
  const std::string new_key = std::string("test2:") + std::string(64, 'f');
  suite.code_vault = Suite::StartService(
      "code-vault", {},
      {{"GIFTCARD_PG_DSN", suite.code_vault_dsn},
       {"GIFTCARD_PEPPER_KEYS", new_key + "," + kTestPepper},
       {"GIFTCARD_REDIS_ADDRESS", absl::StrCat("127.0.0.1:", TestServers::Get().redis_port)},
       {"GIFTCARD_ACCOUNT_CREDIT_ADDRESS", suite.account_credit_addr},
       {"GIFTCARD_ACCOUNT_CREDIT_TOKEN", kCodeVaultToken}},
      &suite.code_vault_addr);
  suite.vault_stub = v1::CodeVault::NewStub(server::MakeChannel(suite.code_vault_addr));
  auto new_codes = suite.IssueActiveCodes(1, 900, "EUR", "DE");
  ASSERT_EQ(new_codes.size(), 1u);
  EXPECT_THAT(QueryColumn(suite.code_vault_dsn, "SELECT pepper_key_id FROM codes ORDER BY serial"),
              ::testing::ElementsAre("test1", "test2"));
  v1::Redemption r;
  ASSERT_TRUE(suite.Redeem(old_codes[0].code(), account, "old").ok());
  ASSERT_TRUE(suite.Redeem(new_codes[0].code(), account, "new", &r).ok());
  EXPECT_EQ(r.balance().amount_minor(), 2000);
}

TEST(VaultLimitsTest, GuessingFromOneAccountIsStoppedUntilTheWindowPasses) {
  Suite suite(
      {.code_vault_args = {"--max_failures_per_account=10", "--failed_attempts_window=3s"}});
  const std::string account = UniqueName("guesser");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(1, 1000, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);

  int invalid = 0, exhausted = 0;
  grpc::Status last;
  for (int i = 0; i < 50; ++i) {
    last = suite.Redeem(codes::Format(codes::GeneratePin()), account, absl::StrCat("guess-", i));
    const std::string reason = ReasonOf(last);
    if (reason == "CODE_INVALID") ++invalid;
    if (reason == "TOO_MANY_ATTEMPTS") {
      ++exhausted;
      EXPECT_EQ(last.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    }
  }
  EXPECT_EQ(invalid, 10);
  EXPECT_EQ(exhausted, 40);
  auto delay = errors::RetryDelayOf(errors::FromGrpcStatus(last));
  ASSERT_TRUE(delay.has_value());
  EXPECT_GT(*delay, absl::ZeroDuration());
  EXPECT_LE(*delay, absl::Seconds(3));

  // The account's real card waits too, until the window has passed.
  grpc::Status s = suite.Redeem(codes[0].code(), account, "legit");
  EXPECT_EQ(ReasonOf(s), "TOO_MANY_ATTEMPTS");
  delay = errors::RetryDelayOf(errors::FromGrpcStatus(s));
  ASSERT_TRUE(delay.has_value());
  absl::SleepFor(*delay + absl::Milliseconds(200));
  v1::Redemption redemption;
  s = suite.Redeem(codes[0].code(), account, "legit-again", &redemption);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(redemption.balance().amount_minor(), 1000);
}

TEST(VaultSecretsTest, CanaryPinsAppearNowhereInPlaintext) {
  Suite suite;
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(3, 700, "EUR", "DE");
  ASSERT_EQ(codes.size(), 3u);
  ASSERT_TRUE(suite.Redeem(codes[0].code(), account, "canary-1").ok());
  // Refusals and typos: their messages must not carry the code either.
  std::vector<std::string> messages;
  messages.push_back(
      suite.Redeem(codes[1].code(), UniqueName("nobody"), "canary-2").error_message());
  messages.push_back(
      suite.Redeem(codes[0].code(), UniqueName("other"), "canary-3").error_message());
  std::string typo = codes[2].code();
  typo[0] = typo[0] == 'A' ? 'B' : 'A';
  messages.push_back(suite.Redeem(typo, account, "canary-4").error_message());
  v1::CheckCodeRequest check;
  check.set_code(codes[2].code());
  check.set_client_ip("192.0.2.10");
  v1::CodeCheck checked;
  ASSERT_TRUE(suite.vault_stub->CheckCode(Context(kStorefrontToken).get(), check, &checked).ok());

  std::vector<std::string> haystacks;
  for (const std::string& dsn :
       {suite.code_vault_dsn, suite.account_credit_dsn, suite.billing_dsn}) {
    const std::string dbname = dsn.substr(dsn.rfind("dbname=") + 7);
    FILE* dump = popen(absl::StrCat("pg_dump --data-only -h 127.0.0.1 -p ",
                                    TestServers::Get().pg_port, " -U postgres ", dbname, " 2>&1")
                           .c_str(),
                       "r");
    ASSERT_NE(dump, nullptr);
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), dump)) > 0) text.append(buf, n);
    ASSERT_EQ(pclose(dump), 0) << text;
    ASSERT_THAT(text, HasSubstr("COPY public."));  // A real dump, not an error.
    haystacks.push_back(text);
  }
  redis::Options options;
  options.port = TestServers::Get().redis_port;
  redis::Client redis_client(options);
  auto keys = redis_client.Command({"KEYS", "*"});
  ASSERT_TRUE(keys.ok());
  for (const auto& key : keys->elements) {
    haystacks.push_back(key.str);
    auto dumped = redis_client.Command({"DUMP", key.str});
    if (dumped.ok()) haystacks.push_back(dumped->str);
  }
  for (const auto& m : messages) haystacks.push_back(m);
  haystacks.push_back(suite.code_vault->SettledLog());
  haystacks.push_back(suite.account_credit->SettledLog());
  haystacks.push_back(suite.billing->SettledLog());

  for (const auto& code : codes) {
    const std::string normalized = absl::StrReplaceAll(code.code(), {{"-", ""}});
    for (const std::string& haystack : haystacks) {
      EXPECT_THAT(haystack, Not(HasSubstr(normalized)));
      EXPECT_THAT(haystack, Not(HasSubstr(code.code())));
      EXPECT_THAT(haystack, Not(HasSubstr(normalized.substr(0, 8))));
      EXPECT_THAT(haystack, Not(HasSubstr(normalized.substr(8, 8))));
    }
  }
}

}  // namespace
}  // namespace giftcard::testing

// The redemption slice end to end: real services, real Postgres and Redis.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SliceTest : public ::testing::Test {
 protected:
  Suite suite_;
};

TEST_F(SliceTest, RedeemCreditsTheAccountAndBillingAppliesTheCredit) {
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite_.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite_.IssueActiveCodes(2, 2500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 2u);

  v1::Redemption redemption;
  grpc::Status s = suite_.Redeem(codes[0].code(), account, "redeem-1", &redemption);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(redemption.state(), v1::REDEMPTION_STATE_COMPLETED);
  EXPECT_EQ(redemption.serial(), codes[0].serial());
  EXPECT_EQ(redemption.amount().amount_minor(), 2500);
  EXPECT_EQ(redemption.balance().amount_minor(), 2500);
  EXPECT_FALSE(redemption.redemption_id().empty());

  v1::Account got;
  ASSERT_TRUE(suite_.GetAccount(account, &got).ok());
  EXPECT_EQ(got.balance().amount_minor(), 2500);
  EXPECT_EQ(got.balance().currency_code(), "EUR");

  // The code is REDEEMED, with its redemption time and who redeemed it.
  v1::GetCodeStatusRequest status_request;
  status_request.set_serial(codes[0].serial());
  v1::CodeStatus status;
  ASSERT_TRUE(
      suite_.vault_stub->GetCodeStatus(Context(kAdminToken).get(), status_request, &status).ok());
  EXPECT_EQ(status.state(), v1::CODE_STATE_REDEEMED);
  EXPECT_GT(status.redeem_time().seconds(), 0);
  EXPECT_GE(status.redeem_time().seconds(), status.activate_time().seconds());
  EXPECT_EQ(status.redeemed_by_account_id(), account);
  EXPECT_EQ(status.redemption_id(), redemption.redemption_id());
  EXPECT_EQ(status.pin_last4(), codes[0].code().substr(codes[0].code().size() - 4));

  // Double entry: per currency the entries sum to zero, and the customer's
  // balance is the sum of its entries.
  EXPECT_THAT(QueryColumn(suite_.account_credit_dsn,
                          "SELECT sum(amount_minor) FROM ledger_entries GROUP BY currency_code"),
              AllEqual("0"));
  EXPECT_THAT(QueryColumn(suite_.account_credit_dsn, "SELECT count(*) FROM ledger_entries"),
              AllEqual("2"));
  EXPECT_THAT(QueryColumn(suite_.account_credit_dsn,
                          "SELECT count(*) FROM accounts a WHERE balance_minor <> "
                          "(SELECT coalesce(sum(amount_minor), 0) FROM ledger_entries e "
                          " WHERE e.account_id = a.account_id)"),
              AllEqual("0"));

  // ApplyCredit takes min(balance, amount_due) and leaves the rest to charge.
  v1::CreditApplication app;
  s = suite_.ApplyCredit("inv-1", account, 1199, "EUR", &app);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(app.applied().amount_minor(), 1199);
  EXPECT_EQ(app.amount_to_charge().amount_minor(), 0);
  EXPECT_EQ(app.remaining_credit().amount_minor(), 1301);
  EXPECT_TRUE(app.next_invoice_covered());
  EXPECT_EQ(app.state(), v1::CREDIT_APPLICATION_STATE_APPLIED);

  s = suite_.ApplyCredit("inv-2", account, 2000, "EUR", &app);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(app.applied().amount_minor(), 1301);
  EXPECT_EQ(app.amount_to_charge().amount_minor(), 699);
  EXPECT_EQ(app.remaining_credit().amount_minor(), 0);
  EXPECT_FALSE(app.next_invoice_covered());

  // No credit left: a valid answer, everything to charge.
  s = suite_.ApplyCredit("inv-3", account, 1199, "EUR", &app);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(app.applied().amount_minor(), 0);
  EXPECT_EQ(app.amount_to_charge().amount_minor(), 1199);

  ASSERT_TRUE(suite_.GetAccount(account, &got).ok());
  EXPECT_EQ(got.balance().amount_minor(), 0);
  // One JSON line per call, naming the caller, the outcome and the request id.
  EXPECT_THAT(suite_.code_vault->SettledLog(),
              HasSubstr("\"event\":\"call\",\"method\":\"/giftcard.v1.CodeVault/RedeemCode\","
                        "\"principal\":\"storefront\",\"status\":\"OK\""));
  EXPECT_THAT(suite_.code_vault->SettledLog(), HasSubstr("\"request_id\":\"redeem-1\""));
  // Numbers are JSON numbers; every line is one well-formed JSON object.
  EXPECT_TRUE(std::regex_search(suite_.code_vault->SettledLog(),
                                std::regex("\"latency_ms\":[0-9]+(\\.[0-9]+)?(e-?[0-9]+)?[,}]")));
  EXPECT_TRUE(
      std::regex_search(suite_.code_vault->SettledLog(), std::regex("\"port\":[0-9]+[,}]")));
  EXPECT_THAT(suite_.account_credit->SettledLog(),
              HasSubstr("\"method\":\"/giftcard.v1.AccountCredit/BatchDebitAccounts\","
                        "\"principal\":\"billing\""));
  EXPECT_THAT(QueryColumn(suite_.account_credit_dsn,
                          "SELECT sum(amount_minor) FROM ledger_entries GROUP BY currency_code"),
              AllEqual("0"));
}

TEST_F(SliceTest, ReplaysReturnTheFirstAnswerAndNeverCreditTwice) {
  const std::string account = UniqueName("acct");
  const std::string other = UniqueName("other");
  ASSERT_TRUE(suite_.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  ASSERT_TRUE(suite_.UpsertAccount(other, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite_.IssueActiveCodes(2, 1000, "EUR", "DE");
  ASSERT_EQ(codes.size(), 2u);

  v1::Redemption first, again;
  ASSERT_TRUE(suite_.Redeem(codes[0].code(), account, "r1", &first).ok());
  // Typed differently, same code: still the same request.
  std::string typed = absl::StrReplaceAll(codes[0].code(), {{"-", " "}});
  ASSERT_TRUE(suite_.Redeem(typed, account, "r1", &again).ok());
  EXPECT_EQ(again.redemption_id(), first.redemption_id());
  EXPECT_EQ(again.balance().amount_minor(), 1000);

  // The same request_id with another code is a reuse.
  grpc::Status s = suite_.Redeem(codes[1].code(), account, "r1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ReasonOf(s), "REQUEST_ID_REUSED");

  // Someone else: already redeemed.
  s = suite_.Redeem(codes[0].code(), other, "r1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "CODE_ALREADY_REDEEMED");

  v1::Account got;
  ASSERT_TRUE(suite_.GetAccount(account, &got).ok());
  EXPECT_EQ(got.balance().amount_minor(), 1000);
  EXPECT_THAT(QueryColumn(suite_.account_credit_dsn, "SELECT count(*) FROM transfers"),
              AllEqual("1"));
}

TEST_F(SliceTest, RefusedRedemptionLeavesTheCodeActiveForTheRightAccount) {
  const std::string french = UniqueName("fr");
  const std::string german = UniqueName("de");
  const std::string app_store = UniqueName("ios");
  ASSERT_TRUE(suite_.UpsertAccount(french, "FR", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  ASSERT_TRUE(suite_.UpsertAccount(german, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  ASSERT_TRUE(suite_.UpsertAccount(app_store, "DE", "EUR", v1::BILLING_CHANNEL_APP_STORE).ok());
  auto codes = suite_.IssueActiveCodes(1, 1500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);

  grpc::Status s = suite_.Redeem(codes[0].code(), french, "r1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(s), "REGION_MISMATCH");
  s = suite_.Redeem(codes[0].code(), app_store, "r1");
  EXPECT_EQ(ReasonOf(s), "THIRD_PARTY_BILLING");
  // A replay of a refused request gets the same refusal.
  s = suite_.Redeem(codes[0].code(), french, "r1");
  EXPECT_EQ(ReasonOf(s), "REGION_MISMATCH");

  v1::GetCodeStatusRequest status_request;
  status_request.set_code(codes[0].code());
  v1::CodeStatus status;
  ASSERT_TRUE(
      suite_.vault_stub->GetCodeStatus(Context(kAdminToken).get(), status_request, &status).ok());
  EXPECT_EQ(status.state(), v1::CODE_STATE_ACTIVE);
  EXPECT_THAT(QueryColumn(suite_.account_credit_dsn, "SELECT count(*) FROM ledger_entries"),
              AllEqual("0"));

  v1::Redemption ok;
  ASSERT_TRUE(suite_.Redeem(codes[0].code(), german, "r1", &ok).ok());
  EXPECT_EQ(ok.balance().amount_minor(), 1500);
}

TEST_F(SliceTest, BadCodesAreRefusedWithoutTouchingStorage) {
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite_.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite_.IssueActiveCodes(1, 500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);
  const std::string before =
      absl::StrJoin(QueryColumn(suite_.code_vault_dsn, "SELECT count(*) FROM redemptions"), ",");

  grpc::Status s = suite_.Redeem("not a code", account, "bad-1");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ReasonOf(s), "CODE_MALFORMED");

  // Change one symbol: the check symbol catches it.
  std::string typo = codes[0].code();
  typo[0] = typo[0] == '7' ? '8' : '7';
  s = suite_.Redeem(typo, account, "bad-2");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ReasonOf(s), "CODE_MISTYPED");

  // A valid-looking code nobody issued: one answer for unknown codes.
  s = suite_.Redeem("0000-0000-0000-0000", account, "bad-3");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(ReasonOf(s), "CODE_INVALID");

  s = suite_.Redeem(codes[0].code(), "", "bad-4");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("account_id"));

  EXPECT_EQ(
      absl::StrJoin(QueryColumn(suite_.code_vault_dsn, "SELECT count(*) FROM redemptions"), ","),
      before);
}

}  // namespace
}  // namespace giftcard::testing

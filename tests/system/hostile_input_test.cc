// Bad input to every service is INVALID_ARGUMENT naming the field, and
// writes nothing (row counts of every table compared before and after).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_join.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::HasSubstr;

// The field named by the BadRequest of a failed call.
std::string FieldOf(const grpc::Status& status) {
  auto violations = errors::FieldViolationsOf(errors::FromGrpcStatus(status));
  return violations.empty() ? "" : violations[0].first;
}

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    account_ = UniqueName("acct");
    ASSERT_TRUE(suite_.UpsertAccount(account_, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
    codes_ = suite_.IssueActiveCodes(1, 1000, "EUR", "DE");
    ASSERT_EQ(codes_.size(), 1u);
  }

  void ExpectRefused(const grpc::Status& s, const std::string& field, const std::string& what) {
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << what;
    EXPECT_EQ(FieldOf(s), field) << what << ": " << s.error_message();
  }

  Suite suite_;
  std::string account_;
  std::vector<v1::IssuedCode> codes_;
};

TEST_F(HostileInputTest, AccountCreditRefusesBadFields) {
  const std::string before = suite_.ContentsDigest();
  const std::string huge(10 * 1024, 'x');
  struct AccountCase {
    std::string id, country, currency, field;
  };
  for (const AccountCase& c : std::vector<AccountCase>{
           {"", "DE", "EUR", "account.account_id"},
           {huge, "DE", "EUR", "account.account_id"},
           {"a b", "DE", "EUR", "account.account_id"},
           {"gift-funding/EUR", "DE", "EUR", "account.account_id"},
           {"ok", "de", "EUR", "account.country"},
           {"ok", "DEU", "EUR", "account.country"},
           {"ok", "XX", "EUR", "account.country"},
           {"ok", "DE", "eur", "account.currency_code"},
           {"ok", "DE", "EUX", "account.currency_code"},
           {"ok", "DE", "", "account.currency_code"},
       }) {
    v1::UpsertAccountRequest r;
    r.mutable_account()->set_account_id(c.id);
    r.mutable_account()->set_country(c.country);
    r.mutable_account()->set_currency_code(c.currency);
    r.mutable_account()->set_billing_channel(v1::BILLING_CHANNEL_DIRECT);
    v1::Account out;
    ExpectRefused(suite_.credit_stub->UpsertAccount(Context(kStorefrontToken).get(), r, &out),
                  c.field, c.id.substr(0, 20) + "/" + c.country + "/" + c.currency);
  }
  struct AmountCase {
    int64_t amount;
    std::string currency, field;
  };
  for (const AmountCase& c : std::vector<AmountCase>{
           {0, "EUR", "amount.amount_minor"},
           {-100, "EUR", "amount.amount_minor"},
           {1'000'000'000'000'001, "EUR", "amount.amount_minor"},
           {INT64_MIN, "EUR", "amount.amount_minor"},
           {100, "ZZZ", "amount.currency_code"},
       }) {
    v1::CreditAccountRequest r;
    r.set_account_id(account_);
    r.mutable_amount()->set_currency_code(c.currency);
    r.mutable_amount()->set_amount_minor(c.amount);
    r.set_code_region("DE");
    r.set_request_id("credit-1");
    v1::Transfer out;
    ExpectRefused(suite_.credit_stub->CreditAccount(Context(kCodeVaultToken).get(), r, &out),
                  c.field, std::to_string(c.amount));
    v1::DebitAccountRequest d;
    d.set_account_id(account_);
    d.mutable_max_amount()->set_currency_code(c.currency);
    d.mutable_max_amount()->set_amount_minor(c.amount);
    d.set_request_id("debit-1");
    std::string field = c.field;
    field.replace(0, 6, "max_amount");
    ExpectRefused(suite_.credit_stub->DebitAccount(Context(kBillingToken).get(), d, &out), field,
                  std::to_string(c.amount));
  }
  v1::CreditAccountRequest r;
  r.set_account_id(account_);
  r.mutable_amount()->set_currency_code("EUR");
  r.mutable_amount()->set_amount_minor(100);
  r.set_code_region("de");
  r.set_request_id("credit-2");
  v1::Transfer out;
  ExpectRefused(suite_.credit_stub->CreditAccount(Context(kCodeVaultToken).get(), r, &out),
                "code_region", "lower-case region");
  r.set_code_region("DE");
  r.set_request_id("");
  ExpectRefused(suite_.credit_stub->CreditAccount(Context(kCodeVaultToken).get(), r, &out),
                "request_id", "empty request id");
  r.set_request_id(huge);
  ExpectRefused(suite_.credit_stub->CreditAccount(Context(kCodeVaultToken).get(), r, &out),
                "request_id", "10 KB request id");
  v1::GetAccountRequest get;
  get.set_account_id(huge);
  v1::Account account;
  ExpectRefused(suite_.credit_stub->GetAccount(Context(kStorefrontToken).get(), get, &account),
                "account_id", "10 KB account id");
  EXPECT_EQ(suite_.ContentsDigest(), before);
}

TEST_F(HostileInputTest, VaultAndBillingRefuseBadFields) {
  const std::string before = suite_.ContentsDigest();
  const std::string huge(10 * 1024, 'x');
  ExpectRefused(suite_.Redeem(codes_[0].code(), "", "r"), "account_id", "empty account");
  ExpectRefused(suite_.Redeem(codes_[0].code(), huge, "r"), "account_id", "10 KB account");
  ExpectRefused(suite_.Redeem(codes_[0].code(), account_, ""), "request_id", "empty request");
  ExpectRefused(suite_.Redeem(codes_[0].code(), account_, huge), "request_id", "10 KB request");
  grpc::Status s = suite_.Redeem(huge, account_, "r");
  EXPECT_EQ(ReasonOf(s), "CODE_MALFORMED");
  EXPECT_THAT(s.error_message(), ::testing::Not(HasSubstr("xxxx")));

  v1::IssueCodesRequest issue;
  issue.set_count(1);
  issue.mutable_amount()->set_currency_code("EUR");
  issue.mutable_amount()->set_amount_minor(-5);
  issue.set_region("DE");
  issue.set_request_id("bad-batch");
  {
    auto ctx = Context(kAdminToken);
    auto reader = suite_.vault_stub->IssueCodes(ctx.get(), issue);
    v1::IssuedCode code;
    EXPECT_FALSE(reader->Read(&code));
    ExpectRefused(reader->Finish(), "amount.amount_minor", "negative code value");
  }
  issue.mutable_amount()->set_amount_minor(500);
  issue.set_region("deu");
  {
    auto ctx = Context(kAdminToken);
    auto reader = suite_.vault_stub->IssueCodes(ctx.get(), issue);
    v1::IssuedCode code;
    EXPECT_FALSE(reader->Read(&code));
    ExpectRefused(reader->Finish(), "region", "three-letter region");
  }

  v1::CreditApplication app;
  ExpectRefused(suite_.ApplyCredit("", account_, 100, "EUR", &app), "invoice_id", "empty invoice");
  ExpectRefused(suite_.ApplyCredit(huge, account_, 100, "EUR", &app), "invoice_id",
                "10 KB invoice");
  ExpectRefused(suite_.ApplyCredit("inv", account_, 0, "EUR", &app), "amount_due.amount_minor",
                "zero due");
  ExpectRefused(suite_.ApplyCredit("inv", account_, -1, "EUR", &app), "amount_due.amount_minor",
                "negative due");
  ExpectRefused(suite_.ApplyCredit("inv", account_, 1'000'000'000'000'001, "EUR", &app),
                "amount_due.amount_minor", "due over 10^15");
  ExpectRefused(suite_.ApplyCredit("inv", account_, 100, "XYZ", &app), "amount_due.currency_code",
                "unknown currency");
  EXPECT_EQ(suite_.ContentsDigest(), before);
}

}  // namespace
}  // namespace giftcard::testing

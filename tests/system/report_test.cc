// Finance's reports: liability (account credit per
// currency plus the face value of sold, unredeemed codes), breakage (sold
// codes that expired or were voided unredeemed, by batch and month) and
// dormancy (accounts holding credit with no entry for N days), read through
// admin RPCs and `giftctl report`. Every figure is checked against sums the
// test keeps of its own calls, never against a query of the same tables.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

constexpr int64_t kEur = 2500;  // Face value of an EUR code.
constexpr int64_t kGbp = 1000;  // Face value of a GBP code.

// What the test did, kept by the test: the expected figures.
struct Books {
  std::map<std::string, int64_t> balance;  // account → credit it holds.
  std::map<std::string, std::string> currency_of;
  int64_t Credit(const std::string& currency) const {
    int64_t sum = 0;
    for (const auto& [account, b] : balance) {
      if (currency_of.at(account) == currency) sum += b;
    }
    return sum;
  }
  int64_t AccountsWithCredit(const std::string& currency) const {
    int64_t n = 0;
    for (const auto& [account, b] : balance) n += currency_of.at(account) == currency && b > 0;
    return n;
  }
};

class ReportTest : public ::testing::Test {
 protected:
  void Account(const std::string& id, const std::string& country, const std::string& currency) {
    ASSERT_TRUE(suite_.UpsertAccount(id, country, currency, v1::BILLING_CHANNEL_DIRECT).ok());
    books_.balance[id] = 0;
    books_.currency_of[id] = currency;
  }
  void Redeem(const v1::IssuedCode& code, const std::string& account, int64_t value) {
    ASSERT_TRUE(suite_.Redeem(code.code(), account, UniqueName("r")).ok());
    books_.balance[account] += value;
  }
  void Invoice(const std::string& account, int64_t due, const std::string& currency) {
    v1::CreditApplication app;
    ASSERT_TRUE(suite_.ApplyCredit(UniqueName("inv"), account, due, currency, &app).ok());
    books_.balance[account] -= std::min(due, books_.balance[account]);
  }
  // Issued, not activated (unsold).
  std::vector<v1::IssuedCode> IssueUnsold(int count) {
    return suite_.IssueCodes(count, kEur, "EUR", "DE");
  }
  void Void(const std::vector<std::string>& serials) {
    v1::VoidCodesRequest r;
    for (const auto& s : serials) r.add_serials(s);
    r.set_reason("damaged stock");
    r.set_request_id(UniqueName("void"));
    v1::VoidCodesResponse out;
    ASSERT_TRUE(suite_.vault_stub->VoidCodes(Context(kAdminToken).get(), r, &out).ok());
    ASSERT_EQ(out.voided_count(), static_cast<int>(serials.size()));
  }
  void Block(const std::string& serial) {
    v1::BlockCodesRequest r;
    r.add_serials(serial);
    r.set_reason("fraud case");
    r.set_request_id(UniqueName("block"));
    v1::BlockCodesResponse out;
    ASSERT_TRUE(suite_.vault_stub->BlockCodes(Context(kAdminToken).get(), r, &out).ok());
    ASSERT_EQ(out.blocked_count(), 1);
  }
  // Time travel for the test's own rows: a code's expiry in the past.
  void ExpireAt(const std::string& serial, const std::string& time) {
    ASSERT_EQ(ExecSql(suite_.code_vault_dsn, absl::StrCat("UPDATE codes SET expire_time = '", time,
                                                          "' WHERE serial = '", serial, "'")),
              "");
  }
  // And an account's entries `days` older (past the ledger's append-only
  // trigger, which replica mode skips).
  void AgeEntries(const std::string& account, int days) {
    ASSERT_EQ(ExecSql(suite_.account_credit_dsn,
                      absl::StrCat("SET session_replication_role = replica;"
                                   "UPDATE ledger_entries SET create_time = create_time - "
                                   "interval '",
                                   days, " days' WHERE account_id = '", account, "'")),
              "");
  }

  std::string Giftctl(const std::string& args, const std::string& token = kSupportToken) {
    const ShellRun run =
        RunCommand(absl::StrCat(AddressesEnv(suite_), "GIFTCTL_TOKEN=", token,
                                " GIFTCTL_TOKEN_FILE= ", GIFTCARD_GIFTCTL, " ", args));
    EXPECT_EQ(run.exit_code, 0) << args << ": " << run.err;
    return run.out;
  }

  std::vector<std::string> Dormant(int days, int page_size) {
    std::vector<std::string> out;
    v1::ListDormantAccountsRequest request;
    request.set_days(days);
    request.set_page_size(page_size);
    for (int pages = 0; pages < 100; ++pages) {
      v1::ListDormantAccountsResponse page;
      grpc::Status s =
          suite_.credit_stub->ListDormantAccounts(Context(kSupportToken).get(), request, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      for (const auto& a : page.accounts()) {
        out.push_back(absl::StrCat(a.account_id(), " ", a.country(), " ",
                                   a.balance().amount_minor(), " ", a.balance().currency_code()));
      }
      if (page.next_page_token().empty()) break;
      request.set_page_token(page.next_page_token());
    }
    return out;
  }

  Suite suite_;
  Books books_;
};

TEST_F(ReportTest, FiguresEqualTheSumsOfTheTestsOwnRecords) {
  Account("a1", "DE", "EUR");
  Account("a2", "DE", "EUR");
  Account("a3", "DE", "EUR");
  Account("g1", "GB", "GBP");
  const std::vector<v1::IssuedCode> eur = suite_.IssueActiveCodes(12, kEur, "EUR", "DE");
  const std::vector<v1::IssuedCode> gbp = suite_.IssueActiveCodes(5, kGbp, "GBP", "GB");
  const std::vector<v1::IssuedCode> unsold = IssueUnsold(3);
  ASSERT_EQ(eur.size(), 12u);
  ASSERT_EQ(gbp.size(), 5u);
  ASSERT_EQ(unsold.size(), 3u);

  // Credit: a1 two cards less an invoice, a2 one card, a3 one card clawed
  // back (voided), g1 one GBP card.
  Redeem(eur[0], "a1", kEur);
  Redeem(eur[1], "a1", kEur);
  Redeem(eur[2], "a2", kEur);
  Redeem(eur[3], "a3", kEur);
  Redeem(gbp[0], "g1", kGbp);
  Invoice("a1", 1000, "EUR");
  v1::ReverseRedemptionRequest clawback;
  clawback.set_serial(eur[3].serial());
  clawback.set_reason("stolen card");
  clawback.set_request_id("claw-1");
  clawback.set_then_state(v1::CODE_STATE_VOIDED);
  v1::Clawback clawed;
  ASSERT_TRUE(
      suite_.vault_stub->ReverseRedemption(Context(kAdminToken).get(), clawback, &clawed).ok());
  books_.balance["a3"] = 0;
  // Codes: one held while active (owed), two voided after sale, one expired
  // while active and one expired while held (breakage in March 2025), three
  // left active; of the unsold batch one voided and one held (neither owed
  // nor breakage: never sold).
  Block(eur[4].serial());
  const std::string void_month = absl::FormatTime("%Y-%m", absl::Now(), absl::UTCTimeZone());
  Void({eur[5].serial(), eur[6].serial()});
  ExpireAt(eur[7].serial(), "2025-03-10T12:00:00Z");
  Block(eur[8].serial());
  ExpireAt(eur[8].serial(), "2025-03-31T23:30:00Z");  // Still March in UTC.
  Void({unsold[0].serial()});
  Block(unsold[1].serial());
  const int64_t active_eur = 3, held_eur = 1, active_gbp = 4;

  // Cross-check the books against the accounts before comparing reports.
  for (const auto& [account, balance] : books_.balance) {
    v1::Account a;
    ASSERT_TRUE(suite_.GetAccount(account, &a).ok());
    ASSERT_EQ(a.balance().amount_minor(), balance) << account;
  }

  v1::CreditLiability credit;
  ASSERT_TRUE(suite_.credit_stub
                  ->GetCreditLiability(Context(kSupportToken).get(),
                                       v1::GetCreditLiabilityRequest(), &credit)
                  .ok());
  ASSERT_EQ(credit.currencies_size(), 2);
  EXPECT_EQ(credit.currencies(0).currency_code(), "EUR");
  EXPECT_EQ(credit.currencies(0).balance().amount_minor(), books_.Credit("EUR"));
  EXPECT_EQ(credit.currencies(0).accounts_with_credit(), books_.AccountsWithCredit("EUR"));
  EXPECT_EQ(credit.currencies(1).currency_code(), "GBP");
  EXPECT_EQ(credit.currencies(1).balance().amount_minor(), books_.Credit("GBP"));
  EXPECT_EQ(credit.currencies(1).accounts_with_credit(), books_.AccountsWithCredit("GBP"));
  EXPECT_TRUE(credit.has_read_time());

  v1::CodeLiability codes;
  ASSERT_TRUE(
      suite_.vault_stub
          ->GetCodeLiability(Context(kSupportToken).get(), v1::GetCodeLiabilityRequest(), &codes)
          .ok());
  ASSERT_EQ(codes.currencies_size(), 2);
  EXPECT_EQ(codes.currencies(0).currency_code(), "EUR");
  EXPECT_EQ(codes.currencies(0).active_count(), active_eur);
  EXPECT_EQ(codes.currencies(0).active_value().amount_minor(), active_eur * kEur);
  EXPECT_EQ(codes.currencies(0).held_count(), held_eur);
  EXPECT_EQ(codes.currencies(0).held_value().amount_minor(), held_eur * kEur);
  EXPECT_EQ(codes.currencies(0).redeeming_count(), 0);
  EXPECT_EQ(codes.currencies(1).currency_code(), "GBP");
  EXPECT_EQ(codes.currencies(1).active_count(), active_gbp);
  EXPECT_EQ(codes.currencies(1).active_value().amount_minor(), active_gbp * kGbp);
  EXPECT_EQ(codes.currencies(1).held_count(), 0);

  v1::BreakageReport breakage;
  ASSERT_TRUE(suite_.vault_stub
                  ->GetBreakageReport(Context(kSupportToken).get(), v1::GetBreakageReportRequest(),
                                      &breakage)
                  .ok());
  std::vector<std::string> rows;
  for (const auto& r : breakage.rows()) {
    rows.push_back(absl::StrCat(r.month(), " ", r.batch_id() == eur[0].batch_id() ? "eur" : "?",
                                " ", v1::BreakageKind_Name(r.kind()), " ", r.code_count(), " ",
                                r.value().amount_minor(), " ", r.value().currency_code()));
  }
  EXPECT_THAT(
      rows,
      ElementsAre(absl::StrCat("2025-03 eur BREAKAGE_KIND_EXPIRED 2 ", 2 * kEur, " EUR"),
                  absl::StrCat(void_month, " eur BREAKAGE_KIND_VOIDED 2 ", 2 * kEur, " EUR")));

  // giftctl prints the same figures: liability's total per currency is the
  // account credit plus the active and held codes.
  std::vector<std::string> lines =
      absl::StrSplit(Giftctl("report liability --csv"), '\n', absl::SkipEmpty());
  EXPECT_THAT(
      lines, ElementsAre("currency,account_credit_minor,accounts,active_codes_minor,active_codes,"
                         "held_codes_minor,held_codes,total_minor,redeeming_minor",
                         absl::StrCat("EUR,", books_.Credit("EUR"), ",2,", active_eur * kEur, ",3,",
                                      held_eur * kEur, ",1,",
                                      books_.Credit("EUR") + (active_eur + held_eur) * kEur, ",0"),
                         absl::StrCat("GBP,", books_.Credit("GBP"), ",1,", active_gbp * kGbp,
                                      ",4,0,0,", books_.Credit("GBP") + active_gbp * kGbp, ",0")));
  // The table: counts, then amounts, TOTAL last and their sum.
  const std::string table = Giftctl("report liability");
  std::vector<std::string> table_rows = absl::StrSplit(table, '\n', absl::SkipEmpty());
  ASSERT_GE(table_rows.size(), 3u) << table;
  EXPECT_THAT(table_rows[0],
              MatchesRegex("CURRENCY +ACCOUNTS +ACTIVE_CODES +HELD_CODES +CREDIT_AMOUNT"
                           " +ACTIVE_AMOUNT +HELD_AMOUNT +TOTAL"));
  EXPECT_THAT(table_rows[1], MatchesRegex(absl::StrCat(
                                 "EUR +2 +3 +1 +", books_.Credit("EUR") / 100, "\\.00 EUR +",
                                 active_eur * kEur / 100, "\\.00 EUR +", held_eur * kEur / 100,
                                 "\\.00 EUR +165\\.00 EUR")))  // 65.00 credit + 100.00 in codes.
      << table;
  EXPECT_THAT(table, Not(HasSubstr("in flight")));
  EXPECT_THAT(Giftctl("--json report liability"),
              HasSubstr(absl::StrCat("\"total\":[{\"currency_code\":\"EUR\",\"amount_minor\":\"",
                                     books_.Credit("EUR") + (active_eur + held_eur) * kEur,
                                     "\"},{\"currency_code\":\"GBP\",\"amount_minor\":\"",
                                     books_.Credit("GBP") + active_gbp * kGbp, "\"")));
  lines = absl::StrSplit(Giftctl("report breakage --csv"), '\n', absl::SkipEmpty());
  EXPECT_THAT(
      lines,
      ElementsAre("month,batch_id,kind,codes,currency,value_minor",
                  absl::StrCat("2025-03,", eur[0].batch_id(), ",EXPIRED,2,EUR,", 2 * kEur),
                  absl::StrCat(void_month, ",", eur[0].batch_id(), ",VOIDED,2,EUR,", 2 * kEur)));
}

TEST_F(ReportTest, DormantAccountsHoldCreditWithNoEntryForTheDays) {
  Account("d1", "DE", "EUR");
  Account("d2", "DE", "EUR");
  Account("d3", "DE", "EUR");
  Account("fresh", "DE", "EUR");
  Account("g1", "GB", "GBP");
  const std::vector<v1::IssuedCode> eur = suite_.IssueActiveCodes(5, kEur, "EUR", "DE");
  const std::vector<v1::IssuedCode> gbp = suite_.IssueActiveCodes(1, kGbp, "GBP", "GB");
  Redeem(eur[0], "d1", kEur);
  Redeem(eur[1], "d2", kEur);
  Invoice("d2", 1000, "EUR");
  Redeem(eur[2], "d3", kEur);
  Invoice("d3", kEur, "EUR");  // Spent: holds nothing.
  Redeem(eur[3], "fresh", kEur);
  Redeem(gbp[0], "g1", kGbp);
  AgeEntries("d1", 400);
  AgeEntries("d2", 400);
  AgeEntries("d3", 400);
  AgeEntries("g1", 100);

  const std::vector<std::string> want_365 = {absl::StrCat("d1 DE ", books_.balance["d1"], " EUR"),
                                             absl::StrCat("d2 DE ", books_.balance["d2"], " EUR")};
  EXPECT_EQ(Dormant(365, 100), want_365);
  // A page at a time: each once, in account order.
  EXPECT_EQ(Dormant(365, 1), want_365);
  EXPECT_THAT(Dormant(90, 100),
              ElementsAre(want_365[0], want_365[1], absl::StrCat("g1 GB ", kGbp, " GBP")));
  EXPECT_TRUE(Dormant(500, 100).empty());

  // Days unset: a year, giftctl's default.
  v1::ListDormantAccountsRequest unset;
  unset.set_page_size(100);
  v1::ListDormantAccountsResponse out;
  ASSERT_TRUE(
      suite_.credit_stub->ListDormantAccounts(Context(kAdminToken).get(), unset, &out).ok());
  EXPECT_EQ(static_cast<size_t>(out.accounts_size()), want_365.size());

  // Bad questions write nothing and say which field.
  v1::ListDormantAccountsRequest bad;
  bad.set_days(-1);
  grpc::Status s = suite_.credit_stub->ListDormantAccounts(Context(kAdminToken).get(), bad, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("days"));
  bad.set_days(365);
  bad.set_page_size(1);
  ASSERT_TRUE(suite_.credit_stub->ListDormantAccounts(Context(kAdminToken).get(), bad, &out).ok());
  ASSERT_FALSE(out.next_page_token().empty());
  bad.set_days(90);
  bad.set_page_token(out.next_page_token());
  s = suite_.credit_stub->ListDormantAccounts(Context(kAdminToken).get(), bad, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page_token"));

  std::vector<std::string> lines =
      absl::StrSplit(Giftctl("report dormant --days 365 --csv"), '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "account_id,country,currency,balance_minor,last_entry_time");
  EXPECT_THAT(lines[1], HasSubstr(absl::StrCat("d1,DE,EUR,", books_.balance["d1"], ",")));
  EXPECT_THAT(lines[2], HasSubstr(absl::StrCat("d2,DE,EUR,", books_.balance["d2"], ",")));
}

TEST_F(ReportTest, ReportsAreForAdminAndSupportOnly) {
  v1::CreditLiability credit;
  EXPECT_EQ(suite_.credit_stub
                ->GetCreditLiability(Context(kStorefrontToken).get(),
                                     v1::GetCreditLiabilityRequest(), &credit)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::CodeLiability codes;
  EXPECT_TRUE(
      suite_.vault_stub
          ->GetCodeLiability(Context(kAdminToken).get(), v1::GetCodeLiabilityRequest(), &codes)
          .ok());
  EXPECT_EQ(codes.currencies_size(), 0);  // Nothing sold yet.
}

}  // namespace
}  // namespace giftcard::testing

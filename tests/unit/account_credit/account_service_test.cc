// Eligibility and debit rules, with an in-memory ledger store.
#include "services/account_credit/domain/account_service.h"

#include <gtest/gtest.h>

#include <map>

#include "errors/status.h"
#include "support/fakes/account_credit_fakes.h"

namespace giftcard::account_credit {
namespace {

using fakes::FakeLedgerStore;

class AccountServiceTest : public ::testing::Test {
 protected:
  AccountServiceTest() : service_(store_) {
    Add("de-direct", "DE", "EUR", BillingChannel::kDirect);
    Add("de-play", "DE", "EUR", BillingChannel::kPlayStore);
    Add("gb-direct", "GB", "GBP", BillingChannel::kDirect);
  }
  void Add(const std::string& id, const std::string& country, const std::string& cur,
           BillingChannel ch) {
    Account a;
    a.account_id = id;
    a.country = country;
    a.currency_code = cur;
    a.billing_channel = ch;
    ASSERT_TRUE(service_.UpsertAccount(a, std::nullopt).ok());
  }
  absl::StatusOr<Transfer> Credit(const std::string& id, money::Money amount,
                                  const std::string& region, const std::string& request) {
    return service_.CreditAccount({id, amount, region, request, "serial", ""});
  }

  FakeLedgerStore store_;
  AccountService service_;
};

TEST_F(AccountServiceTest, GiftCreditNeedsTheRightRegionCurrencyAndDirectBilling) {
  EXPECT_TRUE(Credit("de-direct", {"EUR", 2500}, "DE", "c1").ok());
  EXPECT_EQ(errors::ReasonOf(Credit("de-direct", {"EUR", 2500}, "FR", "c2").status()),
            "REGION_MISMATCH");
  EXPECT_EQ(errors::ReasonOf(Credit("de-direct", {"USD", 2500}, "DE", "c3").status()),
            "CURRENCY_MISMATCH");
  EXPECT_EQ(errors::ReasonOf(Credit("de-play", {"EUR", 2500}, "DE", "c4").status()),
            "THIRD_PARTY_BILLING");
  EXPECT_EQ(errors::ReasonOf(Credit("nobody", {"EUR", 2500}, "DE", "c5").status()),
            "ACCOUNT_NOT_FOUND");
  EXPECT_EQ(store_.accounts["de-direct"].balance_minor, 2500);
  EXPECT_EQ(store_.accounts["de-play"].balance_minor, 0);
}

TEST_F(AccountServiceTest, ReplaysMatchAndReusesAreRefused) {
  auto first = Credit("de-direct", {"EUR", 1000}, "DE", "same");
  auto again = Credit("de-direct", {"EUR", 1000}, "DE", "same");
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(store_.accounts["de-direct"].balance_minor, 1000);
  EXPECT_EQ(errors::ReasonOf(Credit("de-direct", {"EUR", 999}, "DE", "same").status()),
            "REQUEST_ID_REUSED");
}

TEST_F(AccountServiceTest, DebitsTakeAtMostTheBalance) {
  ASSERT_TRUE(Credit("de-direct", {"EUR", 3000}, "DE", "c1").ok());
  auto full = service_.DebitAccount({"de-direct", {"EUR", 1199}, true, "d1", "inv", ""});
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->amount.amount_minor, 1199);
  auto refused = service_.DebitAccount({"de-direct", {"EUR", 5000}, false, "d2", "inv", ""});
  EXPECT_EQ(errors::ReasonOf(refused.status()), "INSUFFICIENT_CREDIT");
  auto partial = service_.DebitAccount({"de-direct", {"EUR", 5000}, true, "d3", "inv", ""});
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->amount.amount_minor, 1801);
  EXPECT_EQ(partial->balance_after_minor, 0);
  auto nothing = service_.DebitAccount({"de-direct", {"EUR", 5000}, true, "d4", "inv", ""});
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(nothing->amount.amount_minor, 0);
  EXPECT_EQ(errors::ReasonOf(
                service_.DebitAccount({"de-direct", {"GBP", 5}, true, "d5", "inv", ""}).status()),
            "CURRENCY_MISMATCH");
}

TEST_F(AccountServiceTest, BadInputNamesTheFieldAndWritesNothing) {
  const int before = store_.posts;
  struct Case {
    CreditCommand cmd;
    std::string field;
  };
  for (const Case& c : std::vector<Case>{
           {{"", {"EUR", 1}, "DE", "r", "", ""}, "account_id"},
           {{"de-direct", {"EUR", 0}, "DE", "r", "", ""}, "amount.amount_minor"},
           {{"de-direct", {"EUR", -1}, "DE", "r", "", ""}, "amount.amount_minor"},
           {{"de-direct", {"EUR", 1'000'000'000'000'001}, "DE", "r", "", ""},
            "amount.amount_minor"},
           {{"de-direct", {"XYZ", 1}, "DE", "r", "", ""}, "amount.currency_code"},
           {{"de-direct", {"EUR", 1}, "de", "r", "", ""}, "code_region"},
           {{"de-direct", {"EUR", 1}, "DEU", "r", "", ""}, "code_region"},
           {{"de-direct", {"EUR", 1}, "DE", std::string(10240, 'r'), "", ""}, "request_id"},
           {{"de-direct", {"EUR", 1}, "DE", "r", "", "1234-5678-9012-3456"}, "traceparent"},
       }) {
    absl::Status s = service_.CreditAccount(c.cmd).status();
    ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.field;
    auto violations = errors::FieldViolationsOf(s);
    ASSERT_EQ(violations.size(), 1u);
    EXPECT_EQ(violations[0].first, c.field);
  }
  EXPECT_EQ(store_.posts, before);
}

TEST_F(AccountServiceTest, ClosedAccountsTakeNoGiftCredit) {
  Account closed = store_.accounts["de-direct"];
  closed.closed = true;
  ASSERT_TRUE(service_.UpsertAccount(closed, true).ok());
  EXPECT_EQ(errors::ReasonOf(Credit("de-direct", {"EUR", 100}, "DE", "c1").status()),
            "ACCOUNT_CLOSED");
}

TEST(PlanReversalTest, PutsTheSameAmountBackTheOtherWayOnce) {
  Account account;
  account.currency_code = "EUR";
  account.balance_minor = 500;
  Transfer credit;
  credit.kind = TransferKind::kCredit;
  credit.amount = {"EUR", 300};
  auto m = PlanReversal(PostingContext{account, &credit, false});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->amount_minor, 300);
  EXPECT_EQ(m->direction, -1);
  EXPECT_EQ(errors::ReasonOf(PlanReversal(PostingContext{account, &credit, true}).status()),
            "ALREADY_REVERSED");
  account.balance_minor = 299;  // Part of the credit was spent.
  EXPECT_EQ(errors::ReasonOf(PlanReversal(PostingContext{account, &credit, false}).status()),
            "INSUFFICIENT_CREDIT");

  Transfer debit = credit;
  debit.kind = TransferKind::kDebit;
  m = PlanReversal(PostingContext{account, &debit, false});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->direction, +1);
  EXPECT_EQ(m->owed_repaid_minor, 0);
  // Credit given back pays what the account owes first.
  Account owing = account;
  owing.balance_minor = 0;
  owing.owed_minor = 200;
  m = PlanReversal(PostingContext{owing, &debit, false});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->amount_minor, 300);
  EXPECT_EQ(m->owed_repaid_minor, 200);
  owing.owed_minor = 900;
  EXPECT_EQ(PlanReversal(PostingContext{owing, &debit, false})->owed_repaid_minor, 300);
  Transfer reversal = credit;
  reversal.kind = TransferKind::kReversal;
  EXPECT_EQ(errors::ReasonOf(PlanReversal(PostingContext{account, &reversal, false}).status()),
            "CANNOT_REVERSE_REVERSAL");
}

TEST(PlanReversalTest, NeverPutsOneCurrencyIntoAnAccountOfAnother) {
  Account account;
  account.currency_code = "USD";
  account.balance_minor = 0;
  Transfer debit;
  debit.kind = TransferKind::kDebit;
  debit.amount = {"JPY", 10000};
  EXPECT_EQ(errors::ReasonOf(PlanReversal(PostingContext{account, &debit, false}).status()),
            "CURRENCY_MISMATCH");
}

TEST(PlanClawbackTest, TakesBackWhatIsLeftOfTheCreditNeverMore) {
  Account account;
  account.currency_code = "EUR";
  account.balance_minor = 500;
  Transfer credit;
  credit.kind = TransferKind::kCredit;
  credit.amount = {"EUR", 300};
  auto plan = [&](bool reversed) {
    return PlanClawback(PostingContext{account, &credit, reversed});
  };
  auto m = plan(false);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->amount_minor, 300);  // Untouched credit: all of it.
  EXPECT_EQ(m->direction, -1);
  EXPECT_EQ(m->owed_added_minor, 0);
  account.balance_minor = 120;  // 180 of it was spent: owed.
  ASSERT_TRUE(plan(false).ok());
  EXPECT_EQ(plan(false)->amount_minor, 120);
  EXPECT_EQ(plan(false)->owed_added_minor, 180);
  account.balance_minor = 0;  // All spent: nothing moves, never a negative balance; all owed.
  ASSERT_TRUE(plan(false).ok());
  EXPECT_EQ(plan(false)->amount_minor, 0);
  EXPECT_EQ(plan(false)->owed_added_minor, 300);
  account.balance_minor = 120;
  EXPECT_EQ(errors::ReasonOf(plan(true).status()), "ALREADY_REVERSED");
  for (TransferKind kind : {TransferKind::kDebit, TransferKind::kReversal}) {
    credit.kind = kind;
    EXPECT_EQ(errors::ReasonOf(plan(false).status()), "NOT_A_CREDIT");
  }
}

TEST_F(AccountServiceTest, ClawBackCreditNamesTheBadFieldAndWritesNothing) {
  const int before = store_.posts;
  auto bad = service_.ClawBackCredit({"", "claw-1"});
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(errors::MetadataOf(bad.status(), "field"), "transfer_id");
  bad = service_.ClawBackCredit({"some-transfer", ""});
  EXPECT_EQ(errors::MetadataOf(bad.status(), "field"), "request_id");
  EXPECT_EQ(store_.posts, before);
}

}  // namespace
}  // namespace giftcard::account_credit

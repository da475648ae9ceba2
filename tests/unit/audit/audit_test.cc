// The invariant check, on hand-made facts: clean books pass, each kind of
// broken book is reported.
#include "audit/audit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace giftcard::audit {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;

const absl::Time kEarly = absl::FromUnixSeconds(1000);
const absl::Time kSnapshot = absl::FromUnixSeconds(2000);

// A clean book: one redemption of 30.00 credited, one invoice of 11.99
// applied and reversed.
struct Books {
  VaultFacts vault;
  BillingFacts billing;
  LedgerFacts ledger;

  Books() {
    vault.snapshot_time = kSnapshot;
    billing.snapshot_time = kSnapshot;
    vault.redemptions.push_back({"red-1", "acct", "COMPLETED", "EUR", 3000});
    vault.redeemed_codes.push_back({"GC1", "red-1", "acct"});
    billing.applications.push_back({"inv-1", "acct", "REVERSED", "t-debit", "t-rev", 1199});
    ledger.currency_sums["EUR"] = 0;
    ledger.balances.push_back({"acct", 3000, 3000, "EUR", 0});
    ledger.transfers.push_back(
        {"t-credit", "red-1", "CREDIT", "acct", "EUR", "", 3000, kEarly, 2, 0, 3000});
    ledger.transfers.push_back(
        {"t-debit", "billing:apply:inv-1", "DEBIT", "acct", "EUR", "", 1199, kEarly, 2, 0, -1199});
    ledger.transfers.push_back({"t-rev", "billing:reverse:inv-1", "REVERSAL", "acct", "EUR",
                                "t-debit", 1199, kEarly, 2, 0, 1199});
  }
  std::vector<Violation> Check() const { return audit::Check(vault, billing, ledger); }
};

auto Invariant(const std::string& name) { return Field(&Violation::invariant, name); }

TEST(AuditTest, CleanBooksPass) { EXPECT_THAT(Books().Check(), IsEmpty()); }

TEST(AuditTest, UnbalancedMoneyIsReported) {
  Books b;
  b.ledger.currency_sums["EUR"] = 5;
  b.ledger.balances[0].balance_minor = 3100;
  b.ledger.transfers[0].entries = 1;
  b.ledger.transfers[0].entries_sum = 3000;
  EXPECT_THAT(b.Check(),
              ElementsAre(Invariant("currency_sums_to_zero"), Invariant("balance_equals_entries"),
                          Invariant("transfer_is_two_balanced_entries")));
}

TEST(AuditTest, ABalanceInAnotherCurrencyThanItsEntriesIsReported) {
  // 10,000 JPY credited, the account switched to USD, the JPY put back: the
  // balance reads 10,000 USD minor units that no USD entry backs.
  Books b;
  b.ledger.balances[0] = {"acct", 10000, 0, "USD", 3};
  EXPECT_THAT(b.Check(), ElementsAre(Invariant("balance_equals_entries"),
                                     Invariant("entries_in_account_currency")));
}

TEST(AuditTest, ARedeemedCodeNeedsExactlyOneCreditAndTheOtherWayRound) {
  Books b;
  b.ledger.transfers.push_back(b.ledger.transfers[0]);
  b.ledger.transfers.back().transfer_id = "t-credit-2";
  EXPECT_THAT(b.Check(), ElementsAre(Invariant("redeemed_code_has_one_credit")));

  Books rejected;
  rejected.vault.redemptions[0].state = "REJECTED";
  rejected.vault.redeemed_codes.clear();
  EXPECT_THAT(rejected.Check(), ElementsAre(Invariant("credit_has_redeemed_code")));

  Books pending;  // In flight: not a violation.
  pending.vault.redemptions[0].state = "PENDING";
  pending.vault.redeemed_codes.clear();
  EXPECT_THAT(pending.Check(), IsEmpty());

  Books late;  // Credited after the vault's snapshot: in flight too.
  late.vault.redemptions.clear();
  late.vault.redeemed_codes.clear();
  late.ledger.transfers[0].create_time = kSnapshot + absl::Seconds(1);
  EXPECT_THAT(late.Check(), IsEmpty());
}

TEST(AuditTest, BillingMustMatchItsDebitsAndReversals) {
  Books b;
  b.billing.applications[0].applied_minor = 1000;
  EXPECT_THAT(b.Check(), ElementsAre(Invariant("applied_credit_has_its_debit")));
  Books orphan;
  orphan.billing.applications.clear();
  EXPECT_THAT(orphan.Check(), ElementsAre(Invariant("debit_has_application"),
                                          Invariant("reversal_has_reversed_application")));
  Books twice;
  twice.ledger.transfers.push_back(twice.ledger.transfers[2]);
  twice.ledger.transfers.back().transfer_id = "t-rev-2";
  twice.ledger.transfers.back().request_id = "other";
  EXPECT_THAT(twice.Check(), ElementsAre(Invariant("reversed_at_most_once")));
}

// Books after a partial clawback of red-1: 1000 of the 3000 taken back
// (the rest spent elsewhere is not modelled), the code held.
// A clawback written before owed amounts were recorded (owed_added -1):
// it took back part of the credit and recorded nothing for the rest.
Books ClawedBack() {
  Books b;
  b.vault.redeemed_codes.clear();
  b.vault.clawbacks.push_back(
      {"claw-1", "red-1", "COMPLETED", "vault:clawback:claw-1", "EUR", 1000, "BLOCKED"});
  b.ledger.balances[0] = {"acct", 2000, 2000, "EUR", 0};
  b.ledger.transfers.push_back({"t-claw", "vault:clawback:claw-1", "REVERSAL", "acct", "EUR",
                                "t-credit", 1000, kEarly, 2, 0, -1000, -1});
  return b;
}

// The fraud's 30.00 spent on inv-2, clawed back at balance 0 (all of it
// owed), then inv-2 reversed: its credit repays the owed amount first.
Books Owed() {
  Books b;
  b.vault.redeemed_codes.clear();
  b.vault.clawbacks.push_back(
      {"claw-1", "red-1", "COMPLETED", "vault:clawback:claw-1", "EUR", 0, "BLOCKED"});
  b.billing.applications.push_back({"inv-2", "acct", "REVERSED", "t-debit2", "t-rev2", 3000});
  b.ledger.transfers.push_back(
      {"t-debit2", "billing:apply:inv-2", "DEBIT", "acct", "EUR", "", 3000, kEarly, 2, 0, -3000});
  b.ledger.transfers.push_back({"t-claw", "vault:clawback:claw-1", "REVERSAL", "acct", "EUR",
                                "t-credit", 0, kEarly, 0, 0, 0, 3000});
  b.ledger.transfers.push_back({"t-rev2", "billing:reverse:inv-2", "REVERSAL", "acct", "EUR",
                                "t-debit2", 3000, kEarly, 2, 0, 3000, 0, 3000});
  b.ledger.transfers.push_back({"t-repay", "owed-repayment/billing:reverse:inv-2", "REPAYMENT",
                                "acct", "EUR", "", 3000, kEarly, 2, 0, -3000});
  b.ledger.balances[0] = {"acct", 0, 0, "EUR", 0, 0, 0};
  return b;
}

TEST(AuditTest, AClawbackRecoversItsCreditWholeAndACreditRepaysOwedFirst) {
  EXPECT_THAT(Owed().Check(), IsEmpty());
  Books b = Owed();
  b.ledger.transfers.pop_back();  // The reversal says it repaid; no repayment moved the money.
  b.ledger.balances[0] = {"acct", 3000, 3000, "EUR", 0, 0, 0};
  EXPECT_THAT(b.Check(), ElementsAre(Invariant("repaid_owed_has_its_repayment")));
  b = Owed();
  b.ledger.balances[0].owed_minor = 500;  // Stored owed that no transfer explains.
  EXPECT_THAT(b.Check(), ElementsAre(Invariant("owed_equals_transfers")));
  b = Owed();
  b.ledger.balances[0] = {"acct", 100, 100, "EUR", 0, 100, 100};  // Credit beside a debt.
  EXPECT_THAT(b.Check(), ElementsAre(Invariant("owed_only_at_zero_balance")));
  b = Owed();
  b.ledger.transfers[4].owed_added_minor = 2000;  // Not the whole credit.
  EXPECT_THAT(b.Check(), ElementsAre(Invariant("reversal_mirrors_original")));
  b = Owed();
  b.ledger.transfers[3].owed_added_minor = 10;  // A debit cannot add owed.
  EXPECT_THAT(b.Check(), ElementsAre(Invariant("only_clawbacks_add_owed")));
  b = Owed();
  b.ledger.transfers.back().request_id = "owed-repayment/nothing";  // Whose repayment?
  EXPECT_THAT(b.Check(), ElementsAre(Invariant("repaid_owed_has_its_repayment"),
                                     Invariant("repayment_has_its_credit")));
}

TEST(AuditTest, ACompletedClawbackHasItsPartialReversalAndItsCodeHeld) {
  EXPECT_THAT(ClawedBack().Check(), IsEmpty());
  Books b = ClawedBack();
  b.ledger.transfers.back().amount_minor = 1200;  // Not what the vault reports.
  b.ledger.transfers.back().customer_side = -1200;
  b.ledger.balances[0] = {"acct", 1800, 1800, "EUR", 0};
  EXPECT_THAT(b.Check(), ElementsAre(Invariant("clawback_has_its_reversal")));
  b = ClawedBack();
  b.vault.clawbacks[0].code_state = "REDEEMED";
  EXPECT_THAT(b.Check(), ElementsAre(Invariant("clawed_back_code_is_held")));
  b = ClawedBack();
  b.ledger.transfers.pop_back();  // The vault says COMPLETED; the ledger has nothing.
  b.ledger.balances[0] = {"acct", 3000, 3000, "EUR", 0};
  EXPECT_THAT(b.Check(), ElementsAre(Invariant("clawback_has_its_reversal")));
}

TEST(AuditTest, NoRedemptionIsClawedBackTwiceAndEveryClawbackHasItsRedemption) {
  Books b = ClawedBack();
  b.vault.clawbacks.push_back(
      {"claw-2", "red-1", "PENDING", "vault:clawback:claw-2", "EUR", 0, "BLOCKED"});
  EXPECT_THAT(b.Check(), ElementsAre(Invariant("redemption_clawed_back_at_most_once")));
  b.vault.clawbacks.back().state = "REJECTED";  // A refused attempt does not count.
  EXPECT_THAT(b.Check(), IsEmpty());
  b = ClawedBack();
  b.vault.clawbacks[0].redemption_id = "red-unknown";
  EXPECT_THAT(b.Check(), Contains(Invariant("clawback_has_its_redemption")));
}

TEST(AuditTest, OnlyAClawbackReversesACreditPartly) {
  Books b = ClawedBack();
  b.ledger.transfers.back().request_id = "someone:else";
  b.vault.clawbacks.clear();
  b.vault.redeemed_codes.push_back({"GC1", "red-1", "acct"});
  EXPECT_THAT(b.Check(), ElementsAre(Invariant("reversal_mirrors_original")));
  b = ClawedBack();
  b.vault.clawbacks.clear();  // A clawback reversal the vault never asked for.
  b.vault.redeemed_codes.push_back({"GC1", "red-1", "acct"});
  EXPECT_THAT(b.Check(), ElementsAre(Invariant("clawback_reversal_has_clawback")));
}

}  // namespace
}  // namespace giftcard::audit

// Billing's rules, with an in-memory store and debit side.
#include "services/billing/domain/billing_service.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "errors/status.h"
#include "support/fakes/billing_fakes.h"

namespace giftcard::billing {
namespace {

using fakes::FakeDebit;
using fakes::FakeStore;

class BillingServiceTest : public ::testing::Test {
 protected:
  BillingServiceTest() : service_(store_, debit_) {}
  absl::StatusOr<CreditApplication> Apply(const std::string& invoice, int64_t due) {
    return service_.ApplyCredit({invoice, "acct", {"EUR", due}});
  }
  FakeStore store_;
  FakeDebit debit_;
  BillingService service_;
};

TEST_F(BillingServiceTest, MonthAfterMonthCreditPaysInFullThenInPartThenNothing) {
  debit_.balance = 3000;
  struct Month {
    int64_t applied, to_charge, remaining;
    bool covered;
  };
  const std::vector<Month> expected = {
      {1199, 0, 1801, true}, {1199, 0, 602, false}, {602, 597, 0, false}, {0, 1199, 0, false}};
  for (size_t m = 0; m < expected.size(); ++m) {
    auto app = Apply("inv-" + std::to_string(m), 1199);
    ASSERT_TRUE(app.ok()) << app.status();
    EXPECT_EQ(app->applied_minor, expected[m].applied) << m;
    EXPECT_EQ(app->amount_to_charge_minor(), expected[m].to_charge) << m;
    EXPECT_EQ(app->remaining_credit_minor, expected[m].remaining) << m;
    EXPECT_EQ(app->next_invoice_covered(), expected[m].covered) << m;
  }
}

TEST_F(BillingServiceTest, AnInvoiceIsDebitedOnceWhateverTheRetries) {
  debit_.balance = 1000;
  debit_.next = errors::DependencyUnavailable("account-credit", "deadline");
  EXPECT_EQ(Apply("inv", 400).status().code(), absl::StatusCode::kUnavailable);
  debit_.next = absl::OkStatus();
  auto first = Apply("inv", 400);
  auto again = Apply("inv", 400);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(again->applied_minor, 400);
  EXPECT_EQ(debit_.effects, 1);
  EXPECT_EQ(debit_.balance, 600);
  EXPECT_EQ(errors::ReasonOf(Apply("inv", 401).status()), "REQUEST_ID_REUSED");
  EXPECT_EQ(errors::ReasonOf(service_.ApplyCredit({"inv", "other", {"EUR", 400}}).status()),
            "REQUEST_ID_REUSED");
}

TEST_F(BillingServiceTest, ARecordedRefusalLeavesNoApplication) {
  debit_.next = errors::MarkRecordedDecision(
      errors::Error(absl::StatusCode::kNotFound, errors::reason::kAccountNotFound, ""));
  EXPECT_EQ(errors::ReasonOf(Apply("inv", 400).status()), "ACCOUNT_NOT_FOUND");
  EXPECT_TRUE(store_.rows.empty());
}

TEST_F(BillingServiceTest, AnUnrecordedRefusalKeepsTheApplicationAndTheReversalPending) {
  debit_.balance = 1000;
  const absl::Status who =
      errors::Error(absl::StatusCode::kUnauthenticated, errors::reason::kCallerUnknown, "who");
  debit_.next = who;
  EXPECT_EQ(Apply("inv", 400).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_.rows["inv"].state, ApplicationState::kPending);
  EXPECT_EQ(service_.RecoverUnsettled(absl::ZeroDuration(), 10), 0);
  EXPECT_EQ(store_.rows["inv"].state, ApplicationState::kPending);
  debit_.next = absl::OkStatus();
  EXPECT_EQ(service_.RecoverUnsettled(absl::ZeroDuration(), 10), 1);
  EXPECT_EQ(store_.rows["inv"].state, ApplicationState::kApplied);

  debit_.next = errors::InvalidField("transfer_id", "malformed");
  EXPECT_EQ(service_.ReverseCredit("inv", "refund").status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_.rows["inv"].state, ApplicationState::kReversalPending);
  debit_.next = absl::OkStatus();
  EXPECT_EQ(service_.RecoverUnsettled(absl::ZeroDuration(), 10), 1);
  EXPECT_EQ(store_.rows["inv"].state, ApplicationState::kReversed);
  EXPECT_EQ(debit_.effects, 2);
  EXPECT_EQ(service_.unknown_outcome_count(), 3);
}

// With answer_before_mark, a call is answered with the application as its
// mark writes it once the mark is ordered; a mark that fails leaves the
// application PENDING, and the recovery worker marks it with the same
// debit. Without it, the call waits for the mark and says it failed.
TEST(BillingAnswerFirstTest, TheAnswerIsTheMarkAndALostMarkIsRecoveredWithTheSameDebit) {
  for (const bool answer_first : {false, true}) {
    FakeStore store;
    FakeDebit debit;
    debit.balance = 1000;
    BillingService service(store, debit, {.answer_before_mark = answer_first});
    SyncApplicationStore async_store(store);
    SyncDebit async_debit(debit);
    store.fail_marks = errors::DependencyUnavailable("postgres", "lock timeout");
    std::optional<absl::StatusOr<CreditApplication>> answer;
    service.StartApplyCredit({async_store, async_debit}, {"inv", "acct", {"EUR", 400}},
                             [&answer](absl::StatusOr<CreditApplication> a) { answer = a; });
    ASSERT_TRUE(answer.has_value());
    if (answer_first) {
      ASSERT_TRUE(answer->ok()) << answer->status();
      EXPECT_EQ((*answer)->state, ApplicationState::kApplied);
      EXPECT_EQ((*answer)->applied_minor, 400);
      EXPECT_EQ((*answer)->remaining_credit_minor, 600);
      EXPECT_FALSE((*answer)->debit_transfer_id.empty());
    } else {
      EXPECT_EQ(answer->status().code(), absl::StatusCode::kUnavailable);
    }
    EXPECT_EQ(store.rows["inv"].state, ApplicationState::kPending) << answer_first;
    store.fail_marks = absl::OkStatus();
    EXPECT_EQ(service.RecoverUnsettled(absl::ZeroDuration(), 10), 1);
    EXPECT_EQ(store.rows["inv"].state, ApplicationState::kApplied);
    if (answer_first && answer->ok()) {
      EXPECT_EQ(store.rows["inv"].debit_transfer_id, (*answer)->debit_transfer_id);
    }
    EXPECT_EQ(debit.effects, 1);
    EXPECT_EQ(debit.balance, 600);
  }
}

TEST_F(BillingServiceTest, AReversalPutsTheCreditBackOnceEvenAcrossFailures) {
  debit_.balance = 1000;
  ASSERT_TRUE(Apply("inv", 400).ok());
  debit_.next = errors::DependencyUnavailable("account-credit", "down");
  EXPECT_EQ(service_.ReverseCredit("inv", "refund").status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_.rows["inv"].state, ApplicationState::kReversalPending);
  debit_.next = absl::OkStatus();
  EXPECT_EQ(service_.RecoverUnsettled(absl::ZeroDuration(), 10), 1);
  auto again = service_.ReverseCredit("inv", "refund");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->state, ApplicationState::kReversed);
  EXPECT_EQ(again->remaining_credit_minor, 1000);
  EXPECT_EQ(debit_.balance, 1000);
  EXPECT_EQ(debit_.effects, 2);  // One debit, one reversal.
  EXPECT_EQ(service_.ReverseCredit("unknown", "").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(BillingServiceTest, BadInputIsRefused) {
  EXPECT_EQ(Apply("", 100).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Apply(std::string(97, 'i'), 100).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Apply("inv", 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Apply("inv", -5).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_.rows.empty());
}

}  // namespace
}  // namespace giftcard::billing

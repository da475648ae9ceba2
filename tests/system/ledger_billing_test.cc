// The ledger and billing through the real services: month after month,
// concurrency, reversals, listing, and a crash between billing's record and
// account-credit's debit. The audit must be clean after each.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <future>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "server/client.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(LedgerBillingTest, MonthAfterMonthCreditPaysInFullThenInPartThenNothing) {
  Suite suite;
  const std::string account = suite.FundedAccount(3000);
  struct Month {
    int64_t applied, to_charge, remaining;
    bool covered;
  };
  const std::vector<Month> months = {
      {1199, 0, 1801, true}, {1199, 0, 602, false}, {602, 597, 0, false}, {0, 1199, 0, false}};
  for (size_t m = 0; m < months.size(); ++m) {
    v1::CreditApplication app;
    grpc::Status s = suite.ApplyCredit(absl::StrCat("2026-", m + 1), account, 1199, "EUR", &app);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(app.applied().amount_minor(), months[m].applied) << "month " << m + 1;
    EXPECT_EQ(app.amount_to_charge().amount_minor(), months[m].to_charge) << "month " << m + 1;
    EXPECT_EQ(app.remaining_credit().amount_minor(), months[m].remaining) << "month " << m + 1;
    EXPECT_EQ(app.next_invoice_covered(), months[m].covered) << "month " << m + 1;
    EXPECT_EQ(app.state(), v1::CREDIT_APPLICATION_STATE_APPLIED);
  }
  EXPECT_EQ(suite.AuditReport(), "");
}

TEST(LedgerBillingTest, FiftyConcurrentCallsForOneInvoiceDebitOnce) {
  Suite suite;
  const std::string account = suite.FundedAccount(5000);
  std::vector<std::future<std::pair<grpc::Status, v1::CreditApplication>>> calls;
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  for (int i = 0; i < 50; ++i) {
    calls.push_back(std::async(std::launch::async, [&, start] {
      start.wait();
      v1::CreditApplication app;
      grpc::Status s = suite.ApplyCredit("inv-once", account, 1199, "EUR", &app);
      return std::make_pair(s, app);
    }));
  }
  go.set_value();
  std::set<std::string> answers;
  for (auto& c : calls) {
    auto [s, app] = c.get();
    ASSERT_TRUE(s.ok()) << s.error_message();
    app.clear_update_time();
    answers.insert(app.SerializeAsString());
  }
  EXPECT_EQ(answers.size(), 1u);
  EXPECT_THAT(
      QueryColumn(suite.account_credit_dsn, "SELECT count(*) FROM transfers WHERE kind = 'DEBIT'"),
      AllEqual("1"));
  v1::Account got;
  ASSERT_TRUE(suite.GetAccount(account, &got).ok());
  EXPECT_EQ(got.balance().amount_minor(), 5000 - 1199);
  EXPECT_EQ(suite.AuditReport(), "");
}

TEST(LedgerBillingTest, FiftyInvoicesAtOnceNeverTakeMoreThanTheBalance) {
  Suite suite;
  const std::string account = suite.FundedAccount(1000);
  std::vector<std::future<v1::CreditApplication>> calls;
  std::promise<void> go;
  std::shared_future<void> start = go.get_future().share();
  for (int i = 0; i < 50; ++i) {
    calls.push_back(std::async(std::launch::async, [&, start, i] {
      start.wait();
      v1::CreditApplication app;
      grpc::Status s = suite.ApplyCredit(absl::StrCat("inv-", i), account, 150, "EUR", &app);
      EXPECT_TRUE(s.ok()) << s.error_message();
      return app;
    }));
  }
  go.set_value();
  int64_t applied = 0, charged = 0;
  for (auto& c : calls) {
    v1::CreditApplication app = c.get();
    applied += app.applied().amount_minor();
    charged += app.amount_to_charge().amount_minor();
  }
  EXPECT_EQ(applied, 1000);
  EXPECT_EQ(charged, 50 * 150 - 1000);
  v1::Account got;
  ASSERT_TRUE(suite.GetAccount(account, &got).ok());
  EXPECT_EQ(got.balance().amount_minor(), 0);
  EXPECT_EQ(suite.AuditReport(), "");
}

TEST(LedgerBillingTest, ReversalsPutCreditBackExactlyOnce) {
  Suite suite;
  const std::string account = suite.FundedAccount(2000);
  v1::CreditApplication app;
  ASSERT_TRUE(suite.ApplyCredit("inv-refund", account, 1500, "EUR", &app).ok());
  v1::CreditApplication reversed;
  grpc::Status s = suite.ReverseCredit("inv-refund", &reversed);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(reversed.state(), v1::CREDIT_APPLICATION_STATE_REVERSED);
  EXPECT_EQ(reversed.remaining_credit().amount_minor(), 2000);
  ASSERT_TRUE(suite.ReverseCredit("inv-refund", &reversed).ok());
  EXPECT_EQ(reversed.state(), v1::CREDIT_APPLICATION_STATE_REVERSED);
  v1::Account got;
  ASSERT_TRUE(suite.GetAccount(account, &got).ok());
  EXPECT_EQ(got.balance().amount_minor(), 2000);
  EXPECT_THAT(QueryColumn(suite.account_credit_dsn,
                          "SELECT count(*) FROM transfers WHERE kind = 'REVERSAL'"),
              AllEqual("1"));
  EXPECT_EQ(ReasonOf(suite.ReverseCredit("inv-unknown", &reversed)), "INVOICE_NOT_FOUND");

  // A transfer is reversed once; a reversal is not reversed.
  const std::string credit_id =
      QueryColumn(suite.account_credit_dsn,
                  "SELECT transfer_id FROM transfers WHERE kind = 'CREDIT'")
          .at(0);
  v1::ReverseTransferRequest reverse;
  reverse.set_transfer_id(credit_id);
  reverse.set_request_id("take-back-1");
  v1::Transfer t;
  s = suite.credit_stub->ReverseTransfer(Context(kBillingToken).get(), reverse, &t);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(t.kind(), v1::TRANSFER_KIND_REVERSAL);
  EXPECT_EQ(t.reverses_transfer_id(), credit_id);
  EXPECT_EQ(t.balance().amount_minor(), 0);
  v1::Transfer replay;
  ASSERT_TRUE(
      suite.credit_stub->ReverseTransfer(Context(kBillingToken).get(), reverse, &replay).ok());
  EXPECT_EQ(replay.transfer_id(), t.transfer_id());
  reverse.set_request_id("take-back-2");
  s = suite.credit_stub->ReverseTransfer(Context(kBillingToken).get(), reverse, &replay);
  EXPECT_EQ(ReasonOf(s), "ALREADY_REVERSED");
  reverse.set_transfer_id(t.transfer_id());
  reverse.set_request_id("take-back-3");
  s = suite.credit_stub->ReverseTransfer(Context(kBillingToken).get(), reverse, &replay);
  EXPECT_EQ(ReasonOf(s), "CANNOT_REVERSE_REVERSAL");
  reverse.set_transfer_id("not-a-transfer");
  reverse.set_request_id("take-back-4");
  s = suite.credit_stub->ReverseTransfer(Context(kBillingToken).get(), reverse, &replay);
  EXPECT_EQ(ReasonOf(s), "TRANSFER_NOT_FOUND");
  // The audit knows the gift credit was taken back: the code stays REDEEMED,
  // its one credit transfer is still there, and the books balance.
  EXPECT_EQ(suite.AuditReport(), "");
}

TEST(LedgerBillingTest, LedgerEntriesPageNewestFirstAndStayStableUnderWrites) {
  Suite suite;
  const std::string account = suite.FundedAccount(10000);
  for (int i = 0; i < 6; ++i) {
    v1::CreditApplication app;
    ASSERT_TRUE(suite.ApplyCredit(absl::StrCat("inv-", i), account, 100, "EUR", &app).ok());
  }
  v1::ListLedgerEntriesRequest list;
  list.set_account_id(account);
  list.set_page_size(3);
  std::vector<int64_t> ids;
  int pages = 0;
  do {
    v1::ListLedgerEntriesResponse page;
    grpc::Status s = suite.credit_stub->ListLedgerEntries(Context(kAdminToken).get(), list, &page);
    ASSERT_TRUE(s.ok()) << s.error_message();
    for (const auto& e : page.entries()) {
      ids.push_back(e.entry_id());
      EXPECT_EQ(e.account_id(), account);
    }
    if (pages == 0) {  // New entries while paging must not shift later pages.
      v1::CreditApplication app;
      ASSERT_TRUE(suite.ApplyCredit("inv-during", account, 100, "EUR", &app).ok());
    }
    list.set_page_token(page.next_page_token());
    ++pages;
  } while (!list.page_token().empty() && pages < 10);
  ASSERT_EQ(ids.size(), 7u);  // 1 credit + 6 debits, as of the first page.
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_GT(ids[i - 1], ids[i]);
  list.set_account_id("gift-funding/EUR");
  list.clear_page_token();
  v1::ListLedgerEntriesResponse funding;
  ASSERT_TRUE(
      suite.credit_stub->ListLedgerEntries(Context(kAdminToken).get(), list, &funding).ok());
  ASSERT_EQ(funding.entries_size(), 1);
  EXPECT_EQ(funding.entries(0).amount().amount_minor(), -10000);
  list.set_account_id(UniqueName("nobody"));
  v1::ListLedgerEntriesResponse none;
  EXPECT_EQ(ReasonOf(suite.credit_stub->ListLedgerEntries(Context(kAdminToken).get(), list, &none)),
            "ACCOUNT_NOT_FOUND");
}

TEST(LedgerBillingTest, ClosedAccountsTakeNoCreditButCanStillPay) {
  Suite suite;
  const std::string account = suite.FundedAccount(1000);
  v1::UpsertAccountRequest close;
  close.mutable_account()->set_account_id(account);
  close.mutable_account()->set_country("DE");
  close.mutable_account()->set_currency_code("EUR");
  close.mutable_account()->set_billing_channel(v1::BILLING_CHANNEL_DIRECT);
  close.mutable_account()->set_state(v1::ACCOUNT_STATE_CLOSED);
  v1::Account closed;
  ASSERT_TRUE(
      suite.credit_stub->UpsertAccount(Context(kStorefrontToken).get(), close, &closed).ok());
  EXPECT_EQ(closed.state(), v1::ACCOUNT_STATE_CLOSED);
  auto codes = suite.IssueActiveCodes(1, 500, "EUR", "DE");
  EXPECT_EQ(ReasonOf(suite.Redeem(codes.at(0).code(), account, "after-close")), "ACCOUNT_CLOSED");
  v1::CreditApplication app;
  ASSERT_TRUE(suite.ApplyCredit("final-invoice", account, 400, "EUR", &app).ok());
  EXPECT_EQ(app.applied().amount_minor(), 400);
}

TEST(LedgerBillingTest, ARefusedInvoiceKeepsItsAnswerAndANewInvoiceIdWorks) {
  Suite suite;
  const std::string account = UniqueName("late");
  v1::CreditApplication app;
  EXPECT_EQ(ReasonOf(suite.ApplyCredit("inv-early", account, 500, "EUR", &app)),
            "ACCOUNT_NOT_FOUND");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  // The same invoice id: the first answer, not a debit.
  EXPECT_EQ(ReasonOf(suite.ApplyCredit("inv-early", account, 500, "EUR", &app)),
            "ACCOUNT_NOT_FOUND");
  EXPECT_THAT(QueryColumn(suite.billing_dsn, "SELECT count(*) FROM credit_applications"),
              AllEqual("0"));
  // A new invoice id is decided afresh (no credit yet: everything to charge).
  ASSERT_TRUE(suite.ApplyCredit("inv-again", account, 500, "EUR", &app).ok());
  EXPECT_EQ(app.amount_to_charge().amount_minor(), 500);
  EXPECT_EQ(suite.AuditReport(), "");
}

// BatchCreditAccounts is not atomic: each item gets the answer its own
// CreditAccount call gets, with its own idempotency and its own error.
TEST(LedgerBillingTest, ABatchOfCreditsAnswersEachItemAsItsOwnCallWould) {
  Suite suite;
  const std::string account = UniqueName("acct");
  const std::string abroad = UniqueName("acct-fr");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  ASSERT_TRUE(suite.UpsertAccount(abroad, "FR", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto credit = [](const std::string& account_id, int64_t minor, const std::string& request_id) {
    v1::CreditAccountRequest r;
    r.set_account_id(account_id);
    r.mutable_amount()->set_currency_code("EUR");
    r.mutable_amount()->set_amount_minor(minor);
    r.set_code_region("DE");
    r.set_request_id(request_id);
    r.set_reference("batch-test");
    return r;
  };
  v1::BatchCreditAccountsRequest batch;
  *batch.add_requests() = credit(account, 500, "b-1");
  *batch.add_requests() = credit(abroad, 500, "b-2");  // REGION_MISMATCH, recorded.
  *batch.add_requests() = credit(account, -5, "b-3");  // Bad input: nothing recorded.
  *batch.add_requests() = credit(account, 700, "b-4");
  *batch.add_requests() = credit(account, 500, "b-1");  // The first item again: one transfer.
  v1::BatchCreditAccountsResponse answer;
  auto ctx = Context(kCodeVaultToken);
  ASSERT_TRUE(suite.credit_stub->BatchCreditAccounts(ctx.get(), batch, &answer).ok());
  ASSERT_EQ(answer.results_size(), 5);
  ASSERT_TRUE(answer.results(0).has_transfer());
  ASSERT_TRUE(answer.results(3).has_transfer());
  ASSERT_TRUE(answer.results(4).has_transfer());
  EXPECT_EQ(answer.results(4).transfer().transfer_id(), answer.results(0).transfer().transfer_id());
  EXPECT_EQ(answer.results(3).transfer().balance().amount_minor(), 1200);
  const absl::Status refused = errors::FromRpcStatus(answer.results(1).error());
  EXPECT_EQ(errors::ReasonOf(refused), "REGION_MISMATCH");
  EXPECT_TRUE(errors::IsRecordedDecision(refused));
  const absl::Status invalid = errors::FromRpcStatus(answer.results(2).error());
  EXPECT_EQ(invalid.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(errors::IsRecordedDecision(invalid));

  // The single calls with the same request ids get the same answers.
  for (int i : {0, 1, 3}) {
    v1::Transfer single;
    auto single_ctx = Context(kCodeVaultToken);
    const grpc::Status s =
        suite.credit_stub->CreditAccount(single_ctx.get(), batch.requests(i), &single);
    if (answer.results(i).has_transfer()) {
      ASSERT_TRUE(s.ok()) << i << ": " << s.error_message();
      EXPECT_EQ(single.transfer_id(), answer.results(i).transfer().transfer_id());
    } else {
      EXPECT_EQ(ReasonOf(s), "REGION_MISMATCH");
    }
  }
  v1::Account got;
  ASSERT_TRUE(suite.GetAccount(account, &got).ok());
  EXPECT_EQ(got.balance().amount_minor(), 1200);

  // An empty batch is refused as a whole.
  v1::BatchCreditAccountsRequest empty;
  auto empty_ctx = Context(kCodeVaultToken);
  EXPECT_EQ(suite.credit_stub->BatchCreditAccounts(empty_ctx.get(), empty, &answer).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  // (No audit here: credits called directly have no redemption behind them,
  // which the audit rightly reports.)
}

TEST(LedgerBillingTest, BillingKilledMidDebitRecoversToOneDebit) {
  // account-credit holds each DebitAccount 3 s, so billing has recorded the
  // application and its debit is in flight when billing is killed.
  Suite suite({.account_credit_args = {"--enable_test_hooks",
                                       "--test_delay_methods=BatchDebitAccounts=3000"},
               .billing_args = {"--recovery_interval=200ms", "--recovery_min_age=500ms"}});
  const std::string account = suite.FundedAccount(3000);
  auto call = std::async(std::launch::async, [&] {
    v1::CreditApplication app;
    return suite.ApplyCredit("inv-crash", account, 1199, "EUR", &app);
  });
  ASSERT_TRUE(suite.account_credit->WaitForLog("test_hook_delay"));
  EXPECT_THAT(QueryColumn(suite.billing_dsn, "SELECT state FROM credit_applications"),
              AllEqual("PENDING"));
  suite.billing->Signal(SIGKILL);
  suite.billing->WaitExit(absl::Seconds(10));
  EXPECT_FALSE(call.get().ok());

  std::string address;
  suite.billing = Suite::StartService(
      // Every debit is still held 3 s by the hook: give the worker's calls time.
      "billing",
      {"--listen=" + suite.billing_addr, "--recovery_interval=200ms", "--recovery_min_age=500ms",
       "--debit_timeout=10s"},
      {{"GIFTCARD_PG_DSN", suite.billing_dsn},
       {"GIFTCARD_ACCOUNT_CREDIT_ADDRESS", suite.account_credit_addr},
       {"GIFTCARD_ACCOUNT_CREDIT_TOKEN", kBillingToken}},
      &address);
  // The old channel is still backing off from the dead process: a new one.
  suite.billing_stub = v1::Billing::NewStub(server::MakeChannel(address));
  const absl::Time done_by = absl::Now() + absl::Seconds(30);
  while (absl::Now() < done_by &&
         QueryValue(suite.billing_dsn, "SELECT state FROM credit_applications") == "PENDING") {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_THAT(QueryColumn(suite.billing_dsn, "SELECT state FROM credit_applications"),
              AllEqual("APPLIED"));
  EXPECT_THAT(
      QueryColumn(suite.account_credit_dsn, "SELECT count(*) FROM transfers WHERE kind = 'DEBIT'"),
      AllEqual("1"));
  v1::CreditApplication app;
  ASSERT_TRUE(suite.ApplyCredit("inv-crash", account, 1199, "EUR", &app).ok());
  EXPECT_EQ(app.applied().amount_minor(), 1199);
  EXPECT_EQ(app.remaining_credit().amount_minor(), 1801);
  v1::Account got;
  ASSERT_TRUE(suite.GetAccount(account, &got).ok());
  EXPECT_EQ(got.balance().amount_minor(), 1801);
  EXPECT_EQ(suite.AuditReport(), "");
}

}  // namespace
}  // namespace giftcard::testing

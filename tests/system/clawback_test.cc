// Clawbacks of fraudulent redemptions: ReverseRedemption takes the credit
// back up to the account's balance, exactly once, records what was already
// spent as owed (the next credits pay it first), and leaves the code BLOCKED
// or VOIDED; the audit
// stays clean after each, and an unknown outcome is finished by recovery
// with the one ledger request.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::ElementsAre;

v1::ReverseRedemptionRequest BySerial(const std::string& serial, const std::string& request_id,
                                      v1::CodeState then = v1::CODE_STATE_BLOCKED) {
  v1::ReverseRedemptionRequest r;
  r.set_serial(serial);
  r.set_reason("chargeback 4711");
  r.set_request_id(request_id);
  r.set_then_state(then);
  return r;
}

grpc::Status Reverse(Suite& suite, const v1::ReverseRedemptionRequest& request, v1::Clawback* out,
                     const std::string& token = kAdminToken) {
  return suite.vault_stub->ReverseRedemption(Context(token).get(), request, out);
}

int64_t BalanceOf(Suite& suite, const std::string& account) {
  v1::Account a;
  EXPECT_TRUE(suite.GetAccount(account, &a).ok());
  return a.balance().amount_minor();
}

std::string ClawbackTransfers(Suite& suite) {
  return QueryColumn(suite.account_credit_dsn,
                     "SELECT count(*) FROM transfers WHERE request_id LIKE 'vault:clawback:%'")
      .at(0);
}

// A redeemed card of 25.00 on a fresh account.
struct Redeemed {
  std::string account;
  v1::IssuedCode code;
  v1::Redemption redemption;
};

Redeemed RedeemOne(Suite& suite) {
  Redeemed r;
  r.account = UniqueName("acct");
  EXPECT_TRUE(suite.UpsertAccount(r.account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(1, 2500, "EUR", "DE");
  EXPECT_EQ(codes.size(), 1u);
  if (codes.empty()) return r;
  r.code = codes[0];
  EXPECT_TRUE(suite.Redeem(r.code.code(), r.account, "r1", &r.redemption).ok());
  return r;
}

TEST(ClawbackTest, AFullClawbackTakesTheCreditBackOnceAndHoldsTheCodeForGood) {
  Suite suite;
  const Redeemed card = RedeemOne(suite);
  ASSERT_EQ(BalanceOf(suite, card.account), 2500);

  // Support may look, never claw back.
  v1::Clawback refused;
  EXPECT_EQ(
      Reverse(suite, BySerial(card.code.serial(), "c1"), &refused, kSupportToken).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);

  v1::Clawback c;
  grpc::Status s = Reverse(suite, BySerial(card.code.serial(), "c1"), &c);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(c.state(), v1::CLAWBACK_STATE_COMPLETED);
  EXPECT_EQ(c.redemption_id(), card.redemption.redemption_id());
  EXPECT_EQ(c.account_id(), card.account);
  EXPECT_EQ(c.amount().amount_minor(), 2500);
  EXPECT_EQ(c.clawed_back().amount_minor(), 2500);
  EXPECT_EQ(c.unrecovered().amount_minor(), 0);
  EXPECT_EQ(c.balance().amount_minor(), 0);
  EXPECT_EQ(c.principal(), "admin");
  EXPECT_FALSE(c.transfer_id().empty());
  EXPECT_EQ(BalanceOf(suite, card.account), 0);
  EXPECT_EQ(suite.AuditReport(), "");

  // Support sees why the code is held.
  v1::CodeStatus status;
  ASSERT_TRUE(suite.GetCodeStatus(card.code.serial(), &status).ok());
  EXPECT_EQ(status.state(), v1::CODE_STATE_BLOCKED);
  EXPECT_EQ(status.block_reason(), "chargeback 4711");
  // The statement names it.
  v1::ListLedgerEntriesRequest list;
  list.set_account_id(card.account);
  v1::ListLedgerEntriesResponse entries;
  ASSERT_TRUE(
      suite.credit_stub->ListLedgerEntries(Context(kSupportToken).get(), list, &entries).ok());
  ASSERT_EQ(entries.entries_size(), 2);
  EXPECT_EQ(entries.entries(0).kind(), v1::LEDGER_ENTRY_KIND_CLAWBACK);
  EXPECT_EQ(entries.entries(0).amount().amount_minor(), -2500);
  EXPECT_EQ(entries.entries(0).reference(), card.code.serial());

  // Replayed: the same clawback, one transfer.
  v1::Clawback again;
  ASSERT_TRUE(Reverse(suite, BySerial(card.code.serial(), "c1"), &again).ok());
  EXPECT_EQ(again.clawback_id(), c.clawback_id());
  EXPECT_EQ(again.transfer_id(), c.transfer_id());
  EXPECT_EQ(ClawbackTransfers(suite), "1");
  // The same request id for something else is refused.
  EXPECT_EQ(
      ReasonOf(Reverse(suite, BySerial(card.code.serial(), "c1", v1::CODE_STATE_VOIDED), &again)),
      "REQUEST_ID_REUSED");
  // Twice, by serial or by redemption id: refused, nothing moves.
  const std::string before = suite.ContentsDigest();
  EXPECT_EQ(ReasonOf(Reverse(suite, BySerial(card.code.serial(), "c2"), &again)),
            "ALREADY_CLAWED_BACK");
  v1::ReverseRedemptionRequest by_id = BySerial("", "c3");
  by_id.set_redemption_id(card.redemption.redemption_id());
  EXPECT_EQ(ReasonOf(Reverse(suite, by_id, &again)), "ALREADY_CLAWED_BACK");
  // The hold is for good: unblocking is refused.
  v1::UnblockCodesRequest unblock;
  unblock.add_serials(card.code.serial());
  unblock.set_reason("customer called");
  unblock.set_request_id("u1");
  v1::UnblockCodesResponse unblocked;
  EXPECT_EQ(
      ReasonOf(suite.vault_stub->UnblockCodes(Context(kAdminToken).get(), unblock, &unblocked)),
      "CODE_CLAWED_BACK");
  EXPECT_EQ(suite.ContentsDigest(), before);
  EXPECT_EQ(ClawbackTransfers(suite), "1");
  EXPECT_EQ(suite.AuditReport(), "");
}

TEST(ClawbackTest, APartialClawbackReportsWhatWasSpentAndNeverDrivesTheBalanceNegative) {
  Suite suite;
  const Redeemed card = RedeemOne(suite);
  v1::CreditApplication app;
  ASSERT_TRUE(suite.ApplyCredit("inv-1", card.account, 1600, "EUR", &app).ok());
  ASSERT_EQ(BalanceOf(suite, card.account), 900);

  v1::ReverseRedemptionRequest by_id = BySerial("", "c1", v1::CODE_STATE_VOIDED);
  by_id.set_redemption_id(card.redemption.redemption_id());
  v1::Clawback c;
  grpc::Status s = Reverse(suite, by_id, &c);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(c.clawed_back().amount_minor(), 900);
  EXPECT_EQ(c.unrecovered().amount_minor(), 1600);
  EXPECT_EQ(c.balance().amount_minor(), 0);
  EXPECT_EQ(c.serial(), card.code.serial());
  EXPECT_EQ(BalanceOf(suite, card.account), 0);
  v1::CodeStatus status;
  ASSERT_TRUE(suite.GetCodeStatus(card.code.serial(), &status).ok());
  EXPECT_EQ(status.state(), v1::CODE_STATE_VOIDED);
  EXPECT_EQ(status.void_reason(), "chargeback 4711");
  EXPECT_EQ(suite.AuditReport(), "");

  // A card whose credit was all spent: a clawback of nothing, still once.
  const Redeemed spent = RedeemOne(suite);
  ASSERT_TRUE(suite.ApplyCredit("inv-2", spent.account, 2500, "EUR", &app).ok());
  ASSERT_TRUE(Reverse(suite, BySerial(spent.code.serial(), "c2"), &c).ok());
  EXPECT_EQ(c.clawed_back().amount_minor(), 0);
  EXPECT_EQ(c.unrecovered().amount_minor(), 2500);
  EXPECT_EQ(BalanceOf(suite, spent.account), 0);
  EXPECT_EQ(suite.AuditReport(), "");
}

// A clawback at zero balance and the reversal of the invoice that spent the
// fraud's credit end the same in either order: what the balance did not
// cover is owed, and the reversal's credit pays it first. Then a good card
// of 5.00 is the account's whole balance either way.
TEST(ClawbackTest, ClawbackAndInvoiceReversalEndTheSameInEitherOrder) {
  Suite suite;
  for (const bool clawback_first : {true, false}) {
    SCOPED_TRACE(clawback_first ? "clawback, then reversal" : "reversal, then clawback");
    const Redeemed fraud = RedeemOne(suite);
    const std::string invoice = UniqueName("inv");
    v1::CreditApplication app;
    ASSERT_TRUE(suite.ApplyCredit(invoice, fraud.account, 2500, "EUR", &app).ok());
    ASSERT_EQ(BalanceOf(suite, fraud.account), 0);
    v1::Clawback c;
    if (clawback_first) {
      ASSERT_TRUE(Reverse(suite, BySerial(fraud.code.serial(), "first"), &c).ok());
      EXPECT_EQ(c.clawed_back().amount_minor(), 0);
      EXPECT_EQ(c.unrecovered().amount_minor(), 2500);
      v1::Account owing;
      ASSERT_TRUE(suite.GetAccount(fraud.account, &owing).ok());
      EXPECT_EQ(owing.owed().amount_minor(), 2500);
      ASSERT_TRUE(suite.ReverseCredit(invoice, &app).ok());
      // The reversal's credit went to what was owed; the statement says so.
      v1::ListLedgerEntriesRequest list;
      list.set_account_id(fraud.account);
      v1::ListLedgerEntriesResponse entries;
      ASSERT_TRUE(
          suite.credit_stub->ListLedgerEntries(Context(kSupportToken).get(), list, &entries).ok());
      ASSERT_GE(entries.entries_size(), 2);
      EXPECT_EQ(entries.entries(0).kind(), v1::LEDGER_ENTRY_KIND_OWED_REPAYMENT);
      EXPECT_EQ(entries.entries(0).amount().amount_minor(), -2500);
      EXPECT_EQ(entries.entries(0).reference(), invoice);
      EXPECT_EQ(entries.entries(1).kind(), v1::LEDGER_ENTRY_KIND_INVOICE_REVERSAL);
    } else {
      ASSERT_TRUE(suite.ReverseCredit(invoice, &app).ok());
      ASSERT_TRUE(Reverse(suite, BySerial(fraud.code.serial(), "second"), &c).ok());
      EXPECT_EQ(c.clawed_back().amount_minor(), 2500);
      EXPECT_EQ(c.unrecovered().amount_minor(), 0);
    }
    EXPECT_EQ(BalanceOf(suite, fraud.account), 0);
    v1::Account settled;
    ASSERT_TRUE(suite.GetAccount(fraud.account, &settled).ok());
    EXPECT_EQ(settled.owed().amount_minor(), 0);
    auto good = suite.IssueActiveCodes(1, 500, "EUR", "DE");
    ASSERT_EQ(good.size(), 1u);
    ASSERT_TRUE(suite.Redeem(good[0].code(), fraud.account, "r2").ok());
    EXPECT_EQ(BalanceOf(suite, fraud.account), 500);
    EXPECT_EQ(suite.AuditReport(), "");
  }
}

// A clawback that waits for the code's row while the redemption's
// completion commits (the vault answers before that commit) must see the
// redemption COMPLETED, not the PENDING row its first snapshot held.
TEST(ClawbackTest, AClawbackThatWaitedForTheCompletionSeesTheRedemptionCompleted) {
  Suite suite;
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(1, 2500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);
  // The completion's event waits on the outbox, holding the rows it
  // changed: the redemption's and the code's.
  RowLock outbox(suite.code_vault_dsn, "LOCK TABLE event_outbox IN EXCLUSIVE MODE; SELECT 1");
  v1::Redemption redemption;
  ASSERT_TRUE(suite.RedeemAnswer(codes[0].code(), account, "r1", &redemption).ok());
  // The answer goes out before the completion reaches Postgres, so wait
  // until it holds the code's row (it waits on the outbox only after its
  // update): a clawback that came first would lock the row itself and
  // rightly find the code REDEEMING.
  ASSERT_TRUE(
      WaitForLockWaiters(suite.code_vault_dsn, 1, absl::Seconds(5), "%UPDATE redemptions r%"));
  auto clawback = std::async(std::launch::async, [&] {
    v1::Clawback c;
    grpc::Status s = Reverse(suite, BySerial(codes[0].serial(), "c1"), &c);
    return std::make_pair(s, c);
  });
  // Then the clawback on the code's row (the relay may wait on the outbox
  // too, so count the clawback's own statement).
  ASSERT_TRUE(WaitForLockWaiters(suite.code_vault_dsn, 1, absl::Seconds(5), "%FOR UPDATE OF c%"));
  outbox.Release();

  auto [status, c] = clawback.get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(c.state(), v1::CLAWBACK_STATE_COMPLETED);
  EXPECT_EQ(ClawbackTransfers(suite), "1");
  EXPECT_EQ(BalanceOf(suite, account), 0);
}

TEST(ClawbackTest, OnlyARedeemedCodesRedemptionIsClawedBack) {
  Suite suite;
  auto codes = suite.IssueActiveCodes(1, 500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);
  v1::Clawback c;
  const std::string before = suite.ContentsDigest();
  EXPECT_EQ(ReasonOf(Reverse(suite, BySerial(codes[0].serial(), "c1"), &c)), "NOT_REDEEMED");
  EXPECT_EQ(ReasonOf(Reverse(suite, BySerial("GC999999999999", "c2"), &c)), "CODE_NOT_FOUND");
  v1::ReverseRedemptionRequest by_id = BySerial("", "c3");
  by_id.set_redemption_id("00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(ReasonOf(Reverse(suite, by_id, &c)), "REDEMPTION_NOT_FOUND");
  v1::ReverseRedemptionRequest bad = BySerial(codes[0].serial(), "c4");
  bad.set_then_state(v1::CODE_STATE_ACTIVE);
  grpc::Status s = Reverse(suite, bad, &c);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr("then_state"));
  EXPECT_EQ(suite.ContentsDigest(), before);
}

TEST(ClawbackTest, ConcurrentClawbacksOfOneRedemptionEndInExactlyOne) {
  Suite suite;
  const Redeemed card = RedeemOne(suite);
  constexpr int kCallers = 6;
  std::vector<grpc::Status> answers(kCallers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCallers; ++i) {
    threads.emplace_back([&, i] {
      v1::Clawback c;
      answers[i] = Reverse(suite, BySerial(card.code.serial(), absl::StrCat("race-", i)), &c);
    });
  }
  for (auto& t : threads) t.join();
  int completed = 0;
  for (const grpc::Status& s : answers) {
    if (s.ok()) {
      ++completed;
    } else {
      EXPECT_EQ(ReasonOf(s), "ALREADY_CLAWED_BACK") << s.error_message();
    }
  }
  EXPECT_EQ(completed, 1);
  EXPECT_EQ(ClawbackTransfers(suite), "1");
  EXPECT_EQ(BalanceOf(suite, card.account), 0);
  EXPECT_EQ(suite.AuditReport(), "");
}

// The reversal commits; its answer arrives after the vault's deadline. The
// clawback stays PENDING (the code REDEEMED) until the recovery worker
// finishes it with the same ledger request: one reversal, never two.
TEST(ClawbackTest, AnUnknownOutcomeIsFinishedByRecoveryWithOneReversal) {
  Suite suite({.account_credit_args = {"--enable_test_hooks",
                                       "--test_reply_delay_methods=ClawBackCredit=3000"},
               .code_vault_args = {"--credit_timeout=1s", "--recovery_interval=200ms",
                                   "--recovery_min_age=300ms"}});
  const Redeemed card = RedeemOne(suite);
  v1::Clawback c;
  grpc::Status s = Reverse(suite, BySerial(card.code.serial(), "c1"), &c);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();
  EXPECT_THAT(QueryColumn(suite.code_vault_dsn, "SELECT state FROM codes"),
              ElementsAre("REDEEMED"));
  // The reversal did commit, late.
  for (int i = 0; i < 100 && ClawbackTransfers(suite) != "1"; ++i) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(ClawbackTransfers(suite), "1");
  EXPECT_THAT(QueryColumn(suite.code_vault_dsn, "SELECT state FROM clawbacks"),
              ElementsAre("PENDING"));
  // Answering in time again, account-credit lets the worker finish.
  suite.RestartAccountCredit();
  std::vector<std::string> state;
  for (int i = 0; i < 300; ++i) {
    state = QueryColumn(suite.code_vault_dsn, "SELECT state FROM clawbacks");
    if (state == std::vector<std::string>{"COMPLETED"}) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_THAT(state, ElementsAre("COMPLETED"));
  EXPECT_THAT(QueryColumn(suite.code_vault_dsn, "SELECT state FROM codes"), ElementsAre("BLOCKED"));
  EXPECT_EQ(ClawbackTransfers(suite), "1");
  EXPECT_EQ(BalanceOf(suite, card.account), 0);
  // A retry of the caller's request answers the finished clawback.
  ASSERT_TRUE(Reverse(suite, BySerial(card.code.serial(), "c1"), &c).ok());
  EXPECT_EQ(c.state(), v1::CLAWBACK_STATE_COMPLETED);
  EXPECT_EQ(c.clawed_back().amount_minor(), 2500);
  EXPECT_EQ(suite.AuditReport(), "");
}

TEST(ClawbackTest, GiftctlClawsBackAndSupportCannot) {
  Suite suite;
  const Redeemed card = RedeemOne(suite);
  auto giftctl = [&](const std::string& token, const std::string& args) {
    return RunCommand(absl::StrCat(AddressesEnv(suite), "GIFTCTL_TOKEN=", token,
                                   " GIFTCTL_TOKEN_FILE= ", GIFTCARD_GIFTCTL, " ", args));
  };
  const std::string args =
      "codes clawback --then voided --reason='chargeback 9' --request_id=g1 " + card.code.serial();
  ShellRun run = giftctl(kSupportToken, args);
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.err, ::testing::HasSubstr("PERMISSION_DENIED"));
  run = giftctl(kAdminToken, "codes clawback --then gone --reason=x " + card.code.serial());
  EXPECT_EQ(run.exit_code, 2) << run.err;  // A usage error, nothing sent.
  run = giftctl(kAdminToken, args);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, ::testing::HasSubstr("clawed_back"));
  EXPECT_THAT(run.out, ::testing::HasSubstr("25.00 EUR"));
  EXPECT_THAT(run.out, ::testing::HasSubstr("VOIDED"));
  run = giftctl(kAdminToken, "--json " + args);  // Replayed, as JSON.
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, ::testing::HasSubstr("\"state\":\"CLAWBACK_STATE_COMPLETED\""));
  EXPECT_EQ(ClawbackTransfers(suite), "1");
  EXPECT_EQ(suite.AuditReport(), "");
}

}  // namespace
}  // namespace giftcard::testing

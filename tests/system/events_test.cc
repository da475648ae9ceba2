// Events: each service writes its events in the same
// transaction as the change (a transactional outbox) and streams them with
// WatchEvents in commit order, resumable by id. Never lost (a process killed
// between commit and delivery), never invented (a rolled-back change), never
// a PIN; credit.low exactly where next_invoice_covered turns false; old
// events pruned by age.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

template <typename Stub>
grpc::Status Watch(Stub& stub, const v1::WatchEventsRequest& request, std::vector<v1::Event>* out,
                   const std::string& token = kSupportToken) {
  auto ctx = Context(token);
  auto reader = stub.WatchEvents(ctx.get(), request);
  v1::Event e;
  while (reader->Read(&e)) out->push_back(e);
  return reader->Finish();
}

// Every event of the service up to now (a bounded read).
template <typename Stub>
std::vector<v1::Event> All(Stub& stub, int64_t after = 0,
                           const std::vector<std::string>& types = {}) {
  v1::WatchEventsRequest request;
  request.set_after_event_id(after);
  request.set_stop_when_caught_up(true);
  for (const auto& t : types) request.add_types(t);
  std::vector<v1::Event> out;
  grpc::Status s = Watch(stub, request, &out);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return out;
}

// Waits until the service has `n` events of `types` (the relay runs every
// 100 ms); returns them.
template <typename Stub>
std::vector<v1::Event> AwaitEvents(Stub& stub, size_t n, const std::vector<std::string>& types) {
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  std::vector<v1::Event> events;
  do {
    events = All(stub, 0, types);
    if (events.size() >= n) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < give_up);
  return events;
}

std::vector<std::string> Types(const std::vector<v1::Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type());
  return out;
}

void ExpectIncreasingIds(const std::vector<v1::Event>& events) {
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_GT(events[i].event_id(), events[i - 1].event_id()) << i;
  }
}

TEST(EventsTest, ACardsLifeIsToldByTheThreeServicesWithIdsAndAmountsNeverAPin) {
  Suite suite;
  ASSERT_TRUE(suite.UpsertAccount("ev", "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  const std::vector<v1::IssuedCode> codes = suite.IssueActiveCodes(3, 2500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 3u);
  v1::Redemption redemption;
  ASSERT_TRUE(suite.Redeem(codes[0].code(), "ev", "ev-r1", &redemption).ok());
  v1::CreditApplication app;
  ASSERT_TRUE(suite.ApplyCredit("ev-inv-1", "ev", 1000, "EUR", &app).ok());
  ASSERT_TRUE(suite.ReverseCredit("ev-inv-1", &app).ok());
  v1::BlockCodesRequest block;
  block.add_serials(codes[1].serial());
  block.set_reason("fraud case");
  block.set_request_id("ev-block");
  v1::BlockCodesResponse blocked;
  ASSERT_TRUE(suite.vault_stub->BlockCodes(Context(kAdminToken).get(), block, &blocked).ok());
  v1::VoidCodesRequest void_request;
  void_request.add_serials(codes[2].serial());
  void_request.set_reason("lost");
  void_request.set_request_id("ev-void");
  v1::VoidCodesResponse voided;
  ASSERT_TRUE(suite.vault_stub->VoidCodes(Context(kAdminToken).get(), void_request, &voided).ok());

  const std::vector<v1::Event> vault = AwaitEvents(*suite.vault_stub, 6, {});
  EXPECT_THAT(Types(vault), ElementsAre("code.activated", "code.activated", "code.activated",
                                        "code.redeemed", "code.blocked", "code.voided"));
  ExpectIncreasingIds(vault);
  ASSERT_EQ(vault.size(), 6u);
  const v1::Event& redeemed = vault[3];
  EXPECT_EQ(redeemed.serial(), codes[0].serial());
  EXPECT_EQ(redeemed.batch_id(), codes[0].batch_id());
  EXPECT_EQ(redeemed.account_id(), "ev");
  EXPECT_EQ(redeemed.redemption_id(), redemption.redemption_id());
  EXPECT_EQ(redeemed.amount().amount_minor(), 2500);
  EXPECT_EQ(redeemed.amount().currency_code(), "EUR");
  EXPECT_TRUE(redeemed.has_event_time());
  EXPECT_EQ(vault[4].request_id(), "ev-block");
  EXPECT_EQ(vault[5].request_id(), "ev-void");

  const std::vector<v1::Event> ledger = AwaitEvents(*suite.credit_stub, 3, {});
  EXPECT_THAT(Types(ledger), ElementsAre("credit.added", "credit.applied", "credit.reversed"));
  ASSERT_EQ(ledger.size(), 3u);
  EXPECT_EQ(ledger[0].serial(), codes[0].serial());
  EXPECT_EQ(ledger[0].request_id(), redemption.redemption_id());
  EXPECT_EQ(ledger[0].balance().amount_minor(), 2500);
  EXPECT_EQ(ledger[1].invoice_id(), "ev-inv-1");
  EXPECT_EQ(ledger[1].amount().amount_minor(), 1000);
  EXPECT_EQ(ledger[1].balance().amount_minor(), 1500);
  EXPECT_EQ(ledger[2].invoice_id(), "ev-inv-1");
  EXPECT_EQ(ledger[2].balance().amount_minor(), 2500);

  // Filters: by type, by serial, by account.
  EXPECT_THAT(Types(All(*suite.vault_stub, 0, {"code.redeemed", "code.voided"})),
              ElementsAre("code.redeemed", "code.voided"));
  v1::WatchEventsRequest by_serial;
  by_serial.set_serial(codes[0].serial());
  by_serial.set_stop_when_caught_up(true);
  std::vector<v1::Event> card;
  ASSERT_TRUE(Watch(*suite.vault_stub, by_serial, &card).ok());
  EXPECT_THAT(Types(card), ElementsAre("code.activated", "code.redeemed"));
  v1::WatchEventsRequest by_account;
  by_account.set_account_id("nobody");
  by_account.set_stop_when_caught_up(true);
  std::vector<v1::Event> none;
  ASSERT_TRUE(Watch(*suite.credit_stub, by_account, &none).ok());
  EXPECT_THAT(none, IsEmpty());

  // Never a PIN, in any spelling, in any event of any service.
  const std::vector<v1::Event> billing = All(*suite.billing_stub);
  std::string everything;
  for (const auto* events : {&vault, &ledger, &billing}) {
    for (const auto& e : *events) everything += e.DebugString();
  }
  for (const auto& code : codes) {
    std::string bare = code.code();
    bare.erase(std::remove(bare.begin(), bare.end(), '-'), bare.end());
    EXPECT_THAT(everything, ::testing::Not(HasSubstr(code.code())));
    EXPECT_THAT(everything, ::testing::Not(HasSubstr(bare)));
    EXPECT_THAT(everything, ::testing::Not(HasSubstr(bare.substr(0, 8))));
  }

  // Bad questions.
  v1::WatchEventsRequest bad;
  bad.add_types("code.exploded");
  std::vector<v1::Event> ignored;
  grpc::Status s = Watch(*suite.vault_stub, bad, &ignored);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("types[0]"));
  bad.Clear();
  bad.set_after_event_id(1000000);
  s = Watch(*suite.vault_stub, bad, &ignored);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("after_event_id"));
  s = Watch(*suite.vault_stub, by_serial, &ignored, kStorefrontToken);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST(EventsTest, AConsumerThatDisconnectsAndResumesSeesEveryEventOnceInOrder) {
  Suite suite;
  constexpr int kAccounts = 4, kPerAccount = 6;
  for (int a = 0; a < kAccounts; ++a) {
    ASSERT_TRUE(
        suite.UpsertAccount(absl::StrCat("res", a), "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  }
  const std::vector<v1::IssuedCode> codes =
      suite.IssueActiveCodes(kAccounts * kPerAccount, 100, "EUR", "DE");
  ASSERT_EQ(codes.size(), static_cast<size_t>(kAccounts * kPerAccount));

  // A follower reads a few credits, drops the connection, and resumes after
  // the last id it processed, while redemptions commit concurrently.
  std::vector<v1::Event> seen;
  std::thread writers([&] {
    std::vector<std::thread> clients;
    for (int a = 0; a < kAccounts; ++a) {
      clients.emplace_back([&, a] {
        for (int i = 0; i < kPerAccount; ++i) {
          EXPECT_TRUE(suite
                          .Redeem(codes[a * kPerAccount + i].code(), absl::StrCat("res", a),
                                  absl::StrCat("res-", a, "-", i))
                          .ok());
        }
      });
    }
    for (auto& c : clients) c.join();
  });
  int64_t after = 0;
  int connections = 0;
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (seen.size() < static_cast<size_t>(kAccounts * kPerAccount) && absl::Now() < give_up) {
    ++connections;
    v1::WatchEventsRequest request;
    request.set_after_event_id(after);
    request.add_types("credit.added");
    auto ctx = Context(kSupportToken, absl::Seconds(30));
    auto reader = suite.credit_stub->WatchEvents(ctx.get(), request);
    v1::Event e;
    for (int read = 0; read < 5 && seen.size() < kAccounts * kPerAccount && reader->Read(&e);
         ++read) {
      seen.push_back(e);
      after = e.event_id();
    }
    ctx->TryCancel();  // Gone mid-stream, as a consumer that crashed.
    reader->Finish();
  }
  writers.join();
  EXPECT_GT(connections, 2);
  ASSERT_EQ(seen.size(), static_cast<size_t>(kAccounts * kPerAccount));
  ExpectIncreasingIds(seen);
  // Every credit once, and each account's balances in the order they grew.
  std::map<std::string, int64_t> last_balance;
  std::set<std::string> transfers;
  for (const auto& e : seen) {
    EXPECT_TRUE(transfers.insert(e.transfer_id()).second) << e.transfer_id();
    EXPECT_EQ(e.balance().amount_minor(), last_balance[e.account_id()] + 100) << e.DebugString();
    last_balance[e.account_id()] = e.balance().amount_minor();
  }
  // Ids are handed out without gaps: every event of the service is here.
  EXPECT_EQ(All(*suite.credit_stub).size(), seen.size());
  EXPECT_EQ(seen.back().event_id(), static_cast<int64_t>(seen.size()));
}

TEST(EventsTest, AProcessKilledBetweenCommitAndDeliveryLosesNone) {
  // account-credit's relay is held off: its credits commit with their
  // events, which wait in the outbox when the process dies.
  Suite suite({.account_credit_args = {"--event_relay_interval=1h"}});
  ASSERT_TRUE(suite.UpsertAccount("kill", "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  const std::vector<v1::IssuedCode> codes = suite.IssueActiveCodes(3, 700, "EUR", "DE");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(suite.Redeem(codes[i].code(), "kill", absl::StrCat("kill-", i)).ok());
  }
  EXPECT_EQ(QueryValue(suite.account_credit_dsn, "SELECT count(*) FROM event_outbox"), "3");
  // (Not read through WatchEvents: a caught-up read relays the outbox itself.)
  EXPECT_EQ(QueryValue(suite.account_credit_dsn, "SELECT count(*) FROM events"), "0");

  suite.RestartAccountCredit();  // SIGKILL, then a process with the default relay.
  const std::vector<v1::Event> events = AwaitEvents(*suite.credit_stub, 3, {});
  EXPECT_THAT(Types(events), ElementsAre("credit.added", "credit.added", "credit.added"));
  std::vector<int64_t> balances;
  for (const auto& e : events) balances.push_back(e.balance().amount_minor());
  EXPECT_THAT(balances, ElementsAre(700, 1400, 2100));
  EXPECT_EQ(QueryValue(suite.account_credit_dsn, "SELECT count(*) FROM event_outbox"), "0");
}

TEST(EventsTest, ARolledBackChangeEmitsNone) {
  Suite suite;
  ASSERT_TRUE(suite.UpsertAccount("rb", "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  const std::vector<v1::IssuedCode> codes = suite.IssueActiveCodes(2, 500, "EUR", "DE");
  ASSERT_TRUE(suite.Redeem(codes[0].code(), "rb", "rb-1").ok());
  const size_t before = AwaitEvents(*suite.vault_stub, 3, {}).size();
  ASSERT_EQ(before, 3u);  // Two activations, one redemption.

  // A void naming a redeemed code is refused as a whole: nothing happens,
  // nothing is told.
  v1::VoidCodesRequest void_request;
  void_request.add_serials(codes[1].serial());
  void_request.add_serials(codes[0].serial());
  void_request.set_reason("mixed");
  void_request.set_request_id("rb-void");
  v1::VoidCodesResponse voided;
  EXPECT_FALSE(suite.vault_stub->VoidCodes(Context(kAdminToken).get(), void_request, &voided).ok());
  // A transaction that changes a code and rolls back.
  EXPECT_EQ(ExecSql(suite.code_vault_dsn,
                    absl::StrCat("BEGIN; UPDATE codes SET state = 'VOIDED' WHERE serial = '",
                                 codes[1].serial(), "'; ROLLBACK;")),
            "");
  // A redemption refused by the ledger (another region) leaves the code
  // ACTIVE: no event either.
  ASSERT_TRUE(suite.UpsertAccount("rb-fr", "FR", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  EXPECT_EQ(ReasonOf(suite.Redeem(codes[1].code(), "rb-fr", "rb-2")), "REGION_MISMATCH");
  // Something that does emit, so the read below has waited for the relay.
  v1::BlockCodesRequest block;
  block.add_serials(codes[1].serial());
  block.set_reason("marker");
  block.set_request_id("rb-block");
  v1::BlockCodesResponse blocked;
  ASSERT_TRUE(suite.vault_stub->BlockCodes(Context(kAdminToken).get(), block, &blocked).ok());
  const std::vector<v1::Event> after = AwaitEvents(*suite.vault_stub, 4, {});
  EXPECT_THAT(Types(after),
              ElementsAre("code.activated", "code.activated", "code.redeemed", "code.blocked"));
  EXPECT_THAT(Types(All(*suite.credit_stub)), ElementsAre("credit.added"));
}

TEST(EventsTest, CreditLowAppearsExactlyWhenTheNextInvoiceIsNoLongerCovered) {
  Suite suite;
  ASSERT_TRUE(suite.UpsertAccount("low", "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  const std::vector<v1::IssuedCode> codes = suite.IssueActiveCodes(2, 1000, "EUR", "DE");
  ASSERT_TRUE(suite.Redeem(codes[0].code(), "low", "low-1").ok());
  // 10.00 EUR of credit, invoices of 3.00: covered, covered, not (1.00
  // left), then a part, then nothing; a second card makes it covered again,
  // until it is not.
  std::vector<std::string> turned_false;
  bool covered_before = true;
  auto invoice = [&](const std::string& id) {
    v1::CreditApplication app;
    ASSERT_TRUE(suite.ApplyCredit(id, "low", 300, "EUR", &app).ok());
    if (covered_before && !app.next_invoice_covered()) turned_false.push_back(id);
    covered_before = app.next_invoice_covered();
  };
  for (const char* id : {"m1", "m2", "m3", "m4", "m5"}) invoice(id);
  ASSERT_TRUE(suite.Redeem(codes[1].code(), "low", "low-2").ok());
  for (const char* id : {"m6", "m7", "m8", "m9"}) invoice(id);
  // m3 leaves 1.00 (not covered), m4 takes it, m5 finds nothing; 10.00
  // again from the second card, and m8 leaves 1.00.
  ASSERT_THAT(turned_false, ElementsAre("m3", "m8"));

  std::vector<std::string> low;
  for (const auto& e : AwaitEvents(*suite.billing_stub, turned_false.size(), {"credit.low"})) {
    low.push_back(e.invoice_id());
    EXPECT_EQ(e.account_id(), "low");
    EXPECT_LT(e.balance().amount_minor(), 300);
  }
  EXPECT_EQ(low, turned_false);
  // The ledger says when the credit ran out: m4 and m9, once each.
  const std::vector<v1::Event> depleted = AwaitEvents(*suite.credit_stub, 2, {"credit.depleted"});
  ASSERT_EQ(depleted.size(), 2u);
  for (const auto& e : depleted) EXPECT_EQ(e.balance().amount_minor(), 0);
}

TEST(EventsTest, OldEventsArePrunedAndAConsumerBehindThemIsTold) {
  Suite suite({.code_vault_args = {"--event_retention=2s"}});
  const std::vector<v1::IssuedCode> codes = suite.IssueActiveCodes(3, 500, "EUR", "DE");
  ASSERT_EQ(AwaitEvents(*suite.vault_stub, 3, {}).size(), 3u);
  // Past the retention, pruning empties the log; ids are never reused.
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (!All(*suite.vault_stub).empty() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_THAT(All(*suite.vault_stub), IsEmpty());
  v1::WatchEventsRequest behind;
  behind.set_after_event_id(1);
  std::vector<v1::Event> ignored;
  grpc::Status s = Watch(*suite.vault_stub, behind, &ignored);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(ReasonOf(s), "EVENTS_PRUNED");
  // A consumer that is up to date stays so.
  behind.set_after_event_id(3);
  behind.set_stop_when_caught_up(true);
  EXPECT_TRUE(Watch(*suite.vault_stub, behind, &ignored).ok());
  v1::VoidCodesRequest void_request;
  void_request.add_serials(codes[0].serial());
  void_request.set_reason("after pruning");
  void_request.set_request_id("prune-void");
  v1::VoidCodesResponse voided;
  ASSERT_TRUE(suite.vault_stub->VoidCodes(Context(kAdminToken).get(), void_request, &voided).ok());
  const std::vector<v1::Event> next = AwaitEvents(*suite.vault_stub, 1, {"code.voided"});
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].event_id(), 4);
}

// Pruning by age must never open a gap in the middle of the ids:
// event_time is when a change happened, ids follow commit order, so
// an older id can carry a newer time. Here event 1 is new and 2 and 3 are
// old: an age-based DELETE took 2 and 3 and kept 1, and a consumer resuming
// after 1 silently skipped them. Now pruning takes a prefix only, and a
// consumer behind it is told, in giftctl too.
TEST(EventsTest, PruningNeverLeavesASilentGap) {
  Suite suite({.code_vault_args = {"--event_retention=2s"}});
  suite.IssueActiveCodes(3, 500, "EUR", "DE");
  ASSERT_EQ(AwaitEvents(*suite.vault_stub, 3, {}).size(), 3u);
  ASSERT_EQ(ExecSql(suite.code_vault_dsn,
                    "UPDATE events SET event_time = CASE WHEN event_id = 1 THEN now() + "
                    "interval '1 hour' ELSE now() - interval '1 hour' END"),
            "");
  // Several pruning rounds (one every 2 s here).
  absl::SleepFor(absl::Seconds(5));
  v1::WatchEventsRequest after_first;
  after_first.set_after_event_id(1);
  after_first.set_stop_when_caught_up(true);
  std::vector<v1::Event> read;
  const grpc::Status s = Watch(*suite.vault_stub, after_first, &read);
  if (s.ok()) {
    ASSERT_EQ(read.size(), 2u) << "events after 1 went missing without a word";
    EXPECT_EQ(read[0].event_id(), 2);
    EXPECT_EQ(read[1].event_id(), 3);
  } else {
    EXPECT_EQ(ReasonOf(s), "EVENTS_PRUNED") << s.error_message();
  }
  // Once event 1 is old too, the whole prefix goes, and a consumer behind
  // it hears so, with where to resume.
  ASSERT_EQ(
      ExecSql(suite.code_vault_dsn, "UPDATE events SET event_time = now() - interval '1 hour'"),
      "");
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (!All(*suite.vault_stub).empty() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_THAT(All(*suite.vault_stub), IsEmpty());
  const ShellRun run = RunCommand(absl::StrCat(
      "timeout 60 env ", AddressesEnv(suite), "GIFTCTL_TOKEN=", kSupportToken,
      " GIFTCTL_TOKEN_FILE= ", GIFTCARD_GIFTCTL, " events follow --service=code-vault --after=1"));
  EXPECT_NE(run.exit_code, 0) << run.out;
  EXPECT_TRUE(absl::StrContains(run.err, "events after 1 are gone")) << run.err;
  EXPECT_TRUE(absl::StrContains(run.err, "--after=3")) << run.err;
}

// The proto's promises: a stop_when_caught_up read
// right after a call returns holds that call's events (the relay moves the
// outbox only every 100 ms, and a read straight after RedeemCode missed
// them); credit.added and credit.clawed_back carry the redemption id.
TEST(EventsTest, EventsKeepTheirProtosPromises) {
  Suite suite;
  ASSERT_TRUE(suite.UpsertAccount("promise", "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  const std::vector<v1::IssuedCode> codes = suite.IssueActiveCodes(5, 500, "EUR", "DE");
  std::vector<v1::Redemption> redemptions;
  for (size_t i = 0; i < codes.size(); ++i) {
    v1::Redemption r;
    ASSERT_TRUE(suite.Redeem(codes[i].code(), "promise", absl::StrCat("promise-", i), &r).ok());
    redemptions.push_back(r);
    // At once, no polling: every event committed before this call.
    v1::WatchEventsRequest redeemed;
    redeemed.set_serial(codes[i].serial());
    redeemed.add_types("code.redeemed");
    redeemed.set_stop_when_caught_up(true);
    std::vector<v1::Event> seen;
    ASSERT_TRUE(Watch(*suite.vault_stub, redeemed, &seen).ok());
    EXPECT_EQ(seen.size(), 1u) << "redemption " << i << ": its event is not there yet";
    v1::WatchEventsRequest added;
    added.set_account_id("promise");
    added.add_types("credit.added");
    added.set_stop_when_caught_up(true);
    seen.clear();
    ASSERT_TRUE(Watch(*suite.credit_stub, added, &seen).ok());
    ASSERT_EQ(seen.size(), i + 1);
    EXPECT_EQ(seen.back().redemption_id(), r.redemption_id());
  }
  v1::ReverseRedemptionRequest clawback;
  clawback.set_serial(codes[0].serial());
  clawback.set_reason("chargeback");
  clawback.set_request_id("promise-clawback");
  clawback.set_then_state(v1::CODE_STATE_BLOCKED);
  v1::Clawback done;
  const grpc::Status clawed =
      suite.vault_stub->ReverseRedemption(Context(kAdminToken).get(), clawback, &done);
  ASSERT_TRUE(clawed.ok()) << clawed.error_message();
  v1::WatchEventsRequest clawed_back;
  clawed_back.add_types("credit.clawed_back");
  clawed_back.set_stop_when_caught_up(true);
  std::vector<v1::Event> seen;
  ASSERT_TRUE(Watch(*suite.credit_stub, clawed_back, &seen).ok());
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].redemption_id(), redemptions[0].redemption_id());
  EXPECT_EQ(seen[0].serial(), codes[0].serial());
}

TEST(EventsTest, GiftctlListsACardsEventsAndFollowsNewOnes) {
  Suite suite;
  ASSERT_TRUE(suite.UpsertAccount("ctl", "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  const std::vector<v1::IssuedCode> codes = suite.IssueActiveCodes(2, 2500, "EUR", "DE");
  v1::Redemption redemption;
  ASSERT_TRUE(suite.Redeem(codes[0].code(), "ctl", "ctl-1", &redemption).ok());
  ASSERT_EQ(AwaitEvents(*suite.vault_stub, 3, {}).size(), 3u);
  ASSERT_EQ(AwaitEvents(*suite.credit_stub, 1, {}).size(), 1u);
  const std::string giftctl =
      absl::StrCat("timeout 60 env ", AddressesEnv(suite), "GIFTCTL_TOKEN=", kSupportToken,
                   " GIFTCTL_TOKEN_FILE= ", GIFTCARD_GIFTCTL);

  ShellRun run = RunCommand(
      absl::StrCat(giftctl, " events list --service=code-vault --serial=", codes[0].serial()));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<std::string> lines = absl::StrSplit(run.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u) << run.out;
  EXPECT_THAT(lines[0], HasSubstr(absl::StrCat(" code.activated serial=", codes[0].serial())));
  EXPECT_THAT(lines[1], HasSubstr(absl::StrCat(" code.redeemed serial=", codes[0].serial())));
  EXPECT_THAT(lines[1], HasSubstr("account=ctl amount=25.00 EUR"));
  EXPECT_THAT(lines[1], HasSubstr(absl::StrCat("redemption=", redemption.redemption_id())));
  run = RunCommand(absl::StrCat(giftctl, " --json events list --service=account-credit"));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("\"type\":\"credit.added\""));
  run = RunCommand(absl::StrCat(giftctl, " events list --service=ledger"));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_THAT(run.err, HasSubstr("--service is code-vault, account-credit or billing"));

  // A follower waiting after the first credit sees the next one as it
  // commits, then stops (--count).
  std::thread later([&] {
    absl::SleepFor(absl::Milliseconds(500));
    EXPECT_TRUE(suite.Redeem(codes[1].code(), "ctl", "ctl-2").ok());
  });
  run = RunCommand(
      absl::StrCat(giftctl, " events follow --service=account-credit --after=1 --count=1"));
  later.join();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr(absl::StrCat("2 ")));
  EXPECT_THAT(run.out, HasSubstr(absl::StrCat("credit.added serial=", codes[1].serial())));
  EXPECT_THAT(run.out, HasSubstr("balance=50.00 EUR"));
}

}  // namespace
}  // namespace giftcard::testing

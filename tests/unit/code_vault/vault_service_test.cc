// The redemption saga's rules, with fakes for the store, guard and credit side.
#include "services/code_vault/domain/vault_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "codes/codes.h"
#include "errors/status.h"
#include "services/code_vault/domain/attempt_limiters.h"
#include "support/fakes/code_vault_fakes.h"

namespace giftcard::code_vault {
namespace {

using fakes::FakeCodeStore;
using fakes::FakeCredit;
using fakes::FakeGuard;

class VaultServiceTest : public ::testing::Test {
 protected:
  VaultServiceTest()
      : hasher_(*codes::CodeHasher::FromSpec("k1:" + std::string(64, 'a'))),
        limiter_(absl::Minutes(15), 1000, [this] { return now_; }),
        service_(store_, guard_, credit_, limiter_, hasher_, Options()) {
    pin_ = codes::GeneratePin();
    store_.now = [this] { return now_; };
    store_.AddActive(hasher_.Hash(pin_).digest, "GC000001000001");
  }

  absl::StatusOr<Redemption> Redeem(const std::string& account, const std::string& request) {
    return service_.Redeem({codes::Format(pin_), account, request, "10.0.0.1"});
  }

  VaultService::Options Options() {
    VaultService::Options o;
    o.max_failures_per_account = 3;
    o.max_failures_per_client = 5;
    o.now = [this] { return now_; };
    return o;
  }

  absl::Time now_ = absl::FromUnixSeconds(1'800'000'000);
  FakeCodeStore store_;
  FakeGuard guard_;
  FakeCredit credit_;
  codes::CodeHasher hasher_;
  InProcessAttemptLimiter limiter_;
  VaultService service_;
  std::string pin_;
};

TEST_F(VaultServiceTest, MalformedAndMistypedCodesTouchNothing) {
  auto s = service_.Redeem({"hello", "acct", "r1", "10.0.0.1"});
  EXPECT_EQ(errors::ReasonOf(s.status()), "CODE_MALFORMED");
  std::string typo = pin_;
  typo[3] = typo[3] == 'A' ? 'B' : 'A';
  s = service_.Redeem({typo, "acct", "r1", "10.0.0.1"});
  EXPECT_EQ(errors::ReasonOf(s.status()), "CODE_MISTYPED");
  EXPECT_EQ(store_.calls, 0);
  EXPECT_EQ(guard_.acquired, 0);
  EXPECT_TRUE(credit_.request_ids.empty());
}

TEST_F(VaultServiceTest, SuccessCreditsOnceWithTheRedemptionIdAsRequestId) {
  auto r = Redeem("acct", "r1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state, RedemptionState::kCompleted);
  EXPECT_EQ(r->balance_after_minor, 2500);
  ASSERT_EQ(credit_.request_ids.size(), 1u);
  EXPECT_EQ(credit_.request_ids[0], r->redemption_id);
  EXPECT_EQ(guard_.released, guard_.acquired);

  auto replay = Redeem("acct", "r1");
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->redemption_id, r->redemption_id);
  EXPECT_EQ(credit_.request_ids.size(), 1u);  // No second credit call.

  auto other = Redeem("other", "r1");
  EXPECT_EQ(errors::ReasonOf(other.status()), "CODE_ALREADY_REDEEMED");
}

TEST_F(VaultServiceTest, RecordedRefusalPutsTheCodeBackAndIsReplayed) {
  credit_.next = errors::MarkRecordedDecision(
      errors::Error(absl::StatusCode::kFailedPrecondition, errors::reason::kRegionMismatch, "no"));
  auto r = Redeem("acct", "r1");
  EXPECT_EQ(errors::ReasonOf(r.status()), "REGION_MISMATCH");
  EXPECT_EQ(store_.codes.begin()->second.state, CodeState::kActive);
  credit_.next = absl::OkStatus();
  EXPECT_EQ(errors::ReasonOf(Redeem("acct", "r1").status()), "REGION_MISMATCH");
  EXPECT_TRUE(Redeem("right", "r2").ok());
}

TEST_F(VaultServiceTest, ARefusalThePeerDidNotRecordLeavesTheRedemptionPending) {
  // Answered before account-credit looked the request id up: the credit may
  // exist (an earlier attempt may have committed), so nothing is undone.
  for (const absl::Status& answer :
       {errors::Error(absl::StatusCode::kUnauthenticated, errors::reason::kCallerUnknown, "who"),
        errors::Error(absl::StatusCode::kPermissionDenied, errors::reason::kMethodNotAllowed, "no"),
        errors::InvalidField("amount", "must be positive"),
        errors::Error(absl::StatusCode::kFailedPrecondition, errors::reason::kRegionMismatch,
                      "not recorded")}) {
    credit_.next = answer;
    auto r = Redeem("acct", "r1");
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << answer;
    EXPECT_EQ(store_.codes.begin()->second.state, CodeState::kRedeeming);
    ASSERT_EQ(store_.redemptions.size(), 1u);
    EXPECT_EQ(store_.redemptions.begin()->second.state, RedemptionState::kPending);
    EXPECT_EQ(service_.RecoverPending(absl::ZeroDuration(), 10), 0);
  }
  EXPECT_EQ(service_.unknown_outcome_count(), 8);
  credit_.next = absl::OkStatus();
  EXPECT_EQ(service_.RecoverPending(absl::ZeroDuration(), 10), 1);
  EXPECT_EQ(store_.codes.begin()->second.state, CodeState::kRedeemed);
}

TEST_F(VaultServiceTest, UnknownOutcomeStaysPendingAndARetryFinishesIt) {
  credit_.next = errors::DependencyUnavailable("account-credit", "deadline");
  auto r = Redeem("acct", "r1");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  const auto id = errors::MetadataOf(r.status(), "redemption_id");
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(store_.codes.begin()->second.state, CodeState::kRedeeming);

  credit_.next = absl::OkStatus();
  auto retry = Redeem("acct", "r1");
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->redemption_id, *id);
  EXPECT_EQ(credit_.request_ids, (std::vector<std::string>{*id, *id}));
  EXPECT_EQ(store_.codes.begin()->second.state, CodeState::kRedeemed);
}

TEST_F(VaultServiceTest, ACompletionThatFailsIsRetriedOrLeftForRecoveryWhenAnsweredFirst) {
  store_.complete_error = errors::DependencyUnavailable("postgres", "lock timeout");
  auto waited = Redeem("acct", "r1");
  EXPECT_EQ(waited.status().code(), absl::StatusCode::kUnavailable);

  // Answering once the credit is durable: the caller has the credit's
  // answer, and the redemption stays PENDING for the recovery worker.
  VaultService::Options options = Options();
  options.answer_before_completion = true;
  VaultService early(store_, guard_, credit_, limiter_, hasher_, options);
  auto answered = early.Redeem({codes::Format(pin_), "acct", "r1", "10.0.0.1"});
  ASSERT_TRUE(answered.ok()) << answered.status();
  EXPECT_EQ(answered->state, RedemptionState::kCompleted);
  EXPECT_EQ(answered->balance_after_minor, 2500);
  EXPECT_FALSE(answered->transfer_id.empty());
  EXPECT_EQ(store_.redemptions.begin()->second.state, RedemptionState::kPending);

  store_.complete_error = absl::OkStatus();
  EXPECT_EQ(early.RecoverPending(absl::ZeroDuration(), 10), 1);
  EXPECT_EQ(store_.redemptions.begin()->second.state, RedemptionState::kCompleted);
  EXPECT_EQ(store_.codes.begin()->second.state, CodeState::kRedeemed);
  EXPECT_EQ(credit_.request_ids.size(), 3u);  // One redemption id, asked three times.
  EXPECT_EQ(credit_.request_ids.front(), credit_.request_ids.back());
}

// A redeemed code for the clawback tests: its redemption id and account set
// as the store records them.
class VaultClawbackTest : public VaultServiceTest {
 protected:
  VaultClawbackTest() {
    auto r = Redeem("acct", "r1");
    EXPECT_TRUE(r.ok()) << r.status();
    Code& code = store_.codes.begin()->second;
    code.redemption_id = r.ok() ? r->redemption_id : "";
    code.redeemed_by_account_id = "acct";
  }
  ReverseRedemptionCommand Command(const std::string& request_id) {
    ReverseRedemptionCommand c;
    c.serial = "GC000001000001";
    c.reason = "chargeback 42";
    c.request_id = request_id;
    c.then_state = CodeState::kBlocked;
    c.principal = "admin";
    return c;
  }
  CodeState StateOfCode() { return store_.codes.begin()->second.state; }
};

TEST_F(VaultClawbackTest, BadInputNamesTheFieldAndTouchesNothing) {
  const int before = store_.calls;
  auto field_of = [&](ReverseRedemptionCommand c) {
    auto s = service_.ReverseRedemption(c);
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << s.status();
    return errors::MetadataOf(s.status(), "field").value_or("");
  };
  ReverseRedemptionCommand c = Command("c1");
  c.redemption_id = "also-this";
  EXPECT_EQ(field_of(c), "serial");  // Both targets.
  c = Command("c1");
  c.serial.clear();
  EXPECT_EQ(field_of(c), "serial");  // Neither.
  c.redemption_id = "not-a-uuid";
  EXPECT_EQ(field_of(c), "redemption_id");
  c = Command("c1");
  c.reason.clear();
  EXPECT_EQ(field_of(c), "reason");
  c = Command("");
  EXPECT_EQ(field_of(c), "request_id");
  for (std::optional<CodeState> then :
       {std::optional<CodeState>(), std::optional(CodeState::kActive),
        std::optional(CodeState::kRedeemed)}) {
    c = Command("c1");
    c.then_state = then;
    EXPECT_EQ(field_of(c), "then_state");
  }
  EXPECT_EQ(store_.calls, before);
  EXPECT_TRUE(credit_.clawbacks.empty());
}

TEST_F(VaultClawbackTest, TakesBackWhatIsLeftAndHoldsTheCode) {
  credit_.balance_left = 900;  // 1600 of the 2500 was spent.
  auto c = service_.ReverseRedemption(Command("c1"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->state, ClawbackState::kCompleted);
  EXPECT_EQ(c->clawed_back_minor, 900);
  EXPECT_EQ(c->principal, "admin");
  EXPECT_EQ(StateOfCode(), CodeState::kBlocked);
  ASSERT_EQ(credit_.clawbacks.size(), 1u);
  EXPECT_EQ(credit_.clawbacks[0].first, "transfer-" + c->redemption_id);
  EXPECT_EQ(credit_.clawbacks[0].second, "vault:clawback:" + c->clawback_id);
  // A replay answers the same clawback without asking the ledger again.
  auto again = service_.ReverseRedemption(Command("c1"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->clawback_id, c->clawback_id);
  EXPECT_EQ(credit_.clawbacks.size(), 1u);
}

TEST_F(VaultClawbackTest, AnUnknownOutcomeStaysPendingUntilRecoveryFinishesIt) {
  credit_.next_clawback = errors::DependencyUnavailable("account-credit", "deadline");
  auto c = service_.ReverseRedemption(Command("c1"));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(errors::MetadataOf(c.status(), "clawback_id").has_value());
  EXPECT_EQ(StateOfCode(), CodeState::kRedeemed);
  EXPECT_EQ(service_.RecoverPending(absl::ZeroDuration(), 10), 0);  // Still down.
  credit_.next_clawback = absl::OkStatus();
  EXPECT_EQ(service_.RecoverPending(absl::ZeroDuration(), 10), 1);
  EXPECT_EQ(StateOfCode(), CodeState::kBlocked);
  ASSERT_EQ(credit_.clawbacks.size(), 3u);                // The call and two recovery passes.
  EXPECT_EQ(credit_.clawbacks[0], credit_.clawbacks[2]);  // One ledger request id.
  EXPECT_EQ(store_.clawbacks.at("c1").state, ClawbackState::kCompleted);
}

TEST_F(VaultClawbackTest, OnlyTheLedgersRecordedRefusalRejectsItAndTheCodeStaysRedeemed) {
  credit_.next_clawback = errors::MarkRecordedDecision(errors::Error(
      absl::StatusCode::kFailedPrecondition, errors::reason::kAlreadyReversed, "reversed"));
  auto c = service_.ReverseRedemption(Command("c1"));
  EXPECT_EQ(errors::ReasonOf(c.status()), "ALREADY_REVERSED");
  EXPECT_EQ(store_.clawbacks.at("c1").state, ClawbackState::kRejected);
  EXPECT_EQ(StateOfCode(), CodeState::kRedeemed);
  credit_.next_clawback = absl::OkStatus();
  EXPECT_EQ(errors::ReasonOf(service_.ReverseRedemption(Command("c1")).status()),
            "ALREADY_REVERSED");  // The replay keeps the refusal.
}

TEST_F(VaultServiceTest, AHeldGuardIsAbortedAndADeadGuardIsBypassed) {
  guard_.next =
      errors::Error(absl::StatusCode::kAborted, errors::reason::kRedemptionInProgress, "");
  auto r = Redeem("acct", "r1");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAborted);
  EXPECT_TRUE(store_.redemptions.empty());  // Nothing was reserved.

  guard_.next = errors::DependencyUnavailable("redis", "down");
  r = Redeem("acct", "r1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(service_.guard_bypass_count(), 1);
}

TEST_F(VaultServiceTest, IssuedPinsAreStoredOnlyAsHashesAndNeverShownTwice) {
  IssueCommand cmd{5, {"EUR", 1000}, "DE", "batch-1", std::nullopt};
  auto batch = service_.IssueCodes(cmd);
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->codes.size(), 5u);
  ASSERT_EQ(store_.last_batch.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    auto normalized = codes::Normalize(batch->codes[i].pin);
    ASSERT_TRUE(normalized.ok());
    EXPECT_EQ(store_.last_batch[i].code_hash, hasher_.Hash(*normalized).digest);
    EXPECT_EQ(store_.last_batch[i].pin_last4, normalized->substr(12));
    EXPECT_EQ(store_.last_batch[i].pepper_key_id, "k1");
  }
  auto replay = service_.IssueCodes(cmd);
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay->replayed);
  for (const auto& c : replay->codes) EXPECT_TRUE(c.pin.empty());
}

TEST_F(VaultServiceTest, IssueValidatesEveryField) {
  EXPECT_EQ(service_.IssueCodes({0, {"EUR", 1000}, "DE", "b", std::nullopt}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_.IssueCodes({100001, {"EUR", 1000}, "DE", "b", std::nullopt}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_.IssueCodes({1, {"EUR", -1}, "DE", "b", std::nullopt}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_.IssueCodes({1, {"EUR", 1}, "de", "b", std::nullopt}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_.IssueCodes({1, {"EUR", 1}, "DE", "", std::nullopt}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Beyond what Postgres stores (or any sensible card): a field error, not INTERNAL.
  auto far = service_.IssueCodes({1, {"EUR", 1}, "DE", "b", absl::FromUnixSeconds(1LL << 40)});
  EXPECT_EQ(far.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(errors::FieldViolationsOf(far.status()).at(0).first, "expire_time");
  EXPECT_EQ(store_.calls, 0);
}

// A random code that passes the check symbol but was never issued.
std::string UnknownCode() { return codes::GeneratePin(); }

TEST_F(VaultServiceTest, GuessingIsLimitedPerAccountAndTheWindowPasses) {
  for (int i = 0; i < 3; ++i) {
    auto r = service_.Redeem({UnknownCode(), "guesser", "g" + std::to_string(i), "10.0.0.9"});
    EXPECT_EQ(errors::ReasonOf(r.status()), "CODE_INVALID");
  }
  auto r = service_.Redeem({UnknownCode(), "guesser", "g3", "10.0.0.9"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(errors::ReasonOf(r.status()), "TOO_MANY_ATTEMPTS");
  ASSERT_TRUE(errors::RetryDelayOf(r.status()).has_value());
  EXPECT_LE(*errors::RetryDelayOf(r.status()), absl::Minutes(15));
  // Even the account's real code waits for the window.
  EXPECT_EQ(errors::ReasonOf(Redeem("guesser", "real").status()), "TOO_MANY_ATTEMPTS");
  // Another account from another address is not affected.
  EXPECT_TRUE(service_.Redeem({codes::Format(pin_), "honest", "h1", "10.0.0.1"}).ok());
  now_ += absl::Minutes(16);
  EXPECT_EQ(
      errors::ReasonOf(service_.Redeem({UnknownCode(), "guesser", "g4", "10.0.0.9"}).status()),
      "CODE_INVALID");
}

TEST_F(VaultServiceTest, AReplayIsAnsweredBeforeTheLimiter) {
  ASSERT_TRUE(service_.Redeem({codes::Format(pin_), "acct", "mine", "10.0.0.9"}).ok());
  for (int i = 0; i < 3; ++i) {
    (void)service_.Redeem({UnknownCode(), "acct", "g" + std::to_string(i), "10.0.0.9"});
  }
  EXPECT_EQ(errors::ReasonOf(service_.Redeem({UnknownCode(), "acct", "g9", "10.0.0.9"}).status()),
            "TOO_MANY_ATTEMPTS");
  // Over the limit, the caller still learns how its own redemption ended.
  auto replay = service_.Redeem({codes::Format(pin_), "acct", "mine", "10.0.0.9"});
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->state, RedemptionState::kCompleted);
}

TEST_F(VaultServiceTest, CodesTheStorefrontMayNotKnowAreAnsweredLikeUnknownCodes) {
  // Unsold, voided and expired codes: one statement that reserves nothing
  // (the guard taken with the limits check, then given back), the same
  // answer as a code that does not exist, counted as a failure.
  for (CodeState state : {CodeState::kIssued, CodeState::kVoided, CodeState::kActive}) {
    Code& code = store_.codes.begin()->second;
    code.state = state;
    code.expire_time = state == CodeState::kActive
                           ? std::optional<absl::Time>(now_ - absl::Seconds(1))
                           : std::nullopt;
    const int calls_before = store_.calls;
    auto r = service_.Redeem(
        {codes::Format(pin_), "acct" + std::string(CodeStateName(state)), "r", "10.0.0.2"});
    EXPECT_EQ(errors::ReasonOf(r.status()), "CODE_INVALID") << CodeStateName(state);
    EXPECT_EQ(store_.calls - calls_before, 1);
  }
  EXPECT_EQ(guard_.acquired, 3);
  EXPECT_EQ(guard_.released, 3);
  EXPECT_TRUE(store_.redemptions.empty());
  // Each counted: 3 of the client's 5.
  (void)service_.Redeem({UnknownCode(), "x", "r", "10.0.0.2"});
  (void)service_.Redeem({UnknownCode(), "y", "r", "10.0.0.2"});
  EXPECT_EQ(errors::ReasonOf(service_.Redeem({UnknownCode(), "z", "r", "10.0.0.2"}).status()),
            "TOO_MANY_ATTEMPTS");
  // A code the reservation found not to exist at all guards nothing: its
  // guard is left to expire (one Redis round trip fewer per guess). The
  // third was refused at the limit before the store saw it: given back.
  EXPECT_EQ(guard_.acquired, 6);
  EXPECT_EQ(guard_.released, 4);
}

TEST_F(VaultServiceTest, TheReservationsRefusalIsDecidedByTheStateItSaw) {
  // The reserving statement saw the code ACTIVE yet reserved nothing: a
  // concurrent call took it while this one waited on the row. However the
  // code reads a moment later (back to ACTIVE after a refusal elsewhere),
  // the answer is REDEMPTION_IN_PROGRESS, never CODE_INVALID.
  store_.refuse_next_reservation_as = CodeState::kActive;
  EXPECT_EQ(errors::ReasonOf(Redeem("acct", "r1").status()), "REDEMPTION_IN_PROGRESS");
  store_.refuse_next_reservation_as = CodeState::kRedeemed;
  EXPECT_EQ(errors::ReasonOf(Redeem("acct", "r2").status()), "CODE_ALREADY_REDEEMED");
  store_.refuse_next_reservation_as = CodeState::kVoided;
  EXPECT_EQ(errors::ReasonOf(Redeem("acct", "r3").status()), "CODE_INVALID");
  EXPECT_TRUE(Redeem("acct", "r4").ok());
}

TEST_F(VaultServiceTest, SuccessesAndOtherRefusalsAreRefunded) {
  // Redeemed codes, eligibility refusals and successes are no guesses.
  ASSERT_TRUE(service_.Redeem({codes::Format(pin_), "a", "r", "10.0.0.3"}).ok());
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(
        errors::ReasonOf(
            service_.Redeem({codes::Format(pin_), "b", absl::StrCat(i), "10.0.0.3"}).status()),
        "CODE_ALREADY_REDEEMED");
  }
  EXPECT_EQ(errors::ReasonOf(service_.Redeem({UnknownCode(), "b", "u", "10.0.0.3"}).status()),
            "CODE_INVALID");
}

TEST_F(VaultServiceTest, ClientAddressesAreCountedWhateverTheirSpelling) {
  const char* spellings[] = {"203.0.113.77", "::ffff:203.0.113.77", "::FFFF:203.0.113.77",
                             "0:0:0:0:0:ffff:cb00:714d", "203.0.113.77"};
  for (int i = 0; i < 5; ++i) {
    auto r = service_.Redeem({UnknownCode(), absl::StrCat("acct", i), "g", spellings[i]});
    EXPECT_EQ(errors::ReasonOf(r.status()), "CODE_INVALID") << spellings[i];
  }
  EXPECT_EQ(errors::ReasonOf(
                service_.Redeem({UnknownCode(), "fresh", "g", "::ffff:203.0.113.77"}).status()),
            "TOO_MANY_ATTEMPTS");
  // IPv6 is counted per /64.
  for (int i = 0; i < 5; ++i) {
    (void)service_.Redeem(
        {UnknownCode(), absl::StrCat("v6-", i), "g", absl::StrCat("2001:db8:1:2::", i + 1)});
  }
  EXPECT_EQ(errors::ReasonOf(
                service_.Redeem({UnknownCode(), "v6-x", "g", "2001:DB8:1:2:ffff::9"}).status()),
            "TOO_MANY_ATTEMPTS");
  EXPECT_EQ(
      errors::ReasonOf(service_.Redeem({UnknownCode(), "v6-y", "g", "2001:db8:1:3::1"}).status()),
      "CODE_INVALID");
  // Required, and parsed.
  for (const char* bad : {"", "not an ip", "203.0.113.777", "fe80::1%eth0", "10.0.0.1/24"}) {
    auto r = service_.Redeem({codes::Format(pin_), "acct", "r", bad});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(errors::FieldViolationsOf(r.status()).at(0).first, "client_ip");
  }
}

TEST_F(VaultServiceTest, GuessingIsLimitedPerClientAddressAcrossAccounts) {
  for (int i = 0; i < 5; ++i) {
    auto r = service_.Redeem({UnknownCode(), "acct" + std::to_string(i), "g", "192.0.2.7"});
    EXPECT_EQ(errors::ReasonOf(r.status()), "CODE_INVALID");
  }
  EXPECT_EQ(errors::ReasonOf(service_.Redeem({UnknownCode(), "fresh", "g", "192.0.2.7"}).status()),
            "TOO_MANY_ATTEMPTS");
  EXPECT_EQ(errors::ReasonOf(service_.CheckCode(UnknownCode(), "192.0.2.7").status()),
            "TOO_MANY_ATTEMPTS");
}

TEST_F(VaultServiceTest, CheckCodeTellsValueWithoutRedeeming) {
  auto check = service_.CheckCode(codes::Format(pin_), "10.0.0.1");
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->amount.amount_minor, 2500);
  EXPECT_EQ(check->region, "DE");
  EXPECT_TRUE(check->redeemable);
  EXPECT_TRUE(credit_.request_ids.empty());
  ASSERT_TRUE(Redeem("acct", "r1").ok());
  check = service_.CheckCode(codes::Format(pin_), "10.0.0.1");
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->redeemable);
  EXPECT_EQ(errors::ReasonOf(service_.CheckCode(UnknownCode(), "10.0.0.1").status()),
            "CODE_INVALID");
  EXPECT_EQ(service_.CheckCode(codes::Format(pin_), "not an ip").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_.CheckCode(codes::Format(pin_), "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(VaultServiceTest, RecoveryFinishesPendingRedemptionsWithTheSameRequestId) {
  credit_.next = errors::DependencyUnavailable("account-credit", "down");
  auto r = Redeem("acct", "r1");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(service_.RecoverPending(absl::ZeroDuration(), 10), 0);  // Still down.
  credit_.next = absl::OkStatus();
  EXPECT_EQ(service_.RecoverPending(absl::ZeroDuration(), 10), 1);
  EXPECT_EQ(store_.codes.begin()->second.state, CodeState::kRedeemed);
  ASSERT_EQ(credit_.request_ids.size(), 3u);
  EXPECT_EQ(credit_.request_ids[0], credit_.request_ids[2]);
  auto replay = Redeem("acct", "r1");
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(replay->state, RedemptionState::kCompleted);
}

TEST_F(VaultServiceTest, BulkChangesAreFingerprintedAndPageTokensCannotBeForged) {
  const std::string gc1 = "GC000001000001", gc2 = "GC000001000002";
  ASSERT_TRUE(service_.VoidCodes({"", {gc2, gc1, gc1}, "stolen stock", "v1"}).ok());
  EXPECT_EQ(store_.last_change.serials, (std::vector<std::string>{gc1, gc2}));
  EXPECT_EQ(store_.last_change.request_fingerprint.size(), 64u);
  EXPECT_EQ(service_.VoidCodes({"", {gc1}, "", "v2"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(service_.ActivateCodes("b", {gc1}, "a1").status().code(),
            absl::StatusCode::kInvalidArgument);
  // Serials are format-checked: a PIN where a serial belongs goes no further.
  const int calls = store_.calls;
  for (const std::string& bad :
       std::vector<std::string>{"GC1", "gc000002000002", "GC00000200000", codes::Format(pin_)}) {
    auto s = service_.VoidCodes({"", {bad}, "lost", "v3"});
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(s.status().message().find(bad), absl::string_view::npos);
    auto status = service_.GetCodeStatus({bad, ""});
    EXPECT_EQ(status.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(status.status().message().find(bad), absl::string_view::npos);
  }
  EXPECT_EQ(store_.calls, calls);

  ListCodesQuery q;
  q.batch_id = "batch-1";
  q.page_size = 2;
  auto page = service_.ListCodes(q);
  ASSERT_TRUE(page.ok());
  ASSERT_FALSE(page->next_page_token.empty());
  q.page_token = page->next_page_token;
  ASSERT_TRUE(service_.ListCodes(q).ok());
  EXPECT_EQ(store_.list_after, "x");
  ListCodesQuery other = q;
  other.batch_id = "batch-2";
  EXPECT_EQ(service_.ListCodes(other).status().code(), absl::StatusCode::kInvalidArgument);
  other = q;
  other.page_token[3] = other.page_token[3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(service_.ListCodes(other).status().code(), absl::StatusCode::kInvalidArgument);
  other.page_token = "%%%";
  EXPECT_EQ(service_.ListCodes(other).status().code(), absl::StatusCode::kInvalidArgument);
  other = q;
  other.page_size = 1001;
  EXPECT_EQ(service_.ListCodes(other).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(VaultServiceTest, APageTokenAloneContinuesItsQuery) {
  ListCodesQuery q;
  q.batch_id = "batch-1";
  q.state = CodeState::kRedeemed;
  q.page_size = 2;
  auto page = service_.ListCodes(q);
  ASSERT_TRUE(page.ok());
  ASSERT_FALSE(page->next_page_token.empty());
  ListCodesQuery alone;
  alone.page_token = page->next_page_token;
  ASSERT_TRUE(service_.ListCodes(alone).ok());
  EXPECT_EQ(store_.list_batch_id, "batch-1");
  EXPECT_EQ(store_.list_state, CodeState::kRedeemed);
  EXPECT_EQ(store_.list_after, "x");
  // A state given with the token must be the token's.
  alone.state = CodeState::kActive;
  EXPECT_EQ(service_.ListCodes(alone).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(VaultServiceTest, CodesListByStateAloneSpanBatches) {
  ListCodesQuery q;
  q.state = CodeState::kRedeemed;
  ASSERT_TRUE(service_.ListCodes(q).ok());
  EXPECT_EQ(store_.list_batch_id, "");
  EXPECT_EQ(store_.list_state, CodeState::kRedeemed);
}

TEST_F(VaultServiceTest, BatchPagesContinueBeforeTheLastBatchShown) {
  auto first = service_.ListBatches(3, "");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(store_.list_batches_before, 0);
  ASSERT_EQ(first->batches.size(), 3u);
  ASSERT_FALSE(first->next_page_token.empty());
  ASSERT_TRUE(service_.ListBatches(3, first->next_page_token).ok());
  EXPECT_EQ(store_.list_batches_before, first->batches.back().batch_no);
  for (const char* forged : {"%%%", "YjF4", "djEfMTIz"}) {
    EXPECT_EQ(service_.ListBatches(3, forged).status().code(), absl::StatusCode::kInvalidArgument)
        << forged;
  }
  EXPECT_EQ(service_.ListBatches(1001, "").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(BulkChangeMovesTest, EachStateEitherMovesIsDoneOrRefusesNamingTheSerial) {
  struct Case {
    BulkKind kind;
    CodeState state;
    std::optional<bool> moves;  // nullopt: refused.
  };
  const std::vector<Case> cases = {
      {BulkKind::kActivate, CodeState::kIssued, true},
      {BulkKind::kActivate, CodeState::kActive, false},
      {BulkKind::kActivate, CodeState::kVoided, std::nullopt},
      {BulkKind::kActivate, CodeState::kExpired, std::nullopt},
      {BulkKind::kActivate, CodeState::kRedeeming, std::nullopt},
      {BulkKind::kActivate, CodeState::kRedeemed, std::nullopt},
      {BulkKind::kVoid, CodeState::kIssued, true},
      {BulkKind::kVoid, CodeState::kActive, true},
      {BulkKind::kVoid, CodeState::kExpired, true},
      {BulkKind::kVoid, CodeState::kVoided, false},
      {BulkKind::kVoid, CodeState::kRedeeming, std::nullopt},
      {BulkKind::kVoid, CodeState::kRedeemed, std::nullopt},
      {BulkKind::kActivate, CodeState::kBlocked, std::nullopt},
      {BulkKind::kVoid, CodeState::kBlocked, true},
      {BulkKind::kBlock, CodeState::kIssued, true},
      {BulkKind::kBlock, CodeState::kActive, true},
      {BulkKind::kBlock, CodeState::kBlocked, false},
      {BulkKind::kBlock, CodeState::kVoided, std::nullopt},
      {BulkKind::kBlock, CodeState::kExpired, std::nullopt},
      {BulkKind::kBlock, CodeState::kRedeeming, std::nullopt},
      {BulkKind::kBlock, CodeState::kRedeemed, std::nullopt},
      {BulkKind::kUnblock, CodeState::kBlocked, true},
      {BulkKind::kUnblock, CodeState::kIssued, false},
      {BulkKind::kUnblock, CodeState::kActive, false},
      {BulkKind::kUnblock, CodeState::kVoided, false},
      {BulkKind::kUnblock, CodeState::kRedeemed, false},
  };
  for (const Case& c : cases) {
    const std::string label = absl::StrCat(BulkKindName(c.kind), " ", CodeStateName(c.state));
    absl::StatusOr<bool> got = BulkChangeMoves(c.kind, "GC000001000001", c.state);
    if (c.moves) {
      ASSERT_TRUE(got.ok()) << label;
      EXPECT_EQ(*got, *c.moves) << label;
    } else {
      ASSERT_FALSE(got.ok()) << label;
      EXPECT_EQ(got.status().code(), absl::StatusCode::kFailedPrecondition) << label;
      EXPECT_NE(got.status().message().find("GC000001000001"), absl::string_view::npos) << label;
    }
  }
}

TEST(BulkChangeMovesTest, AHoldAfterAClawbackIsNeverLiftedAndOtherHoldsAre) {
  absl::StatusOr<bool> clawed_back = BulkChangeMoves(BulkKind::kUnblock, "GC000001000001",
                                                     CodeState::kBlocked, CodeState::kRedeemed);
  ASSERT_FALSE(clawed_back.ok());
  EXPECT_EQ(clawed_back.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(errors::ReasonOf(clawed_back.status()), errors::reason::kCodeClawedBack);
  EXPECT_NE(clawed_back.status().message().find("GC000001000001"), absl::string_view::npos);
  for (CodeState from : {CodeState::kIssued, CodeState::kActive}) {
    absl::StatusOr<bool> lifted =
        BulkChangeMoves(BulkKind::kUnblock, "GC000001000001", CodeState::kBlocked, from);
    ASSERT_TRUE(lifted.ok()) << CodeStateName(from);
    EXPECT_TRUE(*lifted) << CodeStateName(from);
  }
  // Voiding a code held after a clawback is still allowed.
  EXPECT_TRUE(*BulkChangeMoves(BulkKind::kVoid, "GC000001000001", CodeState::kBlocked,
                               CodeState::kRedeemed));
}

class ScriptedLimiter : public AttemptLimiter {
 public:
  absl::Status next;
  int calls = 0;
  absl::Status Charge(const std::vector<LimitKey>&) override {
    ++calls;
    return next;
  }
  absl::Status Refund(const std::vector<LimitKey>&) override {
    ++calls;
    return next;
  }
  absl::Status Check(const std::vector<LimitKey>&) override {
    ++calls;
    return next;
  }
};

// Counts what the vault asks of a limiter.
class RecordingLimiter : public AttemptLimiter {
 public:
  int charges = 0, refunds = 0, checks = 0;
  absl::Status Charge(const std::vector<LimitKey>& keys) override {
    ++charges;
    return inner.Charge(keys);
  }
  absl::Status Refund(const std::vector<LimitKey>& keys) override {
    ++refunds;
    return inner.Refund(keys);
  }
  absl::Status Check(const std::vector<LimitKey>& keys) override {
    ++checks;
    return inner.Check(keys);
  }
  InProcessAttemptLimiter inner{absl::Minutes(15)};
};

// A real code's attempt is not a guess: the limit is checked, nothing is
// counted (so attempts in flight never crowd out a caller's budget), while
// an unknown code is counted as it is checked.
TEST_F(VaultServiceTest, ARealCodeChecksTheLimitAndCountsNothingAGuessIsCounted) {
  RecordingLimiter limiter;
  VaultService service(store_, guard_, credit_, limiter, hasher_, Options());
  auto r = service.Redeem({codes::Format(pin_), "acct", "r1", "10.0.0.1"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(limiter.checks, 1);
  EXPECT_EQ(limiter.charges, 0);
  EXPECT_EQ(limiter.refunds, 0);
  auto guess = service.Redeem({codes::Format(codes::GeneratePin()), "acct", "r2", "10.0.0.1"});
  EXPECT_EQ(errors::ReasonOf(guess.status()), "CODE_INVALID");
  EXPECT_EQ(limiter.charges, 1);
  EXPECT_EQ(limiter.refunds, 0);
}

TEST(InProcessAttemptLimiterTest, CheckCountsNothingAndRefusesAtTheLimit) {
  InProcessAttemptLimiter limiter(absl::Minutes(1));
  const std::vector<LimitKey> keys = {{"acct:a", 2}};
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Check(keys).ok());
  EXPECT_TRUE(limiter.Charge(keys).ok());
  EXPECT_TRUE(limiter.Charge(keys).ok());
  EXPECT_EQ(errors::ReasonOf(limiter.Check(keys)), "TOO_MANY_ATTEMPTS");
}

TEST(FallbackAttemptLimiterTest, FallsBackOnlyWhileThePrimaryIsUnavailable) {
  ScriptedLimiter primary;
  InProcessAttemptLimiter local(absl::Minutes(1));
  FallbackAttemptLimiter limiter(primary, local);
  const std::vector<LimitKey> keys = {{"acct:a", 2}};
  primary.next = errors::DependencyUnavailable("redis", "down");
  EXPECT_TRUE(limiter.Charge(keys).ok());
  EXPECT_TRUE(limiter.Charge(keys).ok());
  EXPECT_EQ(limiter.Charge(keys).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(limiter.fallback_count(), 3);
  primary.next = absl::OkStatus();
  EXPECT_TRUE(limiter.Charge(keys).ok());  // Redis is back and knows nothing of them.
  EXPECT_EQ(limiter.fallback_count(), 3);
}

TEST(InProcessAttemptLimiterTest, ParallelAttemptsAreAllCounted) {
  InProcessAttemptLimiter limiter(absl::Minutes(1));
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        if (limiter.Charge({{"acct:a", 10}, {"ip:1.2.3.4", 1000}}).ok()) ++admitted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(admitted.load(), 10);
  // A refused charge leaves no count behind on the other key.
  EXPECT_TRUE(limiter.Charge({{"ip:1.2.3.4", 11}}).ok());
  EXPECT_EQ(limiter.Charge({{"ip:1.2.3.4", 11}}).code(), absl::StatusCode::kResourceExhausted);
}

TEST(InProcessAttemptLimiterTest, StaysBoundedUnderAFloodOfKeysWithoutResettingOne) {
  absl::Time now = absl::FromUnixSeconds(1000);
  InProcessAttemptLimiter limiter(absl::Minutes(1), 100, [&] { return now; });
  // A guesser's key at its limit…
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.Charge({{"ip:guesser", 5}}).ok());
  // …then a flood of fresh keys, as a botnet would send during an outage.
  int flood_admitted = 0;
  for (int i = 0; i < 10000; ++i) {
    now += absl::Milliseconds(1);
    flood_admitted += limiter.Charge({{"ip:" + std::to_string(i), 3}}).ok() ? 1 : 0;
  }
  EXPECT_LE(limiter.size(), 100u);
  EXPECT_EQ(limiter.size(), 100u);  // Full, and not emptied by the flood.
  // The guesser is still held: its count was never reset.
  EXPECT_EQ(limiter.Charge({{"ip:guesser", 5}}).code(), absl::StatusCode::kResourceExhausted);
  // Keys beyond the table shared one window, each held to its own limit.
  EXPECT_EQ(flood_admitted, 99 + 3);
  // Once the windows pass, the table makes room again.
  now += absl::Minutes(2);
  EXPECT_TRUE(limiter.Charge({{"ip:new", 3}}).ok());
}

}  // namespace
}  // namespace giftcard::code_vault

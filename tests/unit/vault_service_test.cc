// The redemption saga's rules, with fakes for the store, guard and credit side.
#include "domain/vault_service.h"

#include <gtest/gtest.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "codes/codes.h"
#include "errors/status.h"

namespace giftcard::code_vault {
namespace {

class FakeCodeStore : public CodeStore {
 public:
  int calls = 0;
  std::map<std::string, Code> codes;  // By hash.
  std::map<std::pair<std::string, std::string>, Redemption> redemptions;
  std::vector<NewCode> last_batch;

  void AddActive(const std::string& hash, const std::string& serial) {
    Code c;
    c.serial = serial;
    c.state = CodeState::kActive;
    c.amount = {"EUR", 2500};
    c.region = "DE";
    codes[hash] = c;
  }

  absl::StatusOr<Batch> CreateBatch(const BatchSpec& spec,
                                    const std::vector<NewCode>& in) override {
    ++calls;
    Batch b;
    b.batch_id = "batch-" + spec.request_id;
    b.replayed = batches_.count(spec.request_id) > 0;
    if (!b.replayed) {
      last_batch = in;
      batches_[spec.request_id] = in.size();
    }
    for (size_t i = 0; i < batches_[spec.request_id]; ++i)
      b.serials.push_back(MakeSerial(1, i + 1));
    return b;
  }
  absl::StatusOr<int64_t> ActivateCodes(const std::string&,
                                        const std::vector<std::string>&) override {
    ++calls;
    return 0;
  }
  absl::StatusOr<Code> GetCodeBySerial(const std::string&) override {
    ++calls;
    return absl::NotFoundError("x");
  }
  absl::StatusOr<Code> GetCodeByHashes(const std::vector<std::string>& hashes) override {
    ++calls;
    for (const auto& h : hashes)
      if (codes.count(h)) return codes[h];
    return absl::NotFoundError("x");
  }
  absl::StatusOr<Reservation> Reserve(const ReserveRequest& r) override {
    ++calls;
    Reservation out;
    auto key = std::make_pair(r.account_id, r.request_id);
    if (redemptions.count(key)) {
      out.kind = Reservation::Kind::kReplay;
      out.redemption = redemptions[key];
      return out;
    }
    for (const auto& h : r.code_hashes) {
      if (!codes.count(h)) continue;
      Code& c = codes[h];
      if (c.state != CodeState::kActive) {
        out.code = c;
        return out;
      }
      c.state = CodeState::kRedeeming;
      Redemption red;
      red.redemption_id = absl::StrCat("red-", ++next_id_);
      red.account_id = r.account_id;
      red.request_id = r.request_id;
      red.code_hash = h;
      red.serial = c.serial;
      red.amount = c.amount;
      red.region = c.region;
      redemptions[key] = red;
      out.kind = Reservation::Kind::kReserved;
      out.redemption = red;
      return out;
    }
    return out;
  }
  absl::StatusOr<Redemption> Complete(const Redemption& red, const std::string& transfer_id,
                                      int64_t balance) override {
    ++calls;
    Redemption& r = redemptions[{red.account_id, red.request_id}];
    if (r.state == RedemptionState::kPending) {
      r.state = RedemptionState::kCompleted;
      r.transfer_id = transfer_id;
      r.balance_after_minor = balance;
      codes[r.code_hash].state = CodeState::kRedeemed;
    }
    return r;
  }
  absl::StatusOr<Redemption> Reject(const Redemption& red, const absl::Status& refusal) override {
    ++calls;
    Redemption& r = redemptions[{red.account_id, red.request_id}];
    if (r.state == RedemptionState::kPending) {
      r.state = RedemptionState::kRejected;
      r.rejection = refusal;
      codes[r.code_hash].state = CodeState::kActive;
    }
    return r;
  }

 private:
  std::map<std::string, size_t> batches_;
  int next_id_ = 0;
};

class FakeGuard : public RedemptionGuard {
 public:
  absl::Status next = absl::OkStatus();
  int acquired = 0, released = 0;
  absl::StatusOr<std::string> Acquire(const std::string&, absl::Duration) override {
    if (!next.ok()) return next;
    ++acquired;
    return std::string("token");
  }
  void Release(const std::string&, const std::string&) override { ++released; }
};

class FakeCredit : public CreditGateway {
 public:
  absl::Status next = absl::OkStatus();
  std::vector<std::string> request_ids;
  absl::StatusOr<CreditResult> Credit(const std::string&, const money::Money& amount,
                                      const std::string&, const std::string& request_id,
                                      const std::string&) override {
    request_ids.push_back(request_id);
    if (!next.ok()) return next;
    return CreditResult{"transfer-" + request_id, amount.amount_minor};
  }
};

class VaultServiceTest : public ::testing::Test {
 protected:
  VaultServiceTest()
      : hasher_(*codes::CodeHasher::FromSpec("k1:" + std::string(64, 'a'))),
        service_(store_, guard_, credit_, hasher_, {}) {
    pin_ = codes::GeneratePin();
    store_.AddActive(hasher_.Hash(pin_).digest, "GC000001000001");
  }

  absl::StatusOr<Redemption> Redeem(const std::string& account, const std::string& request) {
    return service_.Redeem({codes::Format(pin_), account, request, "10.0.0.1"});
  }

  FakeCodeStore store_;
  FakeGuard guard_;
  FakeCredit credit_;
  codes::CodeHasher hasher_;
  VaultService service_;
  std::string pin_;
};

TEST_F(VaultServiceTest, MalformedAndMistypedCodesTouchNothing) {
  auto s = service_.Redeem({"hello", "acct", "r1", ""});
  EXPECT_EQ(errors::ReasonOf(s.status()), "CODE_MALFORMED");
  std::string typo = pin_;
  typo[3] = typo[3] == 'A' ? 'B' : 'A';
  s = service_.Redeem({typo, "acct", "r1", ""});
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

TEST_F(VaultServiceTest, DefiniteRefusalPutsTheCodeBackAndIsReplayed) {
  credit_.next =
      errors::Error(absl::StatusCode::kFailedPrecondition, errors::reason::kRegionMismatch, "no");
  auto r = Redeem("acct", "r1");
  EXPECT_EQ(errors::ReasonOf(r.status()), "REGION_MISMATCH");
  EXPECT_EQ(store_.codes.begin()->second.state, CodeState::kActive);
  credit_.next = absl::OkStatus();
  EXPECT_EQ(errors::ReasonOf(Redeem("acct", "r1").status()), "REGION_MISMATCH");
  EXPECT_TRUE(Redeem("right", "r2").ok());
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

TEST_F(VaultServiceTest, AHeldGuardIsAbortedAndADeadGuardIsBypassed) {
  guard_.next =
      errors::Error(absl::StatusCode::kAborted, errors::reason::kRedemptionInProgress, "");
  auto r = Redeem("acct", "r1");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(store_.calls, 0);

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
  EXPECT_EQ(store_.calls, 0);
}

}  // namespace
}  // namespace giftcard::code_vault

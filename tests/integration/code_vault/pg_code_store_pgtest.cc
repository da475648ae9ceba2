// PgCodeStore against the fixture's Postgres: recovery claims (replicas split
// the PENDING redemptions and a row that keeps failing cannot starve the
// others) and the admin paths (bulk changes
// that say what they did, listing across batches, listing batches).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "codes/codes.h"
#include "codes/hasher.h"
#include "errors/status.h"
#include "pg/migrations.h"
#include "pg/pool.h"
#include "services/code_vault/code_vault_migrations.h"
#include "services/code_vault/storage/pg_code_store.h"
#include "services/code_vault/storage/redis_attempt_limiter.h"
#include "services/code_vault/storage/redis_redemption_guard.h"
#include "support/harness.h"

namespace giftcard::code_vault {
namespace {

using ::testing::IsEmpty;
using ::testing::SizeIs;

// A new batch of `n` ISSUED codes of 5.00 EUR for DE in `store`; their
// hashes (one fresh PIN each) in `hashes`.
Batch MakeIssuedBatch(PgCodeStore& store, int n, std::vector<std::string>& hashes) {
  auto hasher = *codes::CodeHasher::FromSpec(testing::kTestPepper);
  std::vector<NewCode> new_codes;
  hashes.clear();
  for (int i = 0; i < n; ++i) {
    const codes::CodeHash h = hasher.Hash(codes::GeneratePin());
    new_codes.push_back({h.digest, h.key_id, "ABCD"});
    hashes.push_back(h.digest);
  }
  BatchSpec spec{n, {"EUR", 500}, "DE", testing::UniqueName("batch"), "fp", std::nullopt};
  auto batch = store.CreateBatch(spec, new_codes);
  EXPECT_TRUE(batch.ok()) << batch.status();
  return batch.value_or(Batch{});
}

class VaultClaimsTest : public ::testing::Test {
 protected:
  VaultClaimsTest()
      : dsn_(testing::CreateDatabase(testing::TestServers::Get().pg_port, "vault_claims")),
        migrated_(pg::Migrate(dsn_, Migrations(), kMigrationLockKey)),
        pool_({.dsn = dsn_, .size = 4}, PgCodeStore::Statements()),
        store_(pool_) {}

  // `n` PENDING redemptions, created an hour ago, oldest first.
  std::vector<std::string> MakePending(int n) {
    EXPECT_TRUE(migrated_.ok()) << migrated_;
    std::vector<std::string> hashes;
    const Batch batch = MakeIssuedBatch(store_, n, hashes);
    BulkChange activate;
    activate.batch_id = batch.batch_id;
    activate.request_id = testing::UniqueName("activate");
    activate.request_fingerprint = "fp";
    EXPECT_TRUE(store_.ApplyBulkChange(activate).ok());
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      auto r = store_.Reserve({{hashes[i]}, absl::StrCat("acct-", i), "r"});
      EXPECT_TRUE(r.ok() && r->kind == Reservation::Kind::kReserved);
      ids.push_back(r->redemption.redemption_id);
      // Created one minute apart, an hour ago: a definite order.
      EXPECT_EQ(testing::ExecSql(
                    dsn_, absl::StrCat("UPDATE redemptions SET create_time = now() - "
                                       "interval '1 hour' + interval '",
                                       i, " minutes' WHERE redemption_id = '", ids.back(), "'")),
                "");
    }
    return ids;
  }

  std::vector<std::string> Claim(int limit) {
    auto claimed = store_.ClaimPending(absl::Seconds(1), limit);
    EXPECT_TRUE(claimed.ok()) << claimed.status();
    std::vector<std::string> ids;
    for (const auto& r : claimed.value_or(std::vector<Redemption>{})) {
      ids.push_back(r.redemption_id);
    }
    return ids;
  }

  const std::string dsn_;
  const absl::Status migrated_;
  pg::Pool pool_;
  PgCodeStore store_;
};

TEST_F(VaultClaimsTest, TwoWorkersClaimDisjointRowsAndAClaimIsALease) {
  const std::vector<std::string> ids = MakePending(6);
  // Two replicas' workers, at once.
  auto a = std::async(std::launch::async, [&] { return Claim(3); });
  auto b = std::async(std::launch::async, [&] { return Claim(3); });
  std::vector<std::string> first = a.get(), second = b.get();
  std::set<std::string> all(first.begin(), first.end());
  all.insert(second.begin(), second.end());
  EXPECT_THAT(first, SizeIs(3));
  EXPECT_THAT(second, SizeIs(3));
  EXPECT_EQ(all, std::set<std::string>(ids.begin(), ids.end()));
  // Every row is leased now: nobody else takes one until its next attempt.
  EXPECT_THAT(Claim(10), IsEmpty());
  // Each claim counted an attempt and moved the next one out by the backoff.
  EXPECT_THAT(testing::QueryColumn(dsn_, "SELECT DISTINCT attempts FROM redemptions"),
              ::testing::ElementsAre("1"));
  EXPECT_THAT(testing::QueryColumn(
                  dsn_, "SELECT count(*) FROM redemptions WHERE next_attempt_time > now()"),
              ::testing::ElementsAre("6"));
}

TEST_F(VaultClaimsTest, RowsThatKeepFailingWaitTheirTurnBehindTheOthers) {
  const std::vector<std::string> ids = MakePending(3);
  // One claim a pass, and every attempt fails (nothing settles the rows).
  // Leases are made to pass at once, as time would: the oldest row must not
  // be the one retried forever.
  std::vector<std::string> order;
  for (int pass = 0; pass < 3; ++pass) {
    const std::vector<std::string> claimed = Claim(1);
    ASSERT_THAT(claimed, SizeIs(1));
    order.push_back(claimed[0]);
    // Time passes for the leases, keeping their order.
    ASSERT_EQ(testing::ExecSql(dsn_,
                               "UPDATE redemptions SET next_attempt_time = "
                               "next_attempt_time - interval '1 day'"),
              "");
  }
  EXPECT_EQ(order, ids);
  // The fourth pass comes back to the first row, whose backoff has grown.
  EXPECT_EQ(Claim(1), std::vector<std::string>{ids[0]});
  EXPECT_THAT(testing::QueryColumn(dsn_, "SELECT attempts FROM redemptions ORDER BY create_time"),
              ::testing::ElementsAre("2", "1", "1"));
}

// Concurrent completions go to Postgres together (cv_complete_many): each
// still settles its own redemption and code and gets its own answer, a
// completion of a redemption already settled answers with what it became,
// and a redemption completed twice in one batch is completed once.
TEST_F(VaultClaimsTest, CompletionsInOneBatchEachSettleTheirOwnRedemption) {
  MakePending(24);
  auto claimed = store_.ClaimPending(absl::Seconds(1), 24);
  ASSERT_TRUE(claimed.ok()) << claimed.status();
  ASSERT_THAT(*claimed, SizeIs(24));
  std::vector<absl::StatusOr<Redemption>> answers(24 + 4, absl::UnknownError("not run"));
  std::vector<std::thread> callers;
  for (size_t i = 0; i < answers.size(); ++i) {
    // The last four complete redemptions 0..3 a second time, concurrently.
    const Redemption& r = (*claimed)[i % 24];
    callers.emplace_back([&, i, r] {
      answers[i] = store_.Complete(r, absl::StrCat("transfer-", i % 24), 1000 + (i % 24));
    });
  }
  for (auto& t : callers) t.join();
  for (size_t i = 0; i < answers.size(); ++i) {
    ASSERT_TRUE(answers[i].ok()) << i << ": " << answers[i].status();
    EXPECT_EQ(answers[i]->state, RedemptionState::kCompleted) << i;
    EXPECT_EQ(answers[i]->redemption_id, (*claimed)[i % 24].redemption_id) << i;
    EXPECT_EQ(answers[i]->transfer_id, absl::StrCat("transfer-", i % 24)) << i;
    EXPECT_EQ(answers[i]->balance_after_minor, 1000 + static_cast<int64_t>(i % 24)) << i;
  }
  EXPECT_THAT(testing::QueryColumn(dsn_, "SELECT count(*) FROM codes WHERE state = 'REDEEMED'"),
              testing::AllEqual("24"));
  EXPECT_THAT(
      testing::QueryColumn(dsn_, "SELECT count(*) FROM redemptions WHERE state = 'COMPLETED'"),
      testing::AllEqual("24"));
  // A late completion with another transfer changes nothing and answers the first.
  auto late = store_.Complete((*claimed)[5], "transfer-late", 1);
  ASSERT_TRUE(late.ok()) << late.status();
  EXPECT_EQ(late->transfer_id, "transfer-5");
}

class VaultAdminTest : public ::testing::Test {
 protected:
  VaultAdminTest()
      : dsn_(testing::CreateDatabase(testing::TestServers::Get().pg_port, "vault_admin")),
        migrated_(pg::Migrate(dsn_, Migrations(), kMigrationLockKey)),
        pool_({.dsn = dsn_, .size = 2}, PgCodeStore::Statements()),
        store_(pool_) {}

  // A new batch of `n` ISSUED codes; its serials (their hashes in hashes_).
  Batch MakeBatch(int n) {
    EXPECT_TRUE(migrated_.ok()) << migrated_;
    return MakeIssuedBatch(store_, n, hashes_);
  }

  absl::StatusOr<BulkResult> Change(BulkKind kind, const std::string& batch_id,
                                    std::vector<std::string> serials,
                                    const std::string& request_id = "") {
    BulkChange change;
    change.kind = kind;
    change.batch_id = batch_id;
    change.serials = std::move(serials);
    change.reason = kind == BulkKind::kVoid ? "lost in transit" : "";
    change.request_id = request_id.empty() ? testing::UniqueName("change") : request_id;
    change.request_fingerprint = absl::StrCat(change.request_id, "-fp");
    return store_.ApplyBulkChange(change);
  }

  const std::string dsn_;
  const absl::Status migrated_;
  pg::Pool pool_;
  PgCodeStore store_;
  std::vector<std::string> hashes_;
};

// A batch of reservations is one statement, and each item gets the answer
// it would have had alone: distinct codes reserved, the same code twice
// reserved once (the other sees it ACTIVE yet not reserved, as a concurrent
// loser), an unknown code refused without a code; lookups likewise.
TEST_F(VaultAdminTest, ABatchOfReservationsAnswersEachAsIfAlone) {
  const Batch batch = MakeBatch(4);
  ASSERT_TRUE(Change(BulkKind::kActivate, batch.batch_id, {}).ok());
  const std::string unknown(32, 'x');
  std::vector<ReserveRequest> requests = {
      {{"other-key-hash", hashes_[0]}, "acct-0", "r"},  // The PIN under two keys.
      {{hashes_[1]}, "acct-1", "r"},
      {{hashes_[2]}, "acct-2", "r"},
      {{hashes_[2]}, "acct-3", "r"},  // The same code again.
      {{unknown}, "acct-4", "r"},
  };
  auto reserved = store_.ReserveBatch(requests);
  ASSERT_EQ(reserved.size(), 5u);
  for (auto& r : reserved) ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(reserved[0]->kind, Reservation::Kind::kReserved);
  EXPECT_EQ(reserved[0]->redemption.serial, batch.serials[0]);
  EXPECT_EQ(reserved[0]->redemption.account_id, "acct-0");
  EXPECT_EQ(reserved[1]->kind, Reservation::Kind::kReserved);
  EXPECT_EQ(reserved[1]->redemption.serial, batch.serials[1]);
  const int winners = (reserved[2]->kind == Reservation::Kind::kReserved) +
                      (reserved[3]->kind == Reservation::Kind::kReserved);
  EXPECT_EQ(winners, 1) << "one code, reserved once";
  const auto& loser = reserved[2]->kind == Reservation::Kind::kReserved ? reserved[3] : reserved[2];
  EXPECT_EQ(loser->kind, Reservation::Kind::kRefused);
  ASSERT_TRUE(loser->code.has_value());
  EXPECT_EQ(loser->code->state, CodeState::kActive);
  EXPECT_EQ(reserved[4]->kind, Reservation::Kind::kRefused);
  EXPECT_FALSE(reserved[4]->code.has_value());
  EXPECT_THAT(testing::QueryColumn(dsn_, "SELECT count(*) FROM redemptions"),
              testing::AllEqual("3"));
  EXPECT_THAT(testing::QueryColumn(dsn_, "SELECT count(DISTINCT xmin::text) FROM redemptions"),
              testing::AllEqual("1"))
      << "one statement";

  // Lookups: each its code and its own earlier redemption.
  auto looked = store_.LookupBatch(requests);
  ASSERT_EQ(looked.size(), 5u);
  for (auto& l : looked) ASSERT_TRUE(l.ok()) << l.status();
  ASSERT_TRUE(looked[0]->code.has_value());
  EXPECT_EQ(looked[0]->code->state, CodeState::kRedeeming);
  ASSERT_TRUE(looked[0]->first.has_value());
  EXPECT_EQ(looked[0]->first->redemption_id, reserved[0]->redemption.redemption_id);
  EXPECT_EQ(looked[2]->first.has_value(), reserved[2]->kind == Reservation::Kind::kReserved);
  EXPECT_EQ(looked[3]->first.has_value(), reserved[3]->kind == Reservation::Kind::kReserved);
  EXPECT_FALSE(looked[4]->code.has_value());
  EXPECT_FALSE(looked[4]->first.has_value());

  // Reads by serial in one statement: each its own code, an unknown serial
  // its own NOT_FOUND.
  auto by_serial =
      store_.SerialBatch({batch.serials[1], "GC999999999999", batch.serials[0], batch.serials[1]});
  ASSERT_EQ(by_serial.size(), 4u);
  ASSERT_TRUE(by_serial[0].ok() && by_serial[2].ok() && by_serial[3].ok());
  EXPECT_EQ(by_serial[0]->serial, batch.serials[1]);
  EXPECT_EQ(by_serial[0]->state, CodeState::kRedeeming);
  EXPECT_EQ(errors::ReasonOf(by_serial[1].status()), "CODE_NOT_FOUND");
  EXPECT_EQ(by_serial[2]->serial, batch.serials[0]);
  EXPECT_EQ(by_serial[3]->serial, batch.serials[1]);

  // A request id already taken, on a code that is ACTIVE again (its first
  // call was refused): the batch statement fails on the key and the batch
  // goes item by item, that item replaying its first call.
  auto first = store_.ReserveBatch({{{hashes_[3]}, "acct-9", "r"}});
  ASSERT_TRUE(first[0].ok() && first[0]->kind == Reservation::Kind::kReserved);
  ASSERT_TRUE(
      store_
          .Reject(first[0]->redemption, errors::Error(absl::StatusCode::kFailedPrecondition,
                                                      errors::reason::kRegionMismatch, "not here"))
          .ok());
  auto second = store_.ReserveBatch({{{hashes_[3]}, "acct-9", "r"}, {{unknown}, "acct-6", "r"}});
  ASSERT_EQ(second.size(), 2u);
  ASSERT_TRUE(second[0].ok() && second[1].ok());
  EXPECT_EQ(second[0]->kind, Reservation::Kind::kReplay);
  EXPECT_EQ(second[0]->redemption.redemption_id, first[0]->redemption.redemption_id);
  EXPECT_EQ(second[0]->redemption.state, RedemptionState::kRejected);
  EXPECT_EQ(second[1]->kind, Reservation::Kind::kRefused);
}

// Two items of one batch with the same account and request id but other
// codes: each is answered by its own position, as the
// same calls one after the other would be. The second is a replay of the
// first (the domain answers REQUEST_ID_REUSED), never the first's
// reservation as its own; and its code is left as it was.
TEST_F(VaultAdminTest, ItemsOfABatchWithOneRequestIdAreAnsweredAsInSequence) {
  const Batch batch = MakeBatch(3);
  ASSERT_TRUE(Change(BulkKind::kActivate, batch.batch_id, {}).ok());
  const std::string unknown(32, 'y');
  // An unknown code second (a guess under a reused request id).
  auto guessed = store_.ReserveBatch({{{hashes_[0]}, "acct-1", "dup"},
                                      {{unknown}, "acct-1", "dup"},
                                      {{hashes_[1]}, "acct-2", "dup"}});
  ASSERT_EQ(guessed.size(), 3u);
  for (auto& r : guessed) ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(guessed[0]->kind, Reservation::Kind::kReserved);
  EXPECT_EQ(guessed[0]->redemption.serial, batch.serials[0]);
  EXPECT_EQ(guessed[1]->kind, Reservation::Kind::kReplay);
  EXPECT_EQ(guessed[1]->redemption.redemption_id, guessed[0]->redemption.redemption_id);
  EXPECT_EQ(guessed[2]->kind, Reservation::Kind::kReserved);
  EXPECT_EQ(guessed[2]->redemption.serial, batch.serials[1]);
  // Another ACTIVE code second: a replay too, and that code stays ACTIVE.
  auto other = store_.ReserveBatch({{{hashes_[2]}, "acct-3", "dup"},
                                    {{hashes_[0]}, "acct-1", "dup"},
                                    {{hashes_[2]}, "acct-3", "dup"}});
  ASSERT_EQ(other.size(), 3u);
  for (auto& r : other) ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(other[0]->kind, Reservation::Kind::kReserved);
  EXPECT_EQ(other[1]->kind, Reservation::Kind::kReplay);
  EXPECT_EQ(other[1]->redemption.redemption_id, guessed[0]->redemption.redemption_id);
  EXPECT_EQ(other[2]->kind, Reservation::Kind::kReplay);
  EXPECT_EQ(other[2]->redemption.redemption_id, other[0]->redemption.redemption_id);
  EXPECT_THAT(testing::QueryColumn(dsn_, "SELECT count(*) FROM redemptions"),
              testing::AllEqual("3"));
}

// The redemption path has no lookup before the reservation: the reserving
// statement itself must answer a replay (the caller's request id has a
// redemption already), whatever state the code is in, and change nothing.
TEST_F(VaultAdminTest, AReservationUnderARequestIdWithARedemptionIsAReplayAndChangesNothing) {
  const Batch batch = MakeBatch(3);
  ASSERT_TRUE(Change(BulkKind::kActivate, batch.batch_id, {}).ok());
  auto reserved = store_.Reserve({{hashes_[0]}, "acct-1", "r"});
  ASSERT_TRUE(reserved.ok() && reserved->kind == Reservation::Kind::kReserved);
  ASSERT_TRUE(store_.Complete(reserved->redemption, "tr-1", 500).ok());

  // Alone: the code is REDEEMED now, yet the answer is the caller's own redemption.
  auto replay = store_.Reserve({{hashes_[0]}, "acct-1", "r"});
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->kind, Reservation::Kind::kReplay);
  EXPECT_EQ(replay->redemption.redemption_id, reserved->redemption.redemption_id);
  EXPECT_EQ(replay->redemption.state, RedemptionState::kCompleted);

  // The same request id with another, ACTIVE code: a replay too (the domain
  // answers REQUEST_ID_REUSED), and that code stays ACTIVE.
  auto other = store_.Reserve({{hashes_[1]}, "acct-1", "r"});
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->kind, Reservation::Kind::kReplay);
  EXPECT_EQ(other->redemption.redemption_id, reserved->redemption.redemption_id);

  // In a batch, beside a first call: one statement answers both.
  auto both = store_.ReserveBatch({{{hashes_[0]}, "acct-1", "r"}, {{hashes_[2]}, "acct-2", "r"}});
  ASSERT_EQ(both.size(), 2u);
  ASSERT_TRUE(both[0].ok() && both[1].ok());
  EXPECT_EQ(both[0]->kind, Reservation::Kind::kReplay);
  EXPECT_EQ(both[0]->redemption.state, RedemptionState::kCompleted);
  EXPECT_EQ(both[1]->kind, Reservation::Kind::kReserved);
  EXPECT_THAT(testing::QueryColumn(dsn_, "SELECT count(*) FROM redemptions"),
              testing::AllEqual("2"));
  EXPECT_THAT(testing::QueryColumn(
                  dsn_, "SELECT state FROM codes WHERE serial = '" + batch.serials[1] + "'"),
              testing::AllEqual("ACTIVE"));
}

TEST_F(VaultAdminTest, ActivatingAVoidedSerialRefusesTheWholeChangeAndNamesIt) {
  const Batch batch = MakeBatch(3);
  const std::string& a = batch.serials[0];
  const std::string& b = batch.serials[1];
  ASSERT_TRUE(Change(BulkKind::kVoid, "", {b}).ok());
  auto refused = Change(BulkKind::kActivate, "", {a, b});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(errors::ReasonOf(refused.status()), errors::reason::kCodeVoided);
  EXPECT_NE(refused.status().message().find(b), std::string::npos) << refused.status();
  EXPECT_EQ(store_.GetCodeBySerial(a)->state, CodeState::kIssued) << "nothing may change";
  // The reason it was voided with is kept and read back.
  EXPECT_EQ(store_.GetCodeBySerial(b)->void_reason, "lost in transit");

  // An unknown serial among known ones is named.
  const std::string unknown = "GC999999000001";
  auto missing = Change(BulkKind::kActivate, "", {a, unknown});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(unknown), std::string::npos) << missing.status();
}

TEST_F(VaultAdminTest, ABulkChangeCountsWhatItChangedWhatWasDoneAndWhatItSkipped) {
  const Batch batch = MakeBatch(5);
  ASSERT_TRUE(Change(BulkKind::kActivate, "", {batch.serials[0]}).ok());
  ASSERT_TRUE(Change(BulkKind::kVoid, "", {batch.serials[1]}).ok());
  // Serials: one already active, one moves.
  auto serials = Change(BulkKind::kActivate, "", {batch.serials[0], batch.serials[2]});
  ASSERT_TRUE(serials.ok()) << serials.status();
  EXPECT_EQ(serials->changed, 1);
  EXPECT_EQ(serials->unchanged, 1);
  EXPECT_EQ(serials->skipped, 0);
  // The batch: two more move, two are active already, the voided one is skipped.
  const std::string request_id = testing::UniqueName("batch-activate");
  auto whole = Change(BulkKind::kActivate, batch.batch_id, {}, request_id);
  ASSERT_TRUE(whole.ok()) << whole.status();
  EXPECT_EQ(whole->changed, 2);
  EXPECT_EQ(whole->unchanged, 2);
  EXPECT_EQ(whole->skipped, 1);
  // A replay answers the same three counts.
  auto replay = Change(BulkKind::kActivate, batch.batch_id, {}, request_id);
  ASSERT_TRUE(replay.ok()) << replay.status();
  EXPECT_EQ(replay->changed, 2);
  EXPECT_EQ(replay->unchanged, 2);
  EXPECT_EQ(replay->skipped, 1);
  // Void of the whole batch: four move, one voided already.
  auto voided = Change(BulkKind::kVoid, batch.batch_id, {});
  ASSERT_TRUE(voided.ok()) << voided.status();
  EXPECT_EQ(voided->changed, 4);
  EXPECT_EQ(voided->unchanged, 1);
  EXPECT_EQ(voided->skipped, 0);
}

TEST_F(VaultAdminTest, CodesListByStateAcrossBatchesAndBatchesNewestFirst) {
  const Batch first = MakeBatch(2);
  const Batch second = MakeBatch(2);
  ASSERT_TRUE(Change(BulkKind::kVoid, "", {first.serials[1], second.serials[0]}).ok());
  auto voided = store_.ListCodes("", CodeState::kVoided, "", 10);
  ASSERT_TRUE(voided.ok()) << voided.status();
  std::vector<std::string> serials;
  for (const Code& c : voided->codes) serials.push_back(c.serial);
  EXPECT_EQ(serials, (std::vector<std::string>{first.serials[1], second.serials[0]}));

  auto page = store_.ListBatches(0, 1);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_THAT(page->batches, SizeIs(1));
  EXPECT_EQ(page->batches[0].batch_id, second.batch_id);
  EXPECT_EQ(page->batches[0].code_count, 2);
  EXPECT_TRUE(page->more);
  auto next = store_.ListBatches(page->batches[0].batch_no, 1);
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_THAT(next->batches, SizeIs(1));
  EXPECT_EQ(next->batches[0].batch_id, first.batch_id);
}

// The Redis limiter's Check (a real code's attempt) counts nothing and
// refuses at the limit as Charge does, with the window's time left.
TEST(RedisAttemptLimiterTest, CheckCountsNothingAndRefusesAtTheLimit) {
  redis::Options options;
  options.port = testing::TestServers::Get().redis_port;
  redis::Client client(options);
  RedisAttemptLimiter limiter(client, absl::Minutes(1));
  const std::vector<LimitKey> keys = {{testing::UniqueName("acct:check"), 2}};
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(limiter.Check(keys).ok());
  ASSERT_TRUE(limiter.Charge(keys).ok());
  ASSERT_TRUE(limiter.Charge(keys).ok()) << "the checks counted nothing";
  const absl::Status refused = limiter.Check(keys);
  EXPECT_EQ(errors::ReasonOf(refused), "TOO_MANY_ATTEMPTS");
  const std::optional<absl::Duration> retry = errors::RetryDelayOf(refused);
  ASSERT_TRUE(retry.has_value());
  EXPECT_GT(*retry, absl::ZeroDuration());
  EXPECT_LE(*retry, absl::Minutes(1));
}

// A redemption's one Redis round trip: the limits checked and the guard
// taken together, also when the server has not loaded the check script.
TEST(RedisRedemptionGuardTest, AdmitChecksTheLimitsAndTakesTheGuardInOnePipeline) {
  redis::Options options;
  options.port = testing::TestServers::Get().redis_port;
  redis::Client client(options);
  ASSERT_TRUE(client.Command({"SCRIPT", "FLUSH"}).ok());
  RedisAttemptLimiter limiter(client, absl::Minutes(1));
  RedisRedemptionGuard guard(client);
  const std::vector<LimitKey> keys = {{testing::UniqueName("acct:admit"), 1},
                                      {testing::UniqueName("ip:admit"), 5}};
  const std::string key = testing::UniqueName("guard:admit");

  Admission first = guard.Admit(limiter, keys, key, absl::Seconds(10));
  EXPECT_TRUE(first.limits.ok()) << first.limits;
  ASSERT_TRUE(first.guard.ok()) << first.guard.status();
  Admission second = guard.Admit(limiter, keys, key, absl::Seconds(10));
  EXPECT_TRUE(second.limits.ok()) << second.limits;
  EXPECT_EQ(errors::ReasonOf(second.guard.status()), "REDEMPTION_IN_PROGRESS");

  guard.Release(key, *first.guard);
  ASSERT_TRUE(limiter.Charge({keys[0]}).ok());  // The account's one failure.
  Admission over = guard.Admit(limiter, keys, key, absl::Seconds(10));
  EXPECT_EQ(errors::ReasonOf(over.limits), "TOO_MANY_ATTEMPTS");
  EXPECT_TRUE(errors::RetryDelayOf(over.limits).has_value());
  EXPECT_TRUE(over.guard.ok()) << "taken all the same; the caller gives it back";
}

// Concurrent admissions share pipelines; each still gets its own answer:
// of 16 at once for one code exactly one takes the guard, and each of 16
// for 16 codes takes its own.
TEST(RedisRedemptionGuardTest, ConcurrentAdmissionsEachGetTheirOwnAnswer) {
  redis::Options options;
  options.port = testing::TestServers::Get().redis_port;
  redis::Client client(options);
  RedisAttemptLimiter limiter(client, absl::Minutes(1));
  RedisRedemptionGuard guard(client);
  const std::vector<LimitKey> keys = {{testing::UniqueName("ip:many"), 5}};
  const std::string one = testing::UniqueName("guard:one");
  std::vector<Admission> same(16), own(16);
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      same[i] = guard.Admit(limiter, keys, one, absl::Seconds(10));
      own[i] = guard.Admit(limiter, keys, one + "-" + std::to_string(i), absl::Seconds(10));
    });
  }
  for (auto& t : threads) t.join();
  int taken = 0;
  for (int i = 0; i < 16; ++i) {
    EXPECT_TRUE(same[i].limits.ok() && own[i].limits.ok());
    taken += same[i].guard.ok();
    EXPECT_TRUE(own[i].guard.ok()) << own[i].guard.status();
  }
  EXPECT_EQ(taken, 1);
}

}  // namespace
}  // namespace giftcard::code_vault

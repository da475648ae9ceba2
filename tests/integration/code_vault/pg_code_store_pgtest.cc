// code-vault's recovery claims against the fixture's Postgres (PgCodeStore):
// replicas split the PENDING redemptions and a row that keeps failing
// cannot starve the others (issue 11, defect 3 and item 7).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <set>

#include "absl/strings/str_cat.h"
#include "codes/codes.h"
#include "codes/hasher.h"
#include "pg/migrations.h"
#include "pg/pool.h"
#include "services/code_vault/code_vault_migrations.h"
#include "services/code_vault/storage/pg_code_store.h"
#include "support/harness.h"

namespace giftcard::code_vault {
namespace {

using ::testing::IsEmpty;
using ::testing::SizeIs;

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
    auto hasher = *codes::CodeHasher::FromSpec(testing::kTestPepper);
    std::vector<NewCode> new_codes;
    std::vector<std::string> hashes;
    for (int i = 0; i < n; ++i) {
      const codes::CodeHash h = hasher.Hash(codes::GeneratePin());
      new_codes.push_back({h.digest, h.key_id, "ABCD"});
      hashes.push_back(h.digest);
    }
    BatchSpec spec{n, {"EUR", 500}, "DE", testing::UniqueName("batch"), "fp", std::nullopt};
    auto batch = store_.CreateBatch(spec, new_codes);
    EXPECT_TRUE(batch.ok()) << batch.status();
    BulkChange activate;
    activate.batch_id = batch->batch_id;
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

}  // namespace
}  // namespace giftcard::code_vault

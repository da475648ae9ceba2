// billing's recovery claims against the fixture's Postgres
// (PgApplicationStore): replicas split the unsettled applications, a claim
// is a lease, and a new saga step starts its retries afresh.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <set>

#include "absl/strings/str_cat.h"
#include "errors/status.h"
#include "pg/migrations.h"
#include "pg/pool.h"
#include "services/billing/billing_migrations.h"
#include "services/billing/storage/pg_application_store.h"
#include "support/harness.h"

namespace giftcard::billing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class BillingClaimsTest : public ::testing::Test {
 protected:
  BillingClaimsTest()
      : dsn_(testing::CreateDatabase(testing::TestServers::Get().pg_port, "billing_claims")),
        migrated_(pg::Migrate(dsn_, Migrations(), kMigrationLockKey)),
        pool_({.dsn = dsn_, .size = 4}, PgApplicationStore::Statements()),
        store_(pool_) {}

  // `n` PENDING applications, last changed an hour ago, oldest first.
  std::vector<std::string> MakePending(int n) {
    EXPECT_TRUE(migrated_.ok()) << migrated_;
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) {
      CreditApplication app;
      app.invoice_id = absl::StrCat("inv-", i);
      app.account_id = "acct";
      app.amount_due = {"EUR", 1000};
      EXPECT_TRUE(store_.Start(app).ok());
      ids.push_back(app.invoice_id);
      EXPECT_EQ(testing::ExecSql(
                    dsn_, absl::StrCat("UPDATE credit_applications SET update_time = "
                                       "now() - interval '1 hour' + interval '",
                                       i, " minutes' WHERE invoice_id = '", app.invoice_id, "'")),
                "");
    }
    return ids;
  }

  std::vector<std::string> Claim(int limit) {
    auto claimed = store_.ClaimUnsettled(absl::Seconds(1), limit);
    EXPECT_TRUE(claimed.ok()) << claimed.status();
    std::vector<std::string> ids;
    for (const auto& a : claimed.value_or(std::vector<CreditApplication>{})) {
      ids.push_back(a.invoice_id);
    }
    return ids;
  }

  const std::string dsn_;
  const absl::Status migrated_;
  pg::Pool pool_;
  PgApplicationStore store_;
};

// Start and MarkApplied for a batch of concurrent calls: one statement
// each, every item answered as if alone.
TEST_F(BillingClaimsTest, ABatchOfStartsAndOfAppliedAnswersEachAsIfAlone) {
  const std::vector<std::string> known = MakePending(1);
  auto app = [](const std::string& invoice, int64_t due) {
    CreditApplication a;
    a.invoice_id = invoice;
    a.account_id = "acct-" + invoice;
    a.amount_due = {"EUR", due};
    return a;
  };
  auto started = store_.StartBatch(
      {app("inv-a", 100), app("inv-b", 200), app("inv-a", 999), app(known[0], 5)});
  ASSERT_EQ(started.size(), 4u);
  for (const auto& s : started) ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(started[0]->amount_due.amount_minor, 100);
  EXPECT_EQ(started[1]->amount_due.amount_minor, 200);
  EXPECT_EQ(started[2]->amount_due.amount_minor, 100) << "the invoice's row, as the first made it";
  EXPECT_EQ(started[3]->amount_due.amount_minor, 1000) << "known before: its own row";
  EXPECT_THAT(testing::QueryColumn(dsn_, "SELECT count(*) FROM credit_applications"),
              ElementsAre("3"));

  const int64_t marked_us = absl::ToUnixMicros(absl::Now());
  auto applied = store_.MarkAppliedBatch({{"inv-a", "tr-a", 100, 0, marked_us},
                                          {"inv-b", "tr-b", 150, 0, marked_us + 1},
                                          {"inv-a", "tr-x", 1, 1, marked_us},
                                          {"inv-none", "tr-n", 1, 1, marked_us}});
  ASSERT_EQ(applied.size(), 4u);
  ASSERT_TRUE(applied[0].ok() && applied[1].ok() && applied[2].ok());
  EXPECT_EQ(applied[0]->state, ApplicationState::kApplied);
  EXPECT_EQ(applied[0]->debit_transfer_id, "tr-a");
  EXPECT_EQ(applied[1]->applied_minor, 150);
  // Each row takes the update time its caller chose, to the microsecond.
  EXPECT_EQ(absl::ToUnixMicros(applied[0]->update_time), marked_us);
  EXPECT_EQ(absl::ToUnixMicros(applied[1]->update_time), marked_us + 1);
  EXPECT_EQ(applied[2]->debit_transfer_id, "tr-a") << "applied already: the row as it is";
  EXPECT_EQ(errors::ReasonOf(applied[3].status()), "INVOICE_NOT_FOUND");
}

TEST_F(BillingClaimsTest, TwoWorkersClaimDisjointRowsAndAClaimIsALease) {
  const std::vector<std::string> ids = MakePending(6);
  auto a = std::async(std::launch::async, [&] { return Claim(3); });
  auto b = std::async(std::launch::async, [&] { return Claim(3); });
  std::vector<std::string> first = a.get(), second = b.get();
  EXPECT_THAT(first, SizeIs(3));
  EXPECT_THAT(second, SizeIs(3));
  std::set<std::string> all(first.begin(), first.end());
  all.insert(second.begin(), second.end());
  EXPECT_EQ(all, std::set<std::string>(ids.begin(), ids.end()));
  EXPECT_THAT(Claim(10), IsEmpty());
}

TEST_F(BillingClaimsTest, RowsThatKeepFailingWaitTheirTurnAndANewStepStartsAfresh) {
  const std::vector<std::string> ids = MakePending(3);
  std::vector<std::string> order;
  for (int pass = 0; pass < 4; ++pass) {
    const std::vector<std::string> claimed = Claim(1);
    ASSERT_THAT(claimed, SizeIs(1));
    order.push_back(claimed[0]);
    ASSERT_EQ(testing::ExecSql(dsn_,
                               "UPDATE credit_applications SET next_attempt_time = "
                               "next_attempt_time - interval '1 day'"),
              "");
  }
  EXPECT_EQ(order, (std::vector<std::string>{ids[0], ids[1], ids[2], ids[0]}));
  // Settled and then reversed: the reversal is a new step, its retries
  // start from the first attempt again.
  ASSERT_TRUE(store_.MarkApplied(ids[0], "t-1", 1000, 0, absl::Now()).ok());
  ASSERT_TRUE(store_.MarkReversalPending(ids[0], "refund").ok());
  EXPECT_THAT(testing::QueryColumn(dsn_,
                                   "SELECT attempts FROM credit_applications WHERE "
                                   "invoice_id = 'inv-0'"),
              ElementsAre("0"));
}

}  // namespace
}  // namespace giftcard::billing

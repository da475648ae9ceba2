// LoopLedgerStore (account-credit's engine) against the fixture's Postgres:
// a batch is one transaction in two flights, and a request id another
// transaction decides between its reads and its writes must neither be
// written twice nor be answered from a half-written batch: the loser rolls
// back, runs again, and replays the winner's decision.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "engine/loop.h"
#include "errors/status.h"
#include "pg/loop_client.h"
#include "pg/migrations.h"
#include "pg/pool.h"
#include "services/account_credit/account_credit_migrations.h"
#include "services/account_credit/domain/account_service.h"
#include "services/account_credit/storage/loop_ledger_store.h"
#include "services/account_credit/storage/pg_ledger_store.h"
#include "support/harness.h"

namespace giftcard::account_credit {
namespace {

// One engine: a loop, its connection and its store, as a service wires them.
class Engine {
 public:
  explicit Engine(const std::string& dsn) : loop_("ledger-test") {
    loop_.Start();
    OnLoop([&] {
      client_ = std::make_unique<pg::LoopClient>(
          loop_, pg::LoopClientOptions{.dsn = dsn,
                                       .statements = LoopLedgerStore::Statements(),
                                       .setup_sql = pg::SessionSettings({})});
      store_ = std::make_unique<LoopLedgerStore>(loop_, *client_, LoopLedgerStore::Options{});
    });
    // It connects in the background; a batch sent before is refused.
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    bool connected = false;
    while (!connected && absl::Now() < deadline) {
      OnLoop([&] { connected = client_->connected(); });
      if (!connected) absl::SleepFor(absl::Milliseconds(10));
    }
    EXPECT_TRUE(connected);
  }
  ~Engine() {
    OnLoop([&] {
      store_.reset();
      client_.reset();
    });
    loop_.Stop();
  }

  // Starts a credit batch of one command; `out` gets its answer.
  void Credit(AccountService& service, CreditCommand command,
              absl::StatusOr<std::vector<absl::StatusOr<Transfer>>>* out,
              absl::Notification* done) {
    loop_.Post([&service, command, out, done, this] {
      service.StartCreditAccounts(
          *store_, {command},
          [out, done](absl::StatusOr<std::vector<absl::StatusOr<Transfer>>> answers) {
            *out = std::move(answers);
            done->Notify();
          });
    });
  }

 private:
  void OnLoop(std::function<void()> fn) {
    absl::Notification n;
    loop_.Post([&] {
      fn();
      n.Notify();
    });
    n.WaitForNotification();
  }
  engine::Loop loop_;
  std::unique_ptr<pg::LoopClient> client_;
  std::unique_ptr<LoopLedgerStore> store_;
};

TEST(LoopLedgerStoreTest, ARequestIdDecidedBetweenReadsAndWritesIsRolledBackAndReplayed) {
  const std::string dsn =
      testing::CreateDatabase(testing::TestServers::Get().pg_port, "loop_ledger");
  ASSERT_TRUE(pg::Migrate(dsn, Migrations(), kMigrationLockKey).ok());
  pg::Pool pool({.dsn = dsn, .size = 2}, PgLedgerStore::Statements());
  PgLedgerStore blocking_store(pool, {});
  AccountService service(blocking_store);
  for (const char* id : {"a", "b"}) {
    Account account;
    account.account_id = id;
    account.country = "DE";
    account.currency_code = "EUR";
    account.billing_channel = BillingChannel::kDirect;
    ASSERT_TRUE(service.UpsertAccount(account, std::nullopt).ok());
  }
  // Two engines (two replicas), one request id, two different credits (to
  // a and to b: their account locks do not serialize them).
  Engine first(dsn), second(dsn);
  absl::StatusOr<std::vector<absl::StatusOr<Transfer>>> to_a = absl::UnknownError("none"),
                                                        to_b = absl::UnknownError("none");
  absl::Notification a_done, b_done;
  {
    // A third transaction holds the request id's decision row: both
    // batches read that nothing is decided, plan their transfer, and wait
    // on the row at their write. It rolls back: one batch writes and
    // commits; the other's write finds the id taken.
    testing::RowLock decision(
        dsn, "INSERT INTO decisions (request_id, kind) VALUES ('shared', 'TRANSFER') RETURNING 1");
    first.Credit(service, {"a", {"EUR", 500}, "DE", "shared", "serial-a"}, &to_a, &a_done);
    second.Credit(service, {"b", {"EUR", 700}, "DE", "shared", "serial-b"}, &to_b, &b_done);
    ASSERT_TRUE(testing::WaitForLockWaiters(dsn, 2, absl::Seconds(10)))
        << "both batches should wait on the decision row";
  }
  ASSERT_TRUE(a_done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  ASSERT_TRUE(b_done.WaitForNotificationWithTimeout(absl::Seconds(20)));
  ASSERT_TRUE(to_a.ok()) << to_a.status();
  ASSERT_TRUE(to_b.ok()) << to_b.status();
  const absl::StatusOr<Transfer>& a = to_a->at(0);
  const absl::StatusOr<Transfer>& b = to_b->at(0);
  // Exactly one credited; the other is told the id was used for another
  // request (a recorded answer), having written nothing.
  EXPECT_NE(a.ok(), b.ok()) << (a.ok() ? "a ok" : a.status().ToString()) << " / "
                            << (b.ok() ? "b ok" : b.status().ToString());
  const absl::Status& refused = a.ok() ? b.status() : a.status();
  EXPECT_TRUE(
      errors::Is(refused, absl::StatusCode::kInvalidArgument, errors::reason::kRequestIdReused))
      << refused;
  const Transfer& credited = a.ok() ? *a : *b;
  EXPECT_FALSE(credited.transfer_id.empty());
  EXPECT_EQ(testing::QueryColumn(dsn, "SELECT count(*) FROM transfers").at(0), "1");
  EXPECT_EQ(testing::QueryColumn(dsn, "SELECT count(*) FROM ledger_entries").at(0), "2");
  EXPECT_EQ(testing::QueryColumn(dsn, "SELECT sum(balance_minor) FROM accounts").at(0),
            a.ok() ? "500" : "700");
}

}  // namespace
}  // namespace giftcard::account_credit

// pg::PipelineConnection against the fixture's Postgres: a transaction's
// statements and its sync go out in one flight and commit once; several
// transactions ride the connection at once and are answered in order; a
// failing statement rolls back its whole transaction and no other.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "engine/loop.h"
#include "pg/loop_client.h"
#include "pg/pipeline.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::ElementsAre;

const std::vector<pg::Statement> kStatements = {
    {"put", "INSERT INTO items (id, note) VALUES ($1::int, $2) RETURNING id * 10"},
    {"count", "SELECT count(*) FROM items"},
    {"put_xid", "INSERT INTO items (id) VALUES ($1::int) RETURNING pg_current_xact_id()::text"},
};

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest() : dsn_(CreateDatabase(TestServers::Get().pg_port, "pipeline")) {
    EXPECT_EQ(ExecSql(dsn_, "CREATE TABLE items (id int PRIMARY KEY, note text)"), "");
  }

  const std::string dsn_;
};

// A LoopClient is destroyed on its loop's thread; returns once it is gone.
void DestroyOnLoop(engine::Loop& loop, std::unique_ptr<pg::LoopClient>& client) {
  absl::Notification gone;
  loop.Post([&] {
    client.reset();
    gone.Notify();
  });
  gone.WaitForNotification();
}

pg::PipelineQuery Put(int id, std::optional<std::string> note = std::nullopt) {
  return {"put", {std::to_string(id), std::move(note)}};
}

TEST_F(PipelineTest, TransactionsInFlightTogetherAreAnsweredInOrderAndAFailureRollsBackOnlyItsOwn) {
  auto conn = pg::PipelineConnection::Connect(dsn_, kStatements);
  ASSERT_TRUE(conn.ok()) << conn.status();
  std::vector<std::string> answers;
  auto record = [&answers](absl::StatusOr<std::vector<pg::PipelineRows>> r) {
    if (!r.ok()) {
      answers.push_back(absl::StrCat("error ", absl::StatusCodeToString(r.status().code())));
      return;
    }
    std::string text;
    for (const auto& rows : *r) {
      for (const pg::TextRow row : rows)
        absl::StrAppend(&text, text.empty() ? "" : ",", row[0].text());
    }
    answers.push_back(text);
  };
  // Three transactions sent before any answer is read: the second repeats
  // id 2, so it fails, and its id 3 must not stay.
  ASSERT_TRUE((*conn)->Send({Put(1, "a"), Put(2), Put(4)}, record).ok());
  ASSERT_TRUE((*conn)->Send({Put(3), Put(2)}, record).ok());
  ASSERT_TRUE((*conn)->Send({Put(5), {"count", {}}}, record).ok());
  EXPECT_EQ((*conn)->in_flight(), 3u);
  ASSERT_TRUE(pg::RunUntilIdle(**conn, absl::Now() + absl::Seconds(10)).ok());
  EXPECT_THAT(answers, ElementsAre("10,20,40", "error ABORTED", "50,4"));
  EXPECT_THAT(QueryColumn(dsn_, "SELECT id::text FROM items ORDER BY id"),
              ElementsAre("1", "2", "4", "5"));
  EXPECT_EQ(QueryValue(dsn_, "SELECT note FROM items WHERE id = 2"), "NULL");
}

// The 16 statements of one Send run in one transaction: every row they
// write carries the same transaction id.
TEST_F(PipelineTest, ATransactionOfManyStatementsIsOneTransaction) {
  auto conn = pg::PipelineConnection::Connect(dsn_, kStatements);
  ASSERT_TRUE(conn.ok()) << conn.status();
  std::vector<pg::PipelineQuery> batch;
  for (int i = 100; i < 116; ++i) batch.push_back({"put_xid", {std::to_string(i)}});
  std::set<std::string> xids;
  size_t answered = 0;
  ASSERT_TRUE((*conn)
                  ->Send(batch,
                         [&](absl::StatusOr<std::vector<pg::PipelineRows>> r) {
                           ASSERT_TRUE(r.ok()) << r.status();
                           answered = r->size();
                           for (const auto& rows : *r) xids.insert(rows.front()[0].text());
                         })
                  .ok());
  ASSERT_TRUE(pg::RunUntilIdle(**conn, absl::Now() + absl::Seconds(10)).ok());
  EXPECT_EQ(answered, 16u);
  EXPECT_EQ(xids.size(), 1u);
  EXPECT_EQ(QueryValue(dsn_, "SELECT count(DISTINCT xmin::text) FROM items"), "1");
  EXPECT_EQ(QueryValue(dsn_, "SELECT count(*) FROM items"), "16");
}

TEST_F(PipelineTest, ALostServerFailsWhatIsInFlight) {
  auto conn = pg::PipelineConnection::Connect(dsn_, kStatements);
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_EQ(ExecSql(dsn_,
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                    "datname = current_database() AND pid <> pg_backend_pid()"),
            "");
  absl::Status answer = absl::OkStatus();
  bool answered = false;
  (void)(*conn)->Send({Put(1)}, [&](absl::StatusOr<std::vector<pg::PipelineRows>> r) {
    answered = true;
    answer = r.status();
  });
  (void)pg::RunUntilIdle(**conn, absl::Now() + absl::Seconds(10));
  EXPECT_TRUE(answered);
  EXPECT_EQ(answer.code(), absl::StatusCode::kUnavailable) << answer;
  EXPECT_EQ((*conn)->in_flight(), 0u);
}

// pg::LoopClient: the same connection driven by an engine::Loop. It
// connects in the background; a terminated backend fails what was in flight
// as UNAVAILABLE, and the client connects again by itself.
TEST_F(PipelineTest, ALoopClientAnswersOnTheLoopAndConnectsAgainAfterALoss) {
  engine::Loop loop("pg-test");
  loop.Start();
  std::unique_ptr<pg::LoopClient> client;
  loop.Post([&] {
    std::vector<pg::Statement> statements = kStatements;
    statements.push_back({"timeout", "SELECT current_setting('statement_timeout')"});
    client = std::make_unique<pg::LoopClient>(
        loop, pg::LoopClientOptions{.dsn = dsn_,
                                    .statements = statements,
                                    // Every connection's session settings.
                                    .setup_sql = "SET statement_timeout = 4321",
                                    // Long enough that the send after the
                                    // loss cannot find a new connection.
                                    .reconnect_backoff = absl::Milliseconds(500)});
  });
  // Sends one transaction from the loop and waits for its answer.
  auto send = [&](std::vector<pg::PipelineQuery> queries) {
    absl::Notification answered;
    absl::StatusOr<std::vector<pg::PipelineRows>> out = absl::UnknownError("unanswered");
    loop.Post([&] {
      client->Send(queries, [&](absl::StatusOr<std::vector<pg::PipelineRows>> r) {
        EXPECT_TRUE(loop.InLoopThread());
        out = std::move(r);
        answered.Notify();
      });
    });
    EXPECT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
    return out;
  };
  // While no connect is under way (after a loss, until the backoff has
  // passed), sends fail at once; then they succeed.
  auto until_ok = [&](int id) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    absl::StatusOr<std::vector<pg::PipelineRows>> r = send({Put(id)});
    while (!r.ok() && absl::Now() < deadline) {
      EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable) << r.status();
      absl::SleepFor(absl::Milliseconds(10));
      r = send({Put(id)});
    }
    return r;
  };
  auto first = until_ok(1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->at(0).front()[0].text(), "10");
  auto timeout = send({{"timeout", {}}});
  ASSERT_TRUE(timeout.ok()) << timeout.status();
  EXPECT_EQ(timeout->at(0).front()[0].text(), "4321ms") << "the session settings were not applied";
  ASSERT_EQ(ExecSql(dsn_,
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                    "datname = current_database() AND pid <> pg_backend_pid()"),
            "");
  auto lost = send({Put(2)});
  EXPECT_EQ(lost.status().code(), absl::StatusCode::kUnavailable) << lost.status();
  auto again = until_ok(3);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->at(0).front()[0].text(), "30");
  timeout = send({{"timeout", {}}});
  ASSERT_TRUE(timeout.ok()) << timeout.status();
  EXPECT_EQ(timeout->at(0).front()[0].text(), "4321ms") << "not applied to the new connection";
  EXPECT_EQ(QueryValue(dsn_, "SELECT string_agg(id::text, ',' ORDER BY id) FROM items"), "1,3");
  DestroyOnLoop(loop, client);
  loop.Stop();
}

// A send made while the first connect is under way (a service's first
// call, the moment it listens) waits for that connect instead of failing:
// billing's engine answered its first ApplyCredit DEPENDENCY_UNAVAILABLE.
TEST_F(PipelineTest, ASendWhileTheClientIsConnectingWaitsForTheConnection) {
  engine::Loop loop("pg-test");
  loop.Start();
  std::unique_ptr<pg::LoopClient> client;
  absl::Notification answered;
  absl::StatusOr<std::vector<pg::PipelineRows>> out = absl::UnknownError("unanswered");
  loop.Post([&] {
    client = std::make_unique<pg::LoopClient>(
        loop, pg::LoopClientOptions{.dsn = dsn_, .statements = kStatements});
    ASSERT_FALSE(client->connected());
    client->Send({Put(7)}, [&](absl::StatusOr<std::vector<pg::PipelineRows>> r) {
      out = std::move(r);
      answered.Notify();
    });
  });
  ASSERT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->at(0).front()[0].text(), "70");
  DestroyOnLoop(loop, client);
  loop.Stop();
}

// A server that takes the connection and never answers (a frozen
// Postgres): the helper's connect blocks in libpq. Destroying the client
// must not wait for it, or a service's shutdown would hang on a stalled
// database past its grace.
TEST(PipelineStallTest, DestroyingALoopClientDoesNotWaitForAConnectThatHangs) {
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 8), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string dsn =
      absl::StrCat("host=127.0.0.1 port=", ntohs(addr.sin_port), " user=postgres");

  engine::Loop loop("pg-stall-test");
  loop.Start();
  std::unique_ptr<pg::LoopClient> client;
  loop.Post([&] {
    client = std::make_unique<pg::LoopClient>(
        loop, pg::LoopClientOptions{
                  .dsn = dsn, .statements = {}, .connect_wait = absl::Milliseconds(200)});
  });
  // A send held for the hung connect is failed after connect_wait, not held
  // as long as the connect hangs.
  absl::Notification answered;
  absl::Status held = absl::UnknownError("unanswered");
  loop.Post([&] {
    client->Send({{"SELECT 1", {}}}, [&](absl::StatusOr<std::vector<pg::PipelineRows>> r) {
      held = r.status();
      answered.Notify();
    });
  });
  EXPECT_TRUE(answered.WaitForNotificationWithTimeout(absl::Seconds(10)));
  EXPECT_EQ(held.code(), absl::StatusCode::kUnavailable) << held;
  // The connect is under way once the server has the connection queued.
  absl::SleepFor(absl::Milliseconds(300));
  auto destroyed = std::async(std::launch::async, [&] { DestroyOnLoop(loop, client); });
  // A bound, not a timing assertion: a destructor that waits for the hung
  // connect never returns while the server stays silent.
  const bool returned = destroyed.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  ::close(listener);  // Lets a hung connect end, so a failure does not hang the test.
  destroyed.wait();
  loop.Stop();
  EXPECT_TRUE(returned) << "~LoopClient waited for a connect to a silent server";
}

}  // namespace
}  // namespace giftcard::testing

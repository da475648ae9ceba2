// libs/redis with Sentinel: the client finds the master through
// real Sentinels and follows a failover, killed or planned; a write that
// reaches a replica is UNAVAILABLE (try again), never INTERNAL.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "errors/status.h"
#include "ha/ha_engines.h"
#include "redis/client.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

redis::Client SentinelClient(HaEngines& engines, int connections = 2) {
  absl::StatusOr<redis::Options> options = redis::ParseSentinels(engines.Sentinels(), "giftcard");
  EXPECT_TRUE(options.ok()) << options.status();
  options->connections = connections;
  options->reconnect_backoff = absl::Milliseconds(100);
  return redis::Client(*options);
}

// Sets `key` until the client reaches a master that takes it, within 30 s;
// how many attempts failed first.
int SetUntilAccepted(redis::Client& client, const std::string& key) {
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  int failed = 0;
  while (absl::Now() < give_up) {
    absl::StatusOr<redis::Reply> reply = client.Command({"SET", key, "v"});
    if (reply.ok()) return failed;
    EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
    ++failed;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ADD_FAILURE() << "no master took " << key << " within 30 s";
  return failed;
}

std::string GetOn(int port, const std::string& key) {
  return RunCommand(absl::StrCat("redis-cli -p ", port, " GET ", key)).out;
}

TEST(SentinelClientTest, FindsTheMasterAndFollowsItWhenItIsKilled) {
  HaEngines engines(HaEngines::Postgres::kNone);
  redis::Client client = SentinelClient(engines);
  const int master = engines.RedisMasterPort();
  ASSERT_TRUE(client.Command({"SET", "before", "v"}).ok());
  ASSERT_TRUE(client.CurrentServer().has_value());
  EXPECT_EQ(client.CurrentServer()->port, master);
  EXPECT_EQ(GetOn(master, "before"), "v\n");

  engines.KillRedisMaster();
  EXPECT_GT(SetUntilAccepted(client, "after"), 0) << "the kill never reached the client";
  const int promoted = engines.RedisMasterPort();
  EXPECT_NE(promoted, master);
  EXPECT_EQ(client.CurrentServer()->port, promoted);
  EXPECT_EQ(GetOn(promoted, "after"), "v\n");
  EXPECT_GE(client.sentinel_lookups(), 2);
}

TEST(SentinelClientTest, LeavesAMasterThatAPlannedFailoverDemoted) {
  HaEngines engines(HaEngines::Postgres::kNone);
  // One connection: the one that was on the old master is the one that must move.
  redis::Client client = SentinelClient(engines, /*connections=*/1);
  const int master = engines.RedisMasterPort();
  ASSERT_TRUE(client.Command({"SET", "before", "v"}).ok());
  const std::string sentinel = engines.Sentinels().substr(0, engines.Sentinels().find(','));
  ASSERT_EQ(RunCommand(absl::StrCat("redis-cli -p ", sentinel.substr(sentinel.find(':') + 1),
                                    " SENTINEL FAILOVER giftcard"))
                .out,
            "OK\n");
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (engines.RedisMasterPort() == master && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  const int promoted = engines.RedisMasterPort();
  ASSERT_NE(promoted, master) << "Sentinel did not fail over";
  // Sentinel names the new master before it demotes the old one (a write
  // in between lands on the old master and is lost: replication is
  // asynchronous, which is why Redis is only ever a guard here). Once the
  // old master is a replica, the client's connection to it must move.
  while (RunCommand(absl::StrCat("redis-cli -p ", master, " ROLE")).out.rfind("slave", 0) != 0 &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_GT(SetUntilAccepted(client, "after"), 0) << "the client stayed on the demoted master";
  EXPECT_EQ(client.CurrentServer()->port, promoted);
  EXPECT_EQ(GetOn(promoted, "after"), "v\n");
}

TEST(SentinelClientTest, AWriteToAReplicaIsUnavailableNotInternal) {
  HaEngines engines(HaEngines::Postgres::kNone);
  redis::Options options;
  options.port = engines.RedisReplicaPort();
  ASSERT_NE(options.port, 0);
  redis::Client client(options);
  absl::StatusOr<redis::Reply> reply = client.Command({"SET", "k", "v"});
  ASSERT_FALSE(reply.ok());
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kUnavailable) << reply.status();
  EXPECT_EQ(errors::ReasonOf(reply.status()), errors::reason::kDependencyUnavailable);
}

TEST(SentinelClientTest, BadSentinelListsAreRefused) {
  EXPECT_FALSE(redis::ParseSentinels("", "giftcard").ok());
  EXPECT_FALSE(redis::ParseSentinels("127.0.0.1:1", "").ok());
  EXPECT_FALSE(redis::ParseSentinels("127.0.0.1:1,nohost", "giftcard").ok());
  absl::StatusOr<redis::Options> ok = redis::ParseSentinels("127.0.0.1:1, 127.0.0.1:2", "m");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->sentinels.size(), 2u);
}

}  // namespace
}  // namespace giftcard::testing

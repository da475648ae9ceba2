// redis::LoopClient against real Redis servers: answers on the loop, one
// turn's commands pipelined, EVALSHA falling back to EVAL after a script
// flush; a stalled server (CLIENT PAUSE) fails a command after
// command_timeout instead of holding it; a stopped one fails commands at
// once, and the client connects again when it is back.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "redis/loop_client.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

class RedisLoopClientTest : public ::testing::Test {
 protected:
  RedisLoopClientTest() { loop_.Start(); }
  ~RedisLoopClientTest() override {
    OnLoop([this] { client_.reset(); });
    loop_.Stop();
  }

  void Connect(int port) {
    redis::Options options;
    options.port = port;
    options.command_timeout = absl::Milliseconds(200);
    options.reconnect_backoff = absl::Milliseconds(50);
    OnLoop([&] { client_ = std::make_unique<redis::LoopClient>(loop_, options); });
  }

  void OnLoop(std::function<void()> fn) {
    absl::Notification done;
    loop_.Post([&] {
      fn();
      done.Notify();
    });
    done.WaitForNotification();
  }

  // Sends `commands` in one turn of the loop; their answers in order.
  std::vector<absl::StatusOr<redis::Reply>> Run(std::vector<std::vector<std::string>> commands) {
    std::vector<absl::StatusOr<redis::Reply>> out(commands.size(), absl::UnknownError("none"));
    absl::Notification all;
    size_t left = commands.size();
    loop_.Post([&] {
      for (size_t i = 0; i < commands.size(); ++i) {
        client_->Command(commands[i], [&, i](absl::StatusOr<redis::Reply> r) {
          EXPECT_TRUE(loop_.InLoopThread());
          out[i] = std::move(r);
          if (--left == 0) all.Notify();
        });
      }
    });
    EXPECT_TRUE(all.WaitForNotificationWithTimeout(absl::Seconds(10)));
    return out;
  }

  // Retries PING until the client is connected.
  bool AwaitConnected() {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      if (Run({{"PING"}})[0].ok()) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

  engine::Loop loop_{"redis-test"};
  std::unique_ptr<redis::LoopClient> client_;
};

TEST_F(RedisLoopClientTest, OneTurnsCommandsAreAnsweredInOrderAndScriptsLoadThemselves) {
  Connect(TestServers::Get().redis_port);
  ASSERT_TRUE(AwaitConnected());
  const std::string key = absl::StrCat("loop-test:", absl::ToUnixNanos(absl::Now()));
  auto replies = Run({{"SET", key, "1"}, {"INCR", key}, {"INCR", key}, {"GET", key}});
  ASSERT_TRUE(replies[3].ok()) << replies[3].status();
  EXPECT_EQ(replies[1]->integer, 2);
  EXPECT_EQ(replies[2]->integer, 3);
  EXPECT_EQ(replies[3]->str, "3");
  EXPECT_EQ(Run({{"NOSUCHCOMMAND"}})[0].status().code(), absl::StatusCode::kInternal);

  // After SCRIPT FLUSH the server no longer knows the script's SHA-1.
  static const redis::Script kAdd("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  ASSERT_TRUE(Run({{"SCRIPT", "FLUSH"}})[0].ok());
  absl::StatusOr<redis::Reply> added = absl::UnknownError("none");
  absl::Notification done;
  loop_.Post([&] {
    client_->Eval(kAdd, {key}, {"10"}, [&](absl::StatusOr<redis::Reply> r) {
      added = std::move(r);
      done.Notify();
    });
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->integer, 13);
}

// A script the server has never seen, then a command on the same key in
// the same turn: the command runs after the script, as issued. (The
// redemption guard's release is a script and the next call's SET NX must
// find the guard gone; with EVALSHA answered NOSCRIPT first and EVAL sent
// after the reply, the SET overtook the release.)
TEST_F(RedisLoopClientTest, AScriptTheServerHasNotLoadedStillRunsBeforeTheNextCommand) {
  Connect(TestServers::Get().redis_port);
  ASSERT_TRUE(AwaitConnected());
  const std::string key = absl::StrCat("loop-order:", absl::ToUnixNanos(absl::Now()));
  // A body no earlier run loaded: its SHA-1 is new to the server.
  const redis::Script release(absl::StrCat("-- ", key, "\nreturn redis.call('DEL', KEYS[1])"));
  ASSERT_TRUE(Run({{"SET", key, "held"}})[0].ok());

  absl::StatusOr<redis::Reply> released = absl::UnknownError("none");
  absl::StatusOr<redis::Reply> taken = absl::UnknownError("none");
  absl::Notification both;
  int left = 2;
  loop_.Post([&] {
    client_->Eval(release, {key}, {}, [&](absl::StatusOr<redis::Reply> r) {
      released = std::move(r);
      if (--left == 0) both.Notify();
    });
    client_->Command({"SET", key, "next", "NX"}, [&](absl::StatusOr<redis::Reply> r) {
      taken = std::move(r);
      if (--left == 0) both.Notify();
    });
  });
  ASSERT_TRUE(both.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(released->integer, 1);
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_EQ(taken->type, redis::Reply::Type::kStatus) << "the SET NX ran before the script";
  EXPECT_EQ(Run({{"GET", key}})[0]->str, "next");
}

// A command issued while the client is still connecting (a service's
// first call) waits for the connection instead of failing.
TEST_F(RedisLoopClientTest, ACommandWhileTheClientIsConnectingWaitsForTheConnection) {
  redis::Options options;
  options.port = TestServers::Get().redis_port;
  absl::StatusOr<redis::Reply> pong = absl::UnknownError("none");
  absl::Notification done;
  loop_.Post([&] {
    client_ = std::make_unique<redis::LoopClient>(loop_, options);
    ASSERT_FALSE(client_->connected());
    client_->Command({"PING"}, [&](absl::StatusOr<redis::Reply> r) {
      pong = std::move(r);
      done.Notify();
    });
  });
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(10)));
  ASSERT_TRUE(pong.ok()) << pong.status();
  EXPECT_EQ(pong->str, "PONG");
}

// A host that is a path is the server's Unix socket; losing the server
// and getting it back works there as over TCP.
TEST_F(RedisLoopClientTest, AUnixSocketServerAnswersAndIsFoundAgainAfterARestart) {
  RedisServer redis;
  redis::Options options;
  options.host = redis.socket_path();
  options.port = 0;
  options.command_timeout = absl::Milliseconds(200);
  options.reconnect_backoff = absl::Milliseconds(50);
  OnLoop([&] { client_ = std::make_unique<redis::LoopClient>(loop_, options); });
  ASSERT_TRUE(AwaitConnected());
  const std::string key = absl::StrCat("loop-unix:", absl::ToUnixNanos(absl::Now()));
  auto replies = Run({{"SET", key, "1"}, {"INCR", key}});
  ASSERT_TRUE(replies[1].ok()) << replies[1].status();
  EXPECT_EQ(replies[1]->integer, 2);
  redis.Stop();
  EXPECT_EQ(Run({{"PING"}})[0].status().code(), absl::StatusCode::kUnavailable);
  redis.Restart();
  EXPECT_TRUE(AwaitConnected());
}

TEST_F(RedisLoopClientTest, AStalledServerFailsACommandInTimeAndAStoppedOneUntilItIsBack) {
  RedisServer redis;
  Connect(redis.port());
  ASSERT_TRUE(AwaitConnected());
  // The server pauses every client for 3 s: the PING waits on it. Held, it
  // would succeed when the pause ends; the client gives up after its
  // 200 ms instead, and answers UNAVAILABLE.
  auto pause = Run({{"CLIENT", "PAUSE", "3000", "ALL"}});
  ASSERT_TRUE(pause[0].ok()) << pause[0].status();
  auto stalled = Run({{"PING"}});
  EXPECT_EQ(stalled[0].status().code(), absl::StatusCode::kUnavailable) << stalled[0].status();
  ASSERT_TRUE(AwaitConnected());  // Once the pause is over.

  redis.Stop();
  EXPECT_EQ(Run({{"PING"}})[0].status().code(), absl::StatusCode::kUnavailable);
  redis.Restart();
  EXPECT_TRUE(AwaitConnected());
}

}  // namespace
}  // namespace giftcard::testing

// A Redis client owned by an engine::Loop: hiredis's async context, its
// socket watched by the loop, every command answered on the loop's thread.
// Commands issued in one turn of the loop leave in one write and Redis
// answers them in one read: pipelining without asking for it.
//
// hiredis 0.14's async context has no timeouts: this client gives up on a
// connect or on a command whose answer is late (connect_timeout,
// command_timeout of Options) by dropping the connection, which fails
// everything pending as UNAVAILABLE; it connects again after
// reconnect_backoff. A command issued while a connect is under way waits
// for it (at most connect_timeout + command_timeout); with no connection and
// none under way (during the backoff) commands fail at once with
// UNAVAILABLE (callers treat Redis as a guard: they go on without it). With
// sentinels, a helper thread asks them for the master (blocking calls never
// run on the loop), and the server must say ROLE master before it is used;
// a READONLY reply (a master demoted by a failover) drops the connection.
#ifndef GIFTCARD_LIBS_REDIS_LOOP_CLIENT_H_
#define GIFTCARD_LIBS_REDIS_LOOP_CLIENT_H_

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "engine/loop.h"
#include "redis/client.h"

struct redisAsyncContext;

namespace giftcard::redis {

// A Lua script and the SHA-1 EVALSHA names it by, computed once.
struct Script {
  explicit Script(std::string body_in) : body(std::move(body_in)), sha1(ScriptSha1(body)) {}
  std::string body;
  std::string sha1;
};

class LoopClient {
 public:
  using Callback = absl::AnyInvocable<void(absl::StatusOr<Reply>) &&>;

  // Starts connecting at once.
  LoopClient(engine::Loop& loop, Options options);
  // On the loop's thread (or after it stopped): fails what is pending.
  ~LoopClient();
  LoopClient(const LoopClient&) = delete;
  LoopClient& operator=(const LoopClient&) = delete;

  // Loop thread. `done` runs on the loop, never inside this call. A Redis
  // error reply is INTERNAL; no connection, a lost one or a late answer is
  // UNAVAILABLE/DEPENDENCY_UNAVAILABLE.
  void Command(std::vector<std::string> args, Callback done);
  // EVAL on a script's first use on a connection (which loads it), EVALSHA
  // after; run in the order issued among this client's other commands.
  void Eval(const Script& script, std::vector<std::string> keys, std::vector<std::string> args,
            Callback done);

  bool connected() const { return ready_; }
  int64_t sentinel_lookups() const { return sentinel_lookups_.load(); }

 private:
  struct Pending;
  static void OnReply(redisAsyncContext* ctx, void* reply, void* privdata);
  static void OnConnect(const redisAsyncContext* ctx, int status);
  static void OnDisconnect(const redisAsyncContext* ctx, int status);

  void Connect();
  void StartConnect();  // connecting_ is already set.
  void BecomeReady();
  void ExpireHeld();
  void ReleaseHeld();
  void ConnectTo(const Address& address);
  void Drop(absl::string_view why);
  void Lost();
  void ScheduleReconnect();
  void CheckLate();
  void Send(const std::vector<std::string>& args, Pending* pending);

  engine::Loop& loop_;
  const Options options_;
  redisAsyncContext* ctx_ = nullptr;
  bool ready_ = false;       // Connected (and, with sentinels, a master).
  bool connecting_ = false;  // A connect or a sentinel lookup is due or under way.
  absl::Time connect_started_;
  // Commands sent and not answered, oldest first (their send times decide
  // when the connection counts as stalled).
  std::deque<Pending*> pending_;
  bool late_check_scheduled_ = false;
  // Commands waiting for the connect under way, oldest first.
  struct Held {
    std::vector<std::string> args;
    Callback done;
    absl::Time since;
  };
  std::deque<Held> held_;
  // SHA-1s of the scripts sent on the current connection.
  absl::flat_hash_set<std::string> scripts_sent_;
  bool held_expiry_scheduled_ = false;
  std::thread sentinel_lookup_;
  std::atomic<int64_t> sentinel_lookups_{0};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace giftcard::redis

#endif  // GIFTCARD_LIBS_REDIS_LOOP_CLIENT_H_

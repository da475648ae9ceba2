// A small blocking Redis client over hiredis: a fixed set of connections,
// connect and command timeouts, and reconnect after any I/O error (not more
// often than `reconnect_backoff`, so a dead Redis costs callers microseconds,
// not a connect timeout each). Redis is only ever a guard in this suite;
// callers treat UNAVAILABLE from here as "go on without it".
//
// With `sentinels`, the client finds the master through Redis Sentinel
// (hiredis has no Sentinel support): before each connect it asks the
// sentinels in turn for `SENTINEL get-master-addr-by-name master_name`,
// checks with ROLE that the server it reached is a master, and forgets the
// address after an I/O error or a READONLY reply (a master demoted by a
// failover), so the next connect asks again.
#ifndef GIFTCARD_LIBS_REDIS_CLIENT_H_
#define GIFTCARD_LIBS_REDIS_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

struct redisContext;
struct redisReply;

namespace giftcard::redis {

// A server: host and TCP port, or a Unix socket's path in `host` (it
// starts with '/', as libpq's host does; `port` is 0 then).
struct Address {
  std::string host;
  int port = 0;
  bool is_unix_socket() const { return !host.empty() && host.front() == '/'; }
  friend bool operator==(const Address& a, const Address& b) {
    return a.host == b.host && a.port == b.port;
  }
};

struct Options {
  // The server, when there are no sentinels (a host starting with '/' is a
  // Unix socket's path).
  std::string host = "127.0.0.1";
  int port = 6379;
  // Sentinels that know the master named `master_name`; empty: no Sentinel.
  std::vector<Address> sentinels = {};
  std::string master_name = "";
  int connections = 4;
  absl::Duration connect_timeout = absl::Milliseconds(200);
  absl::Duration command_timeout = absl::Milliseconds(200);
  absl::Duration reconnect_backoff = absl::Milliseconds(500);
};

// "host:port", or "unix:/path/to/redis.sock" (a Unix socket) → Options with
// defaults for the rest.
absl::StatusOr<Options> ParseAddress(const std::string& address);

// "host:port,host:port,…" and a master name → Options that find the master
// through those sentinels.
absl::StatusOr<Options> ParseSentinels(const std::string& sentinels,
                                       const std::string& master_name);

// A reply reduced to what this suite uses.
struct Reply {
  enum class Type { kNil, kString, kInteger, kStatus, kArray };
  Type type = Type::kNil;
  std::string str;
  int64_t integer = 0;
  std::vector<Reply> elements;
};

// hiredis's reply as a Reply (the blocking and the loop clients share it).
Reply ConvertReply(const redisReply* reply);
// The SHA-1 EVALSHA names `script` by, in hex.
std::string ScriptSha1(const std::string& script);
// Asks the sentinels of `options` in turn for the master's address;
// blocking (connect and command timeouts of `options`).
absl::StatusOr<Address> AskSentinelsForMaster(const Options& options);

class Client {
 public:
  explicit Client(Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends one command (binary-safe arguments). A Redis error reply is
  // INTERNAL; a lost or unreachable server is UNAVAILABLE/DEPENDENCY_UNAVAILABLE.
  absl::StatusOr<Reply> Command(const std::vector<std::string>& args);

  // Sends every command in one round trip (pipelined); one result per
  // command, in order. A lost or unreachable server fails them all.
  std::vector<absl::StatusOr<Reply>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);

  // SET key value NX PX ttl: true when this call set the key.
  absl::StatusOr<bool> SetIfAbsent(const std::string& key, const std::string& value,
                                   absl::Duration ttl);

  // Runs a Lua script by its SHA1 (EVALSHA), loading it on NOSCRIPT.
  absl::StatusOr<Reply> Eval(const std::string& script, const std::vector<std::string>& keys,
                             const std::vector<std::string>& args);

  // The same script once per key set, all in one round trip.
  std::vector<absl::StatusOr<Reply>> EvalEach(const std::string& script,
                                              const std::vector<std::vector<std::string>>& keys,
                                              const std::vector<std::string>& args);

  // One script call: its keys and its arguments.
  struct ScriptCall {
    std::vector<std::string> keys;
    std::vector<std::string> args;
  };
  // The same script once per call, each with its own arguments, all in one
  // round trip.
  std::vector<absl::StatusOr<Reply>> EvalEach(const std::string& script,
                                              const std::vector<ScriptCall>& calls);

  // The EVALSHA command of one script call, for a caller's own Pipeline;
  // a reply that says NOSCRIPT (IsNoScript) means the server has not loaded
  // the script: EvalEach loads it.
  static std::vector<std::string> EvalShaCommand(const std::string& script, const ScriptCall& call);
  static bool IsNoScript(const absl::StatusOr<Reply>& reply);

  absl::Status Ping();

  // The server this client connects to next (with sentinels: the master
  // they named last, or nullopt before it has asked them).
  std::optional<Address> CurrentServer();

  // How many times the client asked the sentinels for the master.
  int64_t sentinel_lookups() const { return sentinel_lookups_.load(); }

 private:
  struct Conn {
    redisContext* ctx = nullptr;
    absl::Time next_connect_attempt = absl::InfinitePast();
  };
  absl::StatusOr<Conn*> Acquire();
  void Release(Conn* conn);
  absl::Status EnsureConnected(Conn& conn);
  // The server to connect to: options' own, or the master the sentinels name.
  absl::StatusOr<Address> Target();
  absl::StatusOr<Address> AskSentinels();
  // After a failure: drop the connection, forget the master's address.
  void Drop(Conn& conn);

  const Options options_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> free_ ABSL_GUARDED_BY(mu_);
  absl::Mutex master_mu_;
  std::optional<Address> master_ ABSL_GUARDED_BY(master_mu_);
  std::atomic<int64_t> sentinel_lookups_{0};
};

}  // namespace giftcard::redis

#endif  // GIFTCARD_LIBS_REDIS_CLIENT_H_

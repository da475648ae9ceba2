// The highly available engines of deploy/local/ha.sh for one test: an etcd,
// one Patroni cluster of three Postgres nodes per service (synchronous_mode)
// and a Redis master with a replica under three Sentinels, all on loopback
// in a directory of their own, stopped and deleted with this object. A test
// that fails Redis over only may take one plain Postgres instead, and
// spare itself the clusters' start and stop.
#ifndef GIFTCARD_TESTS_HA_HA_ENGINES_H_
#define GIFTCARD_TESTS_HA_HA_ENGINES_H_

#include <string>

#include "support/harness.h"

namespace giftcard::testing {

class HaEngines {
 public:
  // The Patroni clusters, one per service, named as the services are.
  static constexpr const char* kScopes[] = {"account-credit", "code-vault", "billing"};

  enum class Postgres {
    kPatroni,    // etcd and the Patroni clusters.
    kOneServer,  // One Postgres server with a database per service.
    kNone,       // No Postgres at all.
  };
  explicit HaEngines(Postgres postgres = Postgres::kPatroni);
  ~HaEngines();
  HaEngines(const HaEngines&) = delete;
  HaEngines& operator=(const HaEngines&) = delete;

  // A libpq multi-host DSN of `scope`'s nodes that finds its primary
  // (target_session_attrs=read-write), on the service's own database.
  std::string Dsn(const std::string& scope) const;
  // The same nodes, preferring a standby (target_session_attrs=prefer-standby).
  std::string StandbyDsn(const std::string& scope) const;
  // Pauses (or resumes) WAL replay on every standby of `scope`: they keep
  // receiving and flushing (so synchronous commits go on) but show nothing
  // new, as a standby that lags would. The cluster is in Patroni's
  // maintenance mode meanwhile (Patroni would resume the replay itself).
  void PauseReplay(const std::string& scope, bool pause);
  // "127.0.0.1:P1,…" of the three Sentinels.
  std::string Sentinels() const;

  // The number (1..3) of the node that leads `scope` now; 0 if none does.
  int Leader(const std::string& scope);
  // kill -9 to node `node` of `scope`: Patroni, its postmaster, its backends.
  void KillNode(const std::string& scope, int node);
  // Starts node `node` again as a fresh machine would join (no data: it
  // copies the leader's).
  void ReplaceNode(const std::string& scope, int node);
  // A leader that takes writes, a synchronous standby and every node running.
  bool WaitHealthy(const std::string& scope, int seconds = 90);
  // `patronictl switchover` from the leader to another member, now; "" when
  // patronictl said it was done, else what it printed.
  std::string Switchover(const std::string& scope);
  // patronictl's table of `scope`.
  std::string List(const std::string& scope);

  // The port of the Redis master the Sentinels name now.
  int RedisMasterPort();
  // kill -9 to the Redis master.
  void KillRedisMaster();
  // Every Sentinel names a master with a replica in sync.
  bool WaitRedisHealthy(int seconds = 30);
  // The port of the Redis replica now (the server that is not the master).
  int RedisReplicaPort();

  const std::string& dir() const { return dir_; }

 private:
  // Runs `script` in bash with servers.sh and ha.sh sourced.
  ShellRun RunHa(const std::string& script) const;
  // RunHa's stdout; a failure fails the test when `expect_ok`.
  std::string Ha(const std::string& script, bool expect_ok = true);
  std::string dir_;
  Postgres postgres_;
};

}  // namespace giftcard::testing

#endif  // GIFTCARD_TESTS_HA_HA_ENGINES_H_

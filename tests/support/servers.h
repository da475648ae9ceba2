// The test servers: the fixture's Postgres and Redis (tests/fixtures/servers.sh),
// private ones for tests that stop them, and throwaway TLS material.
#ifndef GIFTCARD_TESTS_SUPPORT_SERVERS_H_
#define GIFTCARD_TESTS_SUPPORT_SERVERS_H_

#include <string>

namespace giftcard::testing {

// The fixture's servers (tests/fixtures/servers.sh), from $GIFTCARD_TEST_ENV.
struct TestServers {
  int pg_port = 0;
  int redis_port = 0;
  static const TestServers& Get();
};

// A private Postgres cluster, for tests that stop and restart it.
class PgCluster {
 public:
  PgCluster();
  ~PgCluster();
  int port() const { return port_; }
  void Stop(const std::string& mode = "fast");
  void Restart();
  // While it lives, the postmaster and every backend are SIGSTOPped: a
  // database that stops answering while its sockets stay open (a stall, not
  // a crash). Thaw() or the end of its scope sends SIGCONT; declare it after
  // anything whose destructor talks to this database.
  class Frozen {
   public:
    explicit Frozen(PgCluster& pg) : pg_(&pg) { pg_->SignalAll("STOP"); }
    ~Frozen() { Thaw(); }
    Frozen(const Frozen&) = delete;
    Frozen& operator=(const Frozen&) = delete;
    void Thaw() {
      if (pg_ != nullptr) pg_->SignalAll("CONT");
      pg_ = nullptr;
    }

   private:
    PgCluster* pg_;
  };

 private:
  void SignalAll(const char* signal);
  std::string dir_;
  int port_ = 0;
};

// A private Redis, for tests that stop and restart it (on the same port).
class RedisServer {
 public:
  RedisServer();
  ~RedisServer();
  int port() const { return port_; }
  // It listens on this Unix socket too.
  std::string socket_path() const { return dir_ + "/redis.sock"; }
  void Stop();
  void Restart();

 private:
  std::string dir_;
  int port_ = 0;
};

// Makes throwaway TLS material (deploy/local/certs.sh) in a new directory.
std::string MakeCerts(const std::string& ca_name);

// Path of the fixture script library (deploy/local/servers.sh).
std::string ServersScript();

}  // namespace giftcard::testing

#endif  // GIFTCARD_TESTS_SUPPORT_SERVERS_H_

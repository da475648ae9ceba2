// The start every service's main.cc shares, so that main.cc keeps only what
// differs between the services. In order: termination signals held for the
// server, broken pipes ignored, crash reports, flags parsed, the log's
// service name, the CPUs pinned, the service's own flags checked; then the
// serving options, the callers' authorizer, the call runner's options and
// the database's DSN, migrated. Configuration errors stop the start before
// any database work.
#ifndef GIFTCARD_LIBS_SERVICE_START_SERVICE_START_H_
#define GIFTCARD_LIBS_SERVICE_START_SERVICE_START_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "auth/authorizer.h"
#include "engine/loop.h"
#include "pg/loop_client.h"
#include "pg/migrations.h"
#include "pg/pool.h"
#include "server/bootstrap.h"
#include "server/call_runner.h"

namespace giftcard::service_start {

// Exit codes of a start that stops.
inline constexpr int kExitBadConfiguration = 2;
inline constexpr int kExitNoDatabase = 1;

struct ServiceOptions {
  std::string name;                 // "code-vault": the log's service name.
  std::string about;                // --help's first line.
  bool disable_core_dumps = false;  // For a process that PINs pass through.
  std::string grpc_service_name;    // giftcard.v1.CodeVault: registered with health.
  std::vector<pg::Migration> migrations;
  int64_t migration_lock_key = 0;
  absl::Duration migration_timeout = absl::Seconds(60);  // A database starting beside us.
  // The service's own flags, checked once parsed and before any database
  // work; false stops the start (it has logged why).
  std::function<bool()> check_flags = [] { return true; };
};

struct Service {
  server::ServeOptions serve;
  std::unique_ptr<auth::Authorizer> authorizer;  // Outlives the server.
  server::CallRunnerOptions call_options;
  std::string dsn;  // Of the primary, migrated.
};
// The service's configuration and its migrated database, or nothing and
// `*exit_code` (kExitBadConfiguration or kExitNoDatabase), already logged.
std::optional<Service> StartService(int argc, char** argv, const ServiceOptions& options,
                                    int* exit_code);

// The primary's connection pool and, with --pg_standby_dsn, a standby's,
// each prepared with `statements`.
struct Databases {
  std::unique_ptr<pg::Pool> primary;
  std::unique_ptr<pg::Pool> standby;  // Null without --pg_standby_dsn.
  // Where reads that may lag go: the standby when there is one.
  pg::Pool& reads() { return standby ? *standby : *primary; }
  // The grace period ran out: every connection lets go at once.
  void Abandon();
};
Databases OpenDatabases(const std::string& dsn, const std::vector<pg::Statement>& statements);

// Serves `services` until SIGTERM (server::Serve); health asks the database
// on a connection of its own, under a deadline this process keeps, so a
// stalled Postgres is NOT_SERVING within about 2 s. The exit code.
int ServeWithDatabaseHealth(const server::ServeOptions& serve,
                            const std::vector<grpc::Service*>& services, const std::string& dsn);

// An engine's loop and the non-blocking Postgres connections it owns. A
// service's engine derives from it and adds its stores and peers, which are
// destroyed before these connections, and those before the loop.
class Engine {
 public:
  explicit Engine(const std::string& thread_name) : loop_(thread_name) {}
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  engine::Loop& loop() { return loop_; }
  // A connection the loop owns, with the pools' session settings and then
  // `extra_setup` ("; SET …").
  pg::LoopClient& ConnectPostgres(const std::string& dsn, std::vector<pg::Statement> statements,
                                  const std::string& extra_setup = "");
  // Exports the loop's metrics and starts its thread.
  void Run();
  // The grace period ran out: every connection lets go at once.
  void AbandonConnections();
  // The server has drained: no call is on the engine any more.
  void Stop() { loop_.Stop(); }

 private:
  engine::Loop loop_;
  std::vector<std::unique_ptr<pg::LoopClient>> postgres_;
};

// How a handler hands work to an engine's loop from any thread: now, or
// after a delay (the loop's timers, not a sleeping thread).
struct EngineRunners {
  std::function<void(absl::AnyInvocable<void() &&>)> run;
  std::function<void(absl::Duration, absl::AnyInvocable<void() &&>)> run_after;
};
EngineRunners RunOn(engine::Loop& loop);

}  // namespace giftcard::service_start

#endif  // GIFTCARD_LIBS_SERVICE_START_SERVICE_START_H_

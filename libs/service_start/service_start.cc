#include "service_start/service_start.h"

#include <utility>

#include "auth/serving.h"
#include "config/config.h"
#include "log/log.h"
#include "pg/health_probe.h"
#include "server/engine_calls.h"
#include "server/flags.h"

namespace giftcard::service_start {

namespace {

bool StartProcess(int argc, char** argv, const ServiceOptions& options) {
  server::BlockTerminationSignals();
  server::IgnoreBrokenPipes();
  server::ReportCrashes();
  if (options.disable_core_dumps) server::DisableCoreDumps();
  config::ParseFlags(argc, argv, options.about);
  log::SetServiceName(options.name);
  return server::PinToCpusFromFlag() && options.check_flags();
}

}  // namespace

std::optional<Service> StartService(int argc, char** argv, const ServiceOptions& options,
                                    int* exit_code) {
  *exit_code = kExitBadConfiguration;
  if (!StartProcess(argc, argv, options)) return std::nullopt;
  Service service;
  service.serve = server::ServeOptionsFromFlags(options.name);
  service.serve.grpc_service_name = options.grpc_service_name;
  absl::StatusOr<std::unique_ptr<auth::Authorizer>> authorizer =
      auth::AuthorizerForServing(service.serve);
  if (!authorizer.ok()) return std::nullopt;
  service.authorizer = *std::move(authorizer);
  std::optional<server::CallRunnerOptions> call_options = server::CallRunnerOptionsFromFlags();
  if (!call_options) return std::nullopt;
  service.call_options = *std::move(call_options);
  std::optional<std::string> dsn = server::RequiredPgDsn();
  if (!dsn) return std::nullopt;
  service.dsn = *std::move(dsn);
  if (!pg::MigrateWithRetry(service.dsn, options.migrations, options.migration_lock_key,
                            options.migration_timeout)
           .ok()) {
    *exit_code = kExitNoDatabase;
    return std::nullopt;
  }
  return service;
}

void Databases::Abandon() {
  primary->Abandon();
  if (standby) standby->Abandon();
}

Databases OpenDatabases(const std::string& dsn, const std::vector<pg::Statement>& statements) {
  Databases databases;
  databases.primary = std::make_unique<pg::Pool>(
      pg::PoolOptions{.dsn = dsn, .size = server::PgPoolSizeFlag()}, statements);
  if (const std::string standby_dsn = server::PgStandbyDsnFlag(); !standby_dsn.empty()) {
    databases.standby = std::make_unique<pg::Pool>(
        pg::PoolOptions{.dsn = standby_dsn, .size = server::PgPoolSizeFlag()}, statements);
  }
  return databases;
}

int ServeWithDatabaseHealth(const server::ServeOptions& serve,
                            const std::vector<grpc::Service*>& services, const std::string& dsn) {
  pg::HealthProbe database(dsn, absl::Milliseconds(1500));
  return server::Serve(serve, services, [&database] { return database.Check(); });
}

pg::LoopClient& Engine::ConnectPostgres(const std::string& dsn,
                                        std::vector<pg::Statement> statements,
                                        const std::string& extra_setup) {
  postgres_.push_back(std::make_unique<pg::LoopClient>(
      loop_, pg::LoopClientOptions{.dsn = dsn,
                                   .statements = std::move(statements),
                                   .setup_sql = pg::SessionSettings({}) + extra_setup}));
  return *postgres_.back();
}

void Engine::Run() {
  server::ExportEngineMetrics(loop_);
  loop_.Start();
}

void Engine::AbandonConnections() {
  if (postgres_.empty()) return;
  loop_.Post([this] {
    for (const auto& client : postgres_) client->Abandon();
  });
}

EngineRunners RunOn(engine::Loop& loop) {
  return {.run = [&loop](absl::AnyInvocable<void() &&> task) { loop.Post(std::move(task)); },
          .run_after =
              [&loop](absl::Duration delay, absl::AnyInvocable<void() &&> task) {
                loop.Post([&loop, delay, task = std::move(task)]() mutable {
                  loop.RunAfter(delay, std::move(task));
                });
              }};
}

}  // namespace giftcard::service_start

// code-vault: codes, batches and redemptions. Wiring only.
#include <memory>

#include "absl/flags/flag.h"
#include "auth/serving.h"
#include "backlog/backlog.h"
#include "batch/batcher.h"
#include "codes/hasher.h"
#include "config/config.h"
#include "engine/loop.h"
#include "errors/status.h"
#include "log/log.h"
#include "metrics/registry.h"
#include "outbox/event_log.h"
#include "outbox/runtime.h"
#include "pg/health_probe.h"
#include "pg/loop_client.h"
#include "pg/migrations.h"
#include "pg/pool.h"
#include "redis/client.h"
#include "redis/loop_client.h"
#include "server/bootstrap.h"
#include "server/client.h"
#include "server/engine_calls.h"
#include "server/flags.h"
#include "server/periodic.h"
#include "services/code_vault/api/code_vault_handler.h"
#include "services/code_vault/code_vault_migrations.h"
#include "services/code_vault/domain/attempt_limiters.h"
#include "services/code_vault/domain/vault_service.h"
#include "services/code_vault/peers/account_credit_gateway.h"
#include "services/code_vault/peers/loop_account_credit.h"
#include "services/code_vault/storage/backlog_sql.h"
#include "services/code_vault/storage/loop_admission.h"
#include "services/code_vault/storage/loop_redemption_store.h"
#include "services/code_vault/storage/pg_audit_facts.h"
#include "services/code_vault/storage/pg_code_store.h"
#include "services/code_vault/storage/pg_report_store.h"
#include "services/code_vault/storage/redis_attempt_limiter.h"
#include "services/code_vault/storage/redis_redemption_guard.h"

ABSL_FLAG(std::string, pepper_keys, "",
          "HMAC pepper keys 'kid:hex[,kid:hex]', active first; set it through the environment "
          "(GIFTCARD_PEPPER_KEYS), not the command line");
ABSL_FLAG(std::string, redis_address, "127.0.0.1:6379",
          "Redis host:port, or unix:/path/to/redis.sock (the redemption guard)");
ABSL_FLAG(std::string, redis_sentinels, "",
          "Redis Sentinels host:port,host:port,...: find the master through them (instead of "
          "--redis_address) and follow its failovers");
ABSL_FLAG(std::string, redis_master_name, "giftcard",
          "the name the sentinels know the master by (with --redis_sentinels)");
ABSL_FLAG(std::string, account_credit_address, "127.0.0.1:50052", "account-credit host:port");
ABSL_FLAG(std::string, account_credit_token, "",
          "this service's bearer token towards account-credit");
ABSL_FLAG(absl::Duration, credit_timeout, absl::Seconds(3), "deadline of each CreditAccount call");
ABSL_FLAG(int, max_failures_per_account, 10,
          "unknown codes an account may try per window before TOO_MANY_ATTEMPTS");
ABSL_FLAG(int, max_failures_per_client, 50,
          "unknown codes a client address may try per window before TOO_MANY_ATTEMPTS");
ABSL_FLAG(absl::Duration, failed_attempts_window, absl::Minutes(15),
          "length of the window in which failed attempts are counted");
ABSL_FLAG(absl::Duration, recovery_interval, absl::Seconds(5),
          "how often the recovery worker looks for PENDING redemptions");
ABSL_FLAG(bool, engine, true,
          "run RedeemCode, CheckCode and GetCodeStatus on one event-loop thread (libs/engine) with "
          "non-blocking Postgres, "
          "Redis and account-credit connections, instead of the call runner's workers");
ABSL_FLAG(bool, completion_commit_without_flush, false,
          "engine: mark redemptions COMPLETED on a connection that commits without waiting for "
          "the WAL flush (synchronous_commit = off); a completion lost in a Postgres crash is "
          "finished by the recovery worker, since the credit itself is durable. Off: measured "
          "no gain (docs/decisions.md)");
ABSL_FLAG(bool, answer_before_completion, false,
          "answer a redemption once account-credit holds its credit, and mark it COMPLETED after "
          "(batched on the engine); a completion that fails is finished by the recovery worker. "
          "Off: measured no gain, and a status read right after the answer may still see "
          "REDEEMING (docs/decisions.md)");
ABSL_FLAG(absl::Duration, recovery_min_age, absl::Seconds(10),
          "a PENDING redemption younger than this is left to its own call");

int main(int argc, char** argv) {
  using namespace giftcard;
  server::BlockTerminationSignals();
  server::IgnoreBrokenPipes();
  server::ReportCrashes();
  server::DisableCoreDumps();  // PINs pass through this process's memory.
  config::ParseFlags(argc, argv, "code-vault: gift-card codes and redemptions");
  log::SetServiceName("code-vault");
  if (!server::PinToCpusFromFlag()) return 2;

  absl::StatusOr<codes::CodeHasher> hasher =
      codes::CodeHasher::FromSpec(absl::GetFlag(FLAGS_pepper_keys));
  if (!hasher.ok()) {
    log::Error("bad_pepper_keys", {{"status", errors::Describe(hasher.status())}});
    return 2;
  }
  const std::string sentinels = absl::GetFlag(FLAGS_redis_sentinels);
  absl::StatusOr<redis::Options> redis_options =
      sentinels.empty() ? redis::ParseAddress(absl::GetFlag(FLAGS_redis_address))
                        : redis::ParseSentinels(sentinels, absl::GetFlag(FLAGS_redis_master_name));
  if (!redis_options.ok()) {
    log::Error("bad_redis_address", {{"status", errors::Describe(redis_options.status())}});
    return 2;
  }

  // Configuration errors stop the start before any database work.
  server::ServeOptions serve = server::ServeOptionsFromFlags("code-vault");
  serve.grpc_service_name = giftcard::v1::CodeVault::service_full_name();
  absl::StatusOr<std::unique_ptr<auth::Authorizer>> authorizer = auth::AuthorizerForServing(serve);
  if (!authorizer.ok()) return 2;
  std::optional<server::CallRunnerOptions> call_options = server::CallRunnerOptionsFromFlags();
  if (!call_options) return 2;
  const std::optional<std::string> pg_dsn = server::RequiredPgDsn();
  if (!pg_dsn) return 2;
  const std::string& dsn = *pg_dsn;
  if (!pg::MigrateWithRetry(dsn, code_vault::Migrations(), code_vault::kMigrationLockKey,
                            absl::Seconds(60))
           .ok())
    return 1;
  const std::vector<pg::Statement> statements =
      pg::JoinStatements({outbox::EventLog::Statements(), code_vault::PgCodeStore::Statements(),
                          code_vault::AuditStatements(), code_vault::PgReportStore::Statements(),
                          code_vault::BacklogStatements()});
  pg::Pool pool({.dsn = dsn, .size = server::PgPoolSizeFlag()}, statements);
  std::unique_ptr<pg::Pool> standby;
  if (const std::string standby_dsn = server::PgStandbyDsnFlag(); !standby_dsn.empty()) {
    standby = std::make_unique<pg::Pool>(
        pg::PoolOptions{.dsn = standby_dsn, .size = server::PgPoolSizeFlag()}, statements);
  }
  code_vault::PgCodeStore store(pool,
                                {.max_batch = server::SqlMaxBatchFlag(), .standby = standby.get()});
  redis::Client redis_client(*redis_options);
  code_vault::RedisRedemptionGuard guard(redis_client);
  code_vault::AccountCreditGateway credit(
      server::MakeChannel(absl::GetFlag(FLAGS_account_credit_address), server::PeerTlsFromFlags()),
      absl::GetFlag(FLAGS_account_credit_token), absl::GetFlag(FLAGS_credit_timeout),
      {.max_batch = server::SqlMaxBatchFlag()});
  const absl::Duration window = absl::GetFlag(FLAGS_failed_attempts_window);
  code_vault::RedisAttemptLimiter redis_limiter(redis_client, window);
  code_vault::InProcessAttemptLimiter local_limiter(window);
  code_vault::FallbackAttemptLimiter limiter(redis_limiter, local_limiter);
  code_vault::VaultService::Options options;
  options.max_failures_per_account = absl::GetFlag(FLAGS_max_failures_per_account);
  options.max_failures_per_client = absl::GetFlag(FLAGS_max_failures_per_client);
  options.answer_before_completion = absl::GetFlag(FLAGS_answer_before_completion);
  // Outlives the handler; its workers stop once the server has drained.
  // The outbox's relay and WatchEvents (the event types of schema/008_events.sql).
  outbox::Runtime events(pool, {.types = {"code.activated", "code.redeemed", "code.blocked",
                                          "code.unblocked", "code.voided"},
                                .relay_interval = server::EventRelayIntervalFlag(),
                                .retention = server::EventRetentionFlag()});
  serve.on_shutdown = [&events] { events.Stop(); };
  backlog::Gauges backlog_gauges(pool, code_vault::BacklogStatements(),
                                 server::BacklogIntervalFlag());
  server::CallRunner calls(std::move(*call_options));
  code_vault::VaultService service(store, guard, credit, limiter, *hasher, options);
  code_vault::PgReportStore report_store(standby ? *standby : pool);
  code_vault::ReportService reports(report_store);
  code_vault::CodeVaultHandler handler(
      service, reports, **authorizer, [&pool] { return code_vault::ReadAuditFacts(pool); }, calls,
      events.watch());
  // The engine: RedeemCode from the handler to the answer on one thread
  // that owns its connections (docs/decisions.md, "One engine per service").
  // Its parts are destroyed after the loop has stopped.
  engine::Loop loop("vault-engine");
  std::unique_ptr<pg::LoopClient> engine_pg;
  std::unique_ptr<pg::LoopClient> engine_pg_completions;
  std::unique_ptr<pg::LoopClient> engine_pg_standby;
  std::unique_ptr<redis::LoopClient> engine_redis;
  std::unique_ptr<code_vault::LoopRedemptionStore> engine_store;
  std::unique_ptr<code_vault::LoopAdmission> engine_admission;
  std::unique_ptr<code_vault::LoopAccountCredit> engine_credit;
  if (absl::GetFlag(FLAGS_engine)) {
    engine_pg = std::make_unique<pg::LoopClient>(
        loop, pg::LoopClientOptions{.dsn = dsn,
                                    .statements = code_vault::LoopRedemptionStore::Statements(),
                                    .setup_sql = pg::SessionSettings({})});
    if (absl::GetFlag(FLAGS_completion_commit_without_flush)) {
      engine_pg_completions = std::make_unique<pg::LoopClient>(
          loop, pg::LoopClientOptions{
                    .dsn = dsn,
                    .statements = code_vault::LoopRedemptionStore::Statements(),
                    .setup_sql = pg::SessionSettings({}) + "; SET synchronous_commit = off"});
    }
    if (const std::string standby_dsn = server::PgStandbyDsnFlag(); !standby_dsn.empty()) {
      engine_pg_standby = std::make_unique<pg::LoopClient>(
          loop,
          pg::LoopClientOptions{.dsn = standby_dsn,
                                .statements = code_vault::LoopRedemptionStore::StatusStatements(),
                                .setup_sql = pg::SessionSettings({})});
    }
    engine_redis = std::make_unique<redis::LoopClient>(loop, *redis_options);
    engine_store = std::make_unique<code_vault::LoopRedemptionStore>(
        loop, *engine_pg,
        code_vault::LoopRedemptionStore::Options{
            .max_batch = static_cast<size_t>(server::SqlMaxBatchFlag()),
            .completion_client = engine_pg_completions.get(),
            .status_client = engine_pg_standby.get(),
            .on_batch = [](const std::string& stage) { return batch::SizeObserver(stage); }});
    engine_admission = std::make_unique<code_vault::LoopAdmission>(*engine_redis, limiter, window);
    engine_credit = std::make_unique<code_vault::LoopAccountCredit>(
        loop,
        server::MakeChannel(absl::GetFlag(FLAGS_account_credit_address),
                            server::PeerTlsFromFlags()),
        absl::GetFlag(FLAGS_account_credit_token), absl::GetFlag(FLAGS_credit_timeout),
        code_vault::LoopAccountCredit::Options{.max_batch =
                                                   static_cast<size_t>(server::SqlMaxBatchFlag())});
    server::ExportEngineMetrics(loop);
    loop.Start();
    handler.UseEngine(
        {.run = [&loop](absl::AnyInvocable<void() &&> task) { loop.Post(std::move(task)); },
         .ports = {*engine_admission, *engine_store, *engine_credit},
         .reads = *engine_store});
  }
  metrics::Global().AddCallback("giftcard_redis_guard_bypasses_total",
                                "Redemptions that went on without the Redis guard (Redis down).",
                                "counter", [&service] { return service.guard_bypass_count(); });
  metrics::Global().AddCallback("giftcard_redis_limiter_fallbacks_total",
                                "Attempt-limit checks done in process because Redis was down.",
                                "counter", [&limiter] { return limiter.fallback_count(); });
  metrics::Global().AddCallback(
      "giftcard_redis_sentinel_lookups_total",
      "Times the Redis client asked the Sentinels for the master (start-up, then after each "
      "failover or lost master); 0 without --redis_sentinels.",
      "counter", [&redis_client, &engine_redis] {
        return redis_client.sentinel_lookups() +
               (engine_redis ? engine_redis->sentinel_lookups() : 0);
      });
  metrics::Global().AddCallback(
      "giftcard_saga_unknown_outcomes_total",
      "Credit calls whose outcome stayed unknown; the redemption stays PENDING and is retried.",
      "counter", [&service] { return service.unknown_outcome_count(); });
  server::PeriodicTask recovery(
      "redemption-recovery", absl::GetFlag(FLAGS_recovery_interval),
      server::CountedRecoveryPass([&service, min_age = absl::GetFlag(FLAGS_recovery_min_age)] {
        return service.RecoverPending(min_age, 100);
      }));
  // Health follows Postgres only: Redis down degrades the guard, not the service.
  serve.on_grace_expired = [&pool, &standby, &loop, &engine_pg, &engine_pg_completions,
                            &engine_pg_standby] {
    pool.Abandon();
    if (standby) standby->Abandon();
    loop.Post([&engine_pg, &engine_pg_completions, &engine_pg_standby] {
      for (auto* client : {&engine_pg, &engine_pg_completions, &engine_pg_standby}) {
        if (*client) (*client)->Abandon();
      }
    });
  };
  // Health asks the database on a connection of its own, under a deadline
  // this process keeps: a stalled Postgres is NOT_SERVING within ~2 s.
  pg::HealthProbe database(dsn, absl::Milliseconds(1500));
  const int exit_code = server::Serve(serve, {&handler}, [&database] { return database.Check(); });
  loop.Stop();  // The server has drained: no call is on the engine any more.
  return exit_code;
}

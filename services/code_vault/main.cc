// code-vault: codes, batches and redemptions. Wiring only.
#include <memory>

#include "absl/flags/flag.h"
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
#include "pg/loop_client.h"
#include "pg/pool.h"
#include "redis/client.h"
#include "redis/loop_client.h"
#include "server/bootstrap.h"
#include "server/client.h"
#include "server/flags.h"
#include "server/periodic.h"
#include "service_start/service_start.h"
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
ABSL_FLAG(bool, answer_before_completion, true,
          "answer a redemption once account-credit holds its credit and its completion is sent, "
          "ordered before anything this replica runs next (batched on the engine); a completion "
          "that fails is finished by the recovery worker. Off: answer once it has committed "
          "(docs/decisions.md)");
ABSL_FLAG(absl::Duration, recovery_min_age, absl::Seconds(10),
          "a PENDING redemption younger than this is left to its own call");

namespace {

using namespace giftcard;

// code-vault's own flags, read and checked before any database work.
struct VaultFlags {
  absl::StatusOr<codes::CodeHasher> hasher = absl::UnknownError("not read");
  absl::StatusOr<redis::Options> redis_options = absl::UnknownError("not read");

  bool Read() {
    hasher = codes::CodeHasher::FromSpec(absl::GetFlag(FLAGS_pepper_keys));
    if (!hasher.ok()) {
      log::Error("bad_pepper_keys", {{"status", errors::Describe(hasher.status())}});
      return false;
    }
    const std::string sentinels = absl::GetFlag(FLAGS_redis_sentinels);
    redis_options = sentinels.empty()
                        ? redis::ParseAddress(absl::GetFlag(FLAGS_redis_address))
                        : redis::ParseSentinels(sentinels, absl::GetFlag(FLAGS_redis_master_name));
    if (!redis_options.ok()) {
      log::Error("bad_redis_address", {{"status", errors::Describe(redis_options.status())}});
      return false;
    }
    return true;
  }
};

code_vault::VaultService::Options VaultOptionsFromFlags() {
  code_vault::VaultService::Options options;
  options.max_failures_per_account = absl::GetFlag(FLAGS_max_failures_per_account);
  options.max_failures_per_client = absl::GetFlag(FLAGS_max_failures_per_client);
  options.answer_before_completion = absl::GetFlag(FLAGS_answer_before_completion);
  return options;
}

// Failed attempts counted in Redis, and in the process while Redis is down.
struct Limiters {
  explicit Limiters(redis::Client& client)
      : window(absl::GetFlag(FLAGS_failed_attempts_window)),
        redis(client, window),
        local(window),
        fallback(redis, local) {}
  const absl::Duration window;
  code_vault::RedisAttemptLimiter redis;
  code_vault::InProcessAttemptLimiter local;
  code_vault::FallbackAttemptLimiter fallback;
};

// The engine: RedeemCode, CheckCode and GetCodeStatus from the handler to
// the answer on one thread that owns its connections (docs/decisions.md,
// "One engine per service"), and the ports the saga runs against there. Its
// parts are destroyed after the loop has stopped.
struct VaultEngine : service_start::Engine {
  VaultEngine() : Engine("vault-engine") {}
  std::unique_ptr<redis::LoopClient> redis_loop;
  std::unique_ptr<code_vault::LoopRedemptionStore> store;
  std::unique_ptr<code_vault::LoopAdmission> admission;
  std::unique_ptr<code_vault::LoopAccountCredit> credit;

  void Start(const std::string& dsn, const redis::Options& redis_options,
             code_vault::FallbackAttemptLimiter& limiter, absl::Duration window) {
    pg::LoopClient& postgres = ConnectPostgres(dsn, code_vault::LoopRedemptionStore::Statements());
    pg::LoopClient* completions = nullptr;  // --completion_commit_without_flush
    if (absl::GetFlag(FLAGS_completion_commit_without_flush)) {
      completions = &ConnectPostgres(dsn, code_vault::LoopRedemptionStore::Statements(),
                                     "; SET synchronous_commit = off");
    }
    pg::LoopClient* standby = nullptr;  // Status reads, with --pg_standby_dsn.
    if (const std::string standby_dsn = server::PgStandbyDsnFlag(); !standby_dsn.empty()) {
      standby = &ConnectPostgres(standby_dsn, code_vault::LoopRedemptionStore::StatusStatements());
    }
    redis_loop = std::make_unique<redis::LoopClient>(loop(), redis_options);
    const size_t max_batch = static_cast<size_t>(server::SqlMaxBatchFlag());
    store = std::make_unique<code_vault::LoopRedemptionStore>(
        loop(), postgres,
        code_vault::LoopRedemptionStore::Options{
            .max_batch = max_batch,
            .completion_client = completions,
            .status_client = standby,
            .on_batch = [](const std::string& stage) { return batch::SizeObserver(stage); }});
    admission = std::make_unique<code_vault::LoopAdmission>(*redis_loop, limiter, window);
    credit = std::make_unique<code_vault::LoopAccountCredit>(
        loop(),
        server::MakeChannel(absl::GetFlag(FLAGS_account_credit_address),
                            server::PeerTlsFromFlags()),
        absl::GetFlag(FLAGS_account_credit_token), absl::GetFlag(FLAGS_credit_timeout),
        code_vault::LoopAccountCredit::Options{.max_batch = max_batch});
    Run();
  }
};

void ExportVaultMetrics(const code_vault::VaultService& service,
                        const code_vault::FallbackAttemptLimiter& limiter,
                        const redis::Client& redis_client, const redis::LoopClient* engine_redis) {
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
      "counter", [&redis_client, engine_redis] {
        return redis_client.sentinel_lookups() +
               (engine_redis ? engine_redis->sentinel_lookups() : 0);
      });
  metrics::Global().AddCallback(
      "giftcard_saga_unknown_outcomes_total",
      "Credit calls whose outcome stayed unknown; the redemption stays PENDING and is retried.",
      "counter", [&service] { return service.unknown_outcome_count(); });
}

}  // namespace

int main(int argc, char** argv) {
  VaultFlags flags;
  int exit_code = 0;
  std::optional<service_start::Service> started = service_start::StartService(
      argc, argv,
      {.name = "code-vault",
       .about = "code-vault: gift-card codes and redemptions",
       .disable_core_dumps = true,  // PINs pass through this process's memory.
       .grpc_service_name = giftcard::v1::CodeVault::service_full_name(),
       .migrations = code_vault::Migrations(),
       .migration_lock_key = code_vault::kMigrationLockKey,
       .check_flags = [&flags] { return flags.Read(); }},
      &exit_code);
  if (!started) return exit_code;
  server::ServeOptions& serve = started->serve;
  const std::string& dsn = started->dsn;
  service_start::Databases databases = service_start::OpenDatabases(
      dsn,
      pg::JoinStatements({outbox::EventLog::Statements(), code_vault::PgCodeStore::Statements(),
                          code_vault::AuditStatements(), code_vault::PgReportStore::Statements(),
                          code_vault::BacklogStatements()}));
  pg::Pool& pool = *databases.primary;
  code_vault::PgCodeStore store(
      pool, {.max_batch = server::SqlMaxBatchFlag(), .standby = databases.standby.get()});
  redis::Client redis_client(*flags.redis_options);
  code_vault::RedisRedemptionGuard guard(redis_client);
  code_vault::AccountCreditGateway credit(
      server::MakeChannel(absl::GetFlag(FLAGS_account_credit_address), server::PeerTlsFromFlags()),
      absl::GetFlag(FLAGS_account_credit_token), absl::GetFlag(FLAGS_credit_timeout),
      {.max_batch = server::SqlMaxBatchFlag()});
  Limiters limiters(redis_client);
  code_vault::FallbackAttemptLimiter& limiter = limiters.fallback;
  // The outbox's relay and WatchEvents (the event types of schema/008_events.sql).
  outbox::Runtime events(pool, {.types = {"code.activated", "code.redeemed", "code.blocked",
                                          "code.unblocked", "code.voided"},
                                .relay_interval = server::EventRelayIntervalFlag(),
                                .retention = server::EventRetentionFlag()});
  serve.on_shutdown = [&events] { events.Stop(); };
  backlog::Gauges backlog_gauges(pool, code_vault::BacklogStatements(),
                                 server::BacklogIntervalFlag());
  server::CallRunner calls(std::move(started->call_options));  // Stops once the server has drained.
  code_vault::VaultService service(store, guard, credit, limiter, *flags.hasher,
                                   VaultOptionsFromFlags());
  code_vault::PgReportStore report_store(databases.reads());
  code_vault::ReportService reports(report_store);
  code_vault::CodeVaultHandler handler(
      service, reports, *started->authorizer, [&pool] { return code_vault::ReadAuditFacts(pool); },
      calls, events.watch());
  VaultEngine engine;
  if (absl::GetFlag(FLAGS_engine)) {
    engine.Start(dsn, *flags.redis_options, limiter, limiters.window);
    handler.UseEngine({.run = service_start::RunOn(engine.loop()).run,
                       .ports = {*engine.admission, *engine.store, *engine.credit},
                       .reads = *engine.store});
  }
  ExportVaultMetrics(service, limiter, redis_client, engine.redis_loop.get());
  server::PeriodicTask recovery(
      "redemption-recovery", absl::GetFlag(FLAGS_recovery_interval),
      server::CountedRecoveryPass([&service, min_age = absl::GetFlag(FLAGS_recovery_min_age)] {
        return service.RecoverPending(min_age, 100);
      }));
  serve.on_grace_expired = [&databases, &engine] {
    databases.Abandon();
    engine.AbandonConnections();
  };
  // Health follows Postgres only: Redis down degrades the guard, not the service.
  exit_code = service_start::ServeWithDatabaseHealth(serve, {&handler}, dsn);
  engine.Stop();  // The server has drained: no call is on the engine any more.
  return exit_code;
}

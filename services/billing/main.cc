// billing: applies account credit to invoices. Wiring only.
#include "absl/flags/flag.h"
#include "auth/serving.h"
#include "backlog/backlog.h"
#include "batch/batcher.h"
#include "config/config.h"
#include "engine/loop.h"
#include "log/log.h"
#include "metrics/registry.h"
#include "outbox/event_log.h"
#include "outbox/runtime.h"
#include "pg/health_probe.h"
#include "pg/loop_client.h"
#include "pg/migrations.h"
#include "pg/pool.h"
#include "server/bootstrap.h"
#include "server/client.h"
#include "server/engine_calls.h"
#include "server/flags.h"
#include "server/periodic.h"
#include "services/billing/api/billing_handler.h"
#include "services/billing/billing_migrations.h"
#include "services/billing/domain/billing_service.h"
#include "services/billing/peers/account_credit_gateway.h"
#include "services/billing/peers/loop_account_debit.h"
#include "services/billing/storage/backlog_sql.h"
#include "services/billing/storage/loop_application_store.h"
#include "services/billing/storage/pg_application_store.h"
#include "services/billing/storage/pg_audit_facts.h"

ABSL_FLAG(std::string, account_credit_address, "127.0.0.1:50052", "account-credit host:port");
ABSL_FLAG(std::string, account_credit_token, "",
          "this service's bearer token towards account-credit");
ABSL_FLAG(absl::Duration, debit_timeout, absl::Seconds(3),
          "deadline of each call to account-credit");
ABSL_FLAG(absl::Duration, recovery_interval, absl::Seconds(5),
          "how often the recovery worker looks for unsettled applications");
ABSL_FLAG(bool, engine, true,
          "run ApplyCredit on one event-loop thread (libs/engine) with non-blocking Postgres and "
          "account-credit connections, instead of the call runner's workers");
ABSL_FLAG(absl::Duration, recovery_min_age, absl::Seconds(10),
          "an application unchanged for less than this is left to its own call");

int main(int argc, char** argv) {
  using namespace giftcard;
  server::BlockTerminationSignals();
  server::IgnoreBrokenPipes();
  server::ReportCrashes();
  config::ParseFlags(argc, argv, "billing: applies account credit to invoices");
  log::SetServiceName("billing");
  if (!server::PinToCpusFromFlag()) return 2;

  // Configuration errors stop the start before any database work.
  server::ServeOptions serve = server::ServeOptionsFromFlags("billing");
  serve.grpc_service_name = giftcard::v1::Billing::service_full_name();
  absl::StatusOr<std::unique_ptr<auth::Authorizer>> authorizer = auth::AuthorizerForServing(serve);
  if (!authorizer.ok()) return 2;
  std::optional<server::CallRunnerOptions> call_options = server::CallRunnerOptionsFromFlags();
  if (!call_options) return 2;
  const std::optional<std::string> pg_dsn = server::RequiredPgDsn();
  if (!pg_dsn) return 2;
  const std::string& dsn = *pg_dsn;
  if (!pg::MigrateWithRetry(dsn, billing::Migrations(), billing::kMigrationLockKey,
                            absl::Seconds(60))
           .ok())
    return 1;
  pg::Pool pool(
      {.dsn = dsn, .size = server::PgPoolSizeFlag()},
      pg::JoinStatements({outbox::EventLog::Statements(), billing::PgApplicationStore::Statements(),
                          billing::AuditStatements(), billing::BacklogStatements()}));
  billing::PgApplicationStore store(pool, {.max_batch = server::SqlMaxBatchFlag()});
  billing::AccountCreditGateway debit(
      server::MakeChannel(absl::GetFlag(FLAGS_account_credit_address), server::PeerTlsFromFlags()),
      absl::GetFlag(FLAGS_account_credit_token), absl::GetFlag(FLAGS_debit_timeout),
      {.max_batch = server::SqlMaxBatchFlag()});
  billing::BillingService service(store, debit);
  // The outbox's relay and WatchEvents (the event types of schema/004_events.sql).
  outbox::Runtime events(pool, {.types = {"credit.low"},
                                .relay_interval = server::EventRelayIntervalFlag(),
                                .retention = server::EventRetentionFlag()});
  serve.on_shutdown = [&events] { events.Stop(); };
  backlog::Gauges backlog_gauges(pool, billing::BacklogStatements(), server::BacklogIntervalFlag());
  server::CallRunner calls(std::move(*call_options));  // Stops once the server has drained.
  billing::BillingHandler handler(
      service, **authorizer, [&pool] { return billing::ReadAuditFacts(pool); }, calls,
      events.watch());
  // The engine: ApplyCredit from the handler to the answer on one thread
  // that owns its connections (docs/decisions.md, "One engine per service").
  // Its parts are destroyed after the loop has stopped.
  engine::Loop loop("billing-engine");
  std::unique_ptr<pg::LoopClient> engine_pg;
  std::unique_ptr<billing::LoopApplicationStore> engine_store;
  std::unique_ptr<billing::LoopAccountDebit> engine_debit;
  if (absl::GetFlag(FLAGS_engine)) {
    engine_pg = std::make_unique<pg::LoopClient>(
        loop, pg::LoopClientOptions{.dsn = dsn,
                                    .statements = billing::LoopApplicationStore::Statements(),
                                    .setup_sql = pg::SessionSettings({})});
    engine_store = std::make_unique<billing::LoopApplicationStore>(
        loop, *engine_pg,
        billing::LoopApplicationStore::Options{
            .max_batch = static_cast<size_t>(server::SqlMaxBatchFlag()),
            .on_batch = [](const std::string& stage) { return batch::SizeObserver(stage); }});
    engine_debit = std::make_unique<billing::LoopAccountDebit>(
        loop,
        server::MakeChannel(absl::GetFlag(FLAGS_account_credit_address),
                            server::PeerTlsFromFlags()),
        absl::GetFlag(FLAGS_account_credit_token), absl::GetFlag(FLAGS_debit_timeout),
        billing::LoopAccountDebit::Options{.max_batch =
                                               static_cast<size_t>(server::SqlMaxBatchFlag())});
    server::ExportEngineMetrics(loop);
    loop.Start();
    handler.UseEngine(
        {.run = [&loop](absl::AnyInvocable<void() &&> task) { loop.Post(std::move(task)); },
         .ports = {*engine_store, *engine_debit}});
  }
  metrics::Global().AddCallback(
      "giftcard_saga_unknown_outcomes_total",
      "Debits and reversals whose outcome stayed unknown; the application stays unsettled and "
      "is retried.",
      "counter", [&service] { return service.unknown_outcome_count(); });
  server::PeriodicTask recovery(
      "application-recovery", absl::GetFlag(FLAGS_recovery_interval),
      server::CountedRecoveryPass([&service, min_age = absl::GetFlag(FLAGS_recovery_min_age)] {
        return service.RecoverUnsettled(min_age, 100);
      }));
  serve.on_grace_expired = [&pool, &loop, &engine_pg] {
    pool.Abandon();
    if (engine_pg) loop.Post([&engine_pg] { engine_pg->Abandon(); });
  };
  // Health asks the database on a connection of its own, under a deadline
  // this process keeps: a stalled Postgres is NOT_SERVING within ~2 s.
  pg::HealthProbe database(dsn, absl::Milliseconds(1500));
  const int exit_code = server::Serve(serve, {&handler}, [&database] { return database.Check(); });
  loop.Stop();  // The server has drained: no call is on the engine any more.
  return exit_code;
}

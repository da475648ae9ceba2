// account-credit: accounts and the double-entry credit ledger. Wiring only.
#include <cstdlib>
#include <memory>

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
#include "server/engine_calls.h"
#include "server/flags.h"
#include "services/account_credit/account_credit_migrations.h"
#include "services/account_credit/api/account_credit_handler.h"
#include "services/account_credit/domain/account_service.h"
#include "services/account_credit/storage/loop_ledger_store.h"
#include "services/account_credit/storage/pg_audit_facts.h"
#include "services/account_credit/storage/pg_ledger_store.h"
#include "services/account_credit/storage/pg_report_store.h"

ABSL_FLAG(bool, engine, true,
          "run BatchCreditAccounts and BatchDebitAccounts on one event-loop thread (libs/engine) "
          "with a non-blocking Postgres connection, instead of the call runner's workers");

int main(int argc, char** argv) {
  using namespace giftcard;
  server::BlockTerminationSignals();
  server::IgnoreBrokenPipes();
  server::ReportCrashes();
  config::ParseFlags(argc, argv, "account-credit: accounts and the credit ledger");
  log::SetServiceName("account-credit");
  if (!server::PinToCpusFromFlag()) return 2;

  // Configuration errors stop the start before any database work.
  server::ServeOptions serve = server::ServeOptionsFromFlags("account-credit");
  serve.grpc_service_name = giftcard::v1::AccountCredit::service_full_name();
  absl::StatusOr<std::unique_ptr<auth::Authorizer>> authorizer = auth::AuthorizerForServing(serve);
  if (!authorizer.ok()) return 2;
  std::optional<server::CallRunnerOptions> call_options = server::CallRunnerOptionsFromFlags();
  if (!call_options) return 2;
  const std::optional<std::string> pg_dsn = server::RequiredPgDsn();
  if (!pg_dsn) return 2;
  const std::string& dsn = *pg_dsn;
  if (!pg::MigrateWithRetry(dsn, account_credit::Migrations(), account_credit::kMigrationLockKey,
                            absl::Seconds(60))
           .ok())
    return 1;
  const std::vector<pg::Statement> statements = pg::JoinStatements(
      {outbox::EventLog::Statements(), account_credit::PgLedgerStore::Statements(),
       account_credit::AuditStatements(), account_credit::PgReportStore::Statements()});
  pg::Pool pool({.dsn = dsn, .size = server::PgPoolSizeFlag()}, statements);
  std::unique_ptr<pg::Pool> standby;
  if (const std::string standby_dsn = server::PgStandbyDsnFlag(); !standby_dsn.empty()) {
    standby = std::make_unique<pg::Pool>(
        pg::PoolOptions{.dsn = standby_dsn, .size = server::PgPoolSizeFlag()}, statements);
  }
  account_credit::PgLedgerStore store(
      pool, {.max_batch = server::SqlMaxBatchFlag(), .standby = standby.get()});
  account_credit::AccountService service(store);
  account_credit::PgReportStore report_store(standby ? *standby : pool);
  account_credit::ReportService reports(report_store);
  // The outbox's relay and WatchEvents (the event types of schema/005_events.sql and 008_owed.sql).
  outbox::Runtime events(
      pool, {.types = {"credit.added", "credit.applied", "credit.reversed", "credit.clawed_back",
                       "credit.depleted", "credit.owed_repaid"},
             .relay_interval = server::EventRelayIntervalFlag(),
             .retention = server::EventRetentionFlag()});
  serve.on_shutdown = [&events] { events.Stop(); };
  // No sagas start here: only what waits in the outbox.
  backlog::Gauges backlog_gauges(pool, {}, server::BacklogIntervalFlag());
  const std::optional<server::TestHooks> test_hooks = call_options->test_hooks;
  server::CallRunner calls(std::move(*call_options));  // Stops once the server has drained.
  account_credit::AccountCreditHandler handler(
      service, reports, **authorizer, [&pool] { return account_credit::ReadAuditFacts(pool); },
      calls, events.watch());
  // The engine: the batch postings from the handler to the answer on one
  // thread that owns its connection (docs/decisions.md, "One engine per
  // service"). Its parts are destroyed after the loop has stopped.
  engine::Loop loop("credit-engine");
  std::unique_ptr<pg::LoopClient> engine_pg;
  std::unique_ptr<account_credit::LoopLedgerStore> engine_store;
  if (absl::GetFlag(FLAGS_engine)) {
    engine_pg = std::make_unique<pg::LoopClient>(
        loop, pg::LoopClientOptions{.dsn = dsn,
                                    .statements = account_credit::LoopLedgerStore::Statements(),
                                    .setup_sql = pg::SessionSettings({})});
    engine_store = std::make_unique<account_credit::LoopLedgerStore>(
        loop, *engine_pg,
        account_credit::LoopLedgerStore::Options{
            .max_batch = static_cast<size_t>(server::SqlMaxBatchFlag()),
            .on_batch = batch::SizeObserver("ac_post")});
    server::ExportEngineMetrics(loop);
    loop.Start();
    handler.UseEngine(
        {.run = [&loop](absl::AnyInvocable<void() &&> task) { loop.Post(std::move(task)); },
         .run_after =
             [&loop](absl::Duration delay, absl::AnyInvocable<void() &&> task) {
               loop.Post([&loop, delay, task = std::move(task)]() mutable {
                 loop.RunAfter(delay, std::move(task));
               });
             },
         .postings = *engine_store,
         .test_hooks = test_hooks});
  }
  serve.on_grace_expired = [&pool, &standby, &loop, &engine_pg] {
    pool.Abandon();
    if (standby) standby->Abandon();
    if (engine_pg) loop.Post([&engine_pg] { engine_pg->Abandon(); });
  };
  // Health asks the database on a connection of its own, under a deadline
  // this process keeps: a stalled Postgres is NOT_SERVING within ~2 s.
  pg::HealthProbe database(dsn, absl::Milliseconds(1500));
  const int exit_code = server::Serve(serve, {&handler}, [&database] { return database.Check(); });
  loop.Stop();  // The server has drained: no call is on the engine any more.
  return exit_code;
}

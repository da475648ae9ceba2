// account-credit: accounts and the double-entry credit ledger. Wiring only.
#include <cstdlib>
#include <memory>

#include "absl/flags/flag.h"
#include "backlog/backlog.h"
#include "batch/batcher.h"
#include "engine/loop.h"
#include "metrics/registry.h"
#include "outbox/event_log.h"
#include "outbox/runtime.h"
#include "pg/loop_client.h"
#include "pg/pool.h"
#include "server/bootstrap.h"
#include "server/flags.h"
#include "service_start/service_start.h"
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

namespace {

using namespace giftcard;

// The engine: the batch postings from the handler to the answer on one
// thread that owns its connection (docs/decisions.md, "One engine per
// service"). Its parts are destroyed after the loop has stopped.
struct CreditEngine : service_start::Engine {
  CreditEngine() : Engine("credit-engine") {}
  std::unique_ptr<account_credit::LoopLedgerStore> store;

  void Start(const std::string& dsn) {
    store = std::make_unique<account_credit::LoopLedgerStore>(
        loop(), ConnectPostgres(dsn, account_credit::LoopLedgerStore::Statements()),
        account_credit::LoopLedgerStore::Options{
            .max_batch = static_cast<size_t>(server::SqlMaxBatchFlag()),
            .on_batch = batch::SizeObserver("ac_post")});
    Run();
  }
};

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 0;
  std::optional<service_start::Service> started = service_start::StartService(
      argc, argv,
      {.name = "account-credit",
       .about = "account-credit: accounts and the credit ledger",
       .grpc_service_name = giftcard::v1::AccountCredit::service_full_name(),
       .migrations = account_credit::Migrations(),
       .migration_lock_key = account_credit::kMigrationLockKey},
      &exit_code);
  if (!started) return exit_code;
  server::ServeOptions& serve = started->serve;
  const std::string& dsn = started->dsn;
  service_start::Databases databases = service_start::OpenDatabases(
      dsn, pg::JoinStatements(
               {outbox::EventLog::Statements(), account_credit::PgLedgerStore::Statements(),
                account_credit::AuditStatements(), account_credit::PgReportStore::Statements()}));
  pg::Pool& pool = *databases.primary;
  account_credit::PgLedgerStore store(
      pool, {.max_batch = server::SqlMaxBatchFlag(), .standby = databases.standby.get()});
  account_credit::AccountService service(store);
  account_credit::PgReportStore report_store(databases.reads());
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
  const std::optional<server::TestHooks> test_hooks = started->call_options.test_hooks;
  server::CallRunner calls(std::move(started->call_options));  // Stops once the server has drained.
  account_credit::AccountCreditHandler handler(
      service, reports, *started->authorizer,
      [&pool] { return account_credit::ReadAuditFacts(pool); }, calls, events.watch());
  CreditEngine engine;
  if (absl::GetFlag(FLAGS_engine)) {
    engine.Start(dsn);
    service_start::EngineRunners runners = service_start::RunOn(engine.loop());
    handler.UseEngine({.run = std::move(runners.run),
                       .run_after = std::move(runners.run_after),
                       .postings = *engine.store,
                       .test_hooks = test_hooks});
  }
  serve.on_grace_expired = [&databases, &engine] {
    databases.Abandon();
    engine.AbandonConnections();
  };
  exit_code = service_start::ServeWithDatabaseHealth(serve, {&handler}, dsn);
  engine.Stop();  // The server has drained: no call is on the engine any more.
  return exit_code;
}

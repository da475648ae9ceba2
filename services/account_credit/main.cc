// account-credit: accounts and the double-entry credit ledger. Wiring only.
#include <cstdlib>
#include <memory>

#include "auth/serving.h"
#include "config/config.h"
#include "log/log.h"
#include "outbox/event_log.h"
#include "outbox/runtime.h"
#include "pg/health_probe.h"
#include "pg/migrations.h"
#include "pg/pool.h"
#include "server/bootstrap.h"
#include "server/flags.h"
#include "services/account_credit/account_credit_migrations.h"
#include "services/account_credit/api/account_credit_handler.h"
#include "services/account_credit/domain/account_service.h"
#include "services/account_credit/storage/pg_audit_facts.h"
#include "services/account_credit/storage/pg_ledger_store.h"
#include "services/account_credit/storage/pg_report_store.h"

int main(int argc, char** argv) {
  using namespace giftcard;
  server::BlockTerminationSignals();
  config::ParseFlags(argc, argv, "account-credit: accounts and the credit ledger");
  log::SetServiceName("account-credit");

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
  server::CallRunner calls(std::move(*call_options));  // Stops once the server has drained.
  account_credit::AccountCreditHandler handler(
      service, reports, **authorizer, [&pool] { return account_credit::ReadAuditFacts(pool); },
      calls, events.watch());
  serve.on_grace_expired = [&pool, &standby] {
    pool.Abandon();
    if (standby) standby->Abandon();
  };
  // Health asks the database on a connection of its own, under a deadline
  // this process keeps: a stalled Postgres is NOT_SERVING within ~2 s.
  pg::HealthProbe database(dsn, absl::Milliseconds(1500));
  return server::Serve(serve, {&handler}, [&database] { return database.Check(); });
}

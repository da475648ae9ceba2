// billing: applies account credit to invoices. Wiring only.
#include "absl/flags/flag.h"
#include "backlog/backlog.h"
#include "batch/batcher.h"
#include "config/config.h"
#include "engine/loop.h"
#include "log/log.h"
#include "metrics/registry.h"
#include "outbox/event_log.h"
#include "outbox/runtime.h"
#include "pg/loop_client.h"
#include "pg/pool.h"
#include "server/bootstrap.h"
#include "server/client.h"
#include "server/flags.h"
#include "server/periodic.h"
#include "service_start/service_start.h"
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
ABSL_FLAG(bool, answer_before_mark, true,
          "answer ApplyCredit once the debit is durable in account-credit and the application's "
          "mark is sent on the engine's connection, before the mark commits (docs/decisions.md)");
ABSL_FLAG(absl::Duration, recovery_min_age, absl::Seconds(10),
          "an application unchanged for less than this is left to its own call");

namespace {

using namespace giftcard;

// The engine: ApplyCredit from the handler to the answer on one thread
// that owns its connections (docs/decisions.md, "One engine per service").
// Its parts are destroyed after the loop has stopped.
struct BillingEngine : service_start::Engine {
  BillingEngine() : Engine("billing-engine") {}
  std::unique_ptr<billing::LoopApplicationStore> store;
  std::unique_ptr<billing::LoopAccountDebit> debit;

  void Start(const std::string& dsn) {
    const size_t max_batch = static_cast<size_t>(server::SqlMaxBatchFlag());
    store = std::make_unique<billing::LoopApplicationStore>(
        loop(), ConnectPostgres(dsn, billing::LoopApplicationStore::Statements()),
        billing::LoopApplicationStore::Options{
            .max_batch = max_batch,
            .on_batch = [](const std::string& stage) { return batch::SizeObserver(stage); }});
    debit = std::make_unique<billing::LoopAccountDebit>(
        loop(),
        server::MakeChannel(absl::GetFlag(FLAGS_account_credit_address),
                            server::PeerTlsFromFlags()),
        absl::GetFlag(FLAGS_account_credit_token), absl::GetFlag(FLAGS_debit_timeout),
        billing::LoopAccountDebit::Options{.max_batch = max_batch});
    Run();
  }
};

}  // namespace

int main(int argc, char** argv) {
  int exit_code = 0;
  std::optional<service_start::Service> started =
      service_start::StartService(argc, argv,
                                  {.name = "billing",
                                   .about = "billing: applies account credit to invoices",
                                   .grpc_service_name = giftcard::v1::Billing::service_full_name(),
                                   .migrations = billing::Migrations(),
                                   .migration_lock_key = billing::kMigrationLockKey},
                                  &exit_code);
  if (!started) return exit_code;
  server::ServeOptions& serve = started->serve;
  const std::string& dsn = started->dsn;
  pg::Pool pool(
      {.dsn = dsn, .size = server::PgPoolSizeFlag()},
      pg::JoinStatements({outbox::EventLog::Statements(), billing::PgApplicationStore::Statements(),
                          billing::AuditStatements(), billing::BacklogStatements()}));
  billing::PgApplicationStore store(pool, {.max_batch = server::SqlMaxBatchFlag()});
  billing::AccountCreditGateway debit(
      server::MakeChannel(absl::GetFlag(FLAGS_account_credit_address), server::PeerTlsFromFlags()),
      absl::GetFlag(FLAGS_account_credit_token), absl::GetFlag(FLAGS_debit_timeout),
      {.max_batch = server::SqlMaxBatchFlag()});
  billing::BillingService service(store, debit,
                                  {.answer_before_mark = absl::GetFlag(FLAGS_answer_before_mark)});
  // The outbox's relay and WatchEvents (the event types of schema/004_events.sql).
  outbox::Runtime events(pool, {.types = {"credit.low"},
                                .relay_interval = server::EventRelayIntervalFlag(),
                                .retention = server::EventRetentionFlag()});
  serve.on_shutdown = [&events] { events.Stop(); };
  backlog::Gauges backlog_gauges(pool, billing::BacklogStatements(), server::BacklogIntervalFlag());
  server::CallRunner calls(std::move(started->call_options));  // Stops once the server has drained.
  billing::BillingHandler handler(
      service, *started->authorizer, [&pool] { return billing::ReadAuditFacts(pool); }, calls,
      events.watch());
  BillingEngine engine;
  if (absl::GetFlag(FLAGS_engine)) {
    engine.Start(dsn);
    handler.UseEngine(
        {.run = service_start::RunOn(engine.loop()).run, .ports = {*engine.store, *engine.debit}});
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
  serve.on_grace_expired = [&pool, &engine] {
    pool.Abandon();
    engine.AbandonConnections();
  };
  exit_code = service_start::ServeWithDatabaseHealth(serve, {&handler}, dsn);
  engine.Stop();  // The server has drained: no call is on the engine any more.
  return exit_code;
}

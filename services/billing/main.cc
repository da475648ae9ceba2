// billing: applies account credit to invoices. Wiring only.
#include "absl/flags/flag.h"
#include "api/billing_handler.h"
#include "billing_migrations.h"
#include "config/config.h"
#include "domain/billing_service.h"
#include "log/log.h"
#include "peers/account_credit_gateway.h"
#include "pg/migrations.h"
#include "pg/pool.h"
#include "server/bootstrap.h"
#include "server/client.h"
#include "server/flags.h"
#include "storage/pg_application_store.h"

ABSL_FLAG(std::string, account_credit_address, "127.0.0.1:50052", "account-credit host:port");
ABSL_FLAG(std::string, account_credit_token, "",
          "this service's bearer token towards account-credit");
ABSL_FLAG(absl::Duration, debit_timeout, absl::Seconds(3), "deadline of each DebitAccount call");

int main(int argc, char** argv) {
  using namespace giftcard;
  server::BlockTerminationSignals();
  config::ParseFlags(argc, argv, "billing: applies account credit to invoices");
  log::SetServiceName("billing");

  const std::string dsn = server::PgDsnFlag();
  if (absl::Status s = pg::MigrateWithRetry(dsn, billing::Migrations(), billing::kMigrationLockKey,
                                            absl::Seconds(60));
      !s.ok()) {
    log::Error("migrations_failed", {{"status", s.ToString()}});
    return 1;
  }
  pg::Pool pool({.dsn = dsn, .size = server::PgPoolSizeFlag()},
                billing::PgApplicationStore::Statements());
  billing::PgApplicationStore store(pool);
  billing::AccountCreditGateway debit(
      server::MakeChannel(absl::GetFlag(FLAGS_account_credit_address)),
      absl::GetFlag(FLAGS_account_credit_token), absl::GetFlag(FLAGS_debit_timeout));
  billing::BillingService service(store, debit);
  billing::BillingHandler handler(service);
  return server::Serve(server::ServeOptionsFromFlags("billing"), {&handler},
                       [&pool] { return pool.Ping(); });
}

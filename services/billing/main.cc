// billing: applies account credit to invoices. Wiring only.
#include "absl/flags/flag.h"
#include "api/billing_handler.h"
#include "auth/authorizer.h"
#include "billing_migrations.h"
#include "config/config.h"
#include "domain/billing_service.h"
#include "errors/status.h"
#include "log/log.h"
#include "peers/account_credit_gateway.h"
#include "pg/migrations.h"
#include "pg/pool.h"
#include "server/bootstrap.h"
#include "server/client.h"
#include "server/flags.h"
#include "server/periodic.h"
#include "storage/pg_application_store.h"

ABSL_FLAG(std::string, account_credit_address, "127.0.0.1:50052", "account-credit host:port");
ABSL_FLAG(std::string, account_credit_token, "",
          "this service's bearer token towards account-credit");
ABSL_FLAG(absl::Duration, debit_timeout, absl::Seconds(3),
          "deadline of each call to account-credit");
ABSL_FLAG(absl::Duration, recovery_interval, absl::Seconds(5),
          "how often the recovery worker looks for unsettled applications");
ABSL_FLAG(absl::Duration, recovery_min_age, absl::Seconds(10),
          "an application unchanged for less than this is left to its own call");

int main(int argc, char** argv) {
  using namespace giftcard;
  server::BlockTerminationSignals();
  config::ParseFlags(argc, argv, "billing: applies account credit to invoices");
  log::SetServiceName("billing");

  const std::string dsn = server::PgDsnFlag();
  if (absl::Status s = pg::MigrateWithRetry(dsn, billing::Migrations(), billing::kMigrationLockKey,
                                            absl::Seconds(60));
      !s.ok()) {
    log::Error("migrations_failed", {{"status", errors::Describe(s)}});
    return 1;
  }
  pg::Pool pool({.dsn = dsn, .size = server::PgPoolSizeFlag()},
                billing::PgApplicationStore::Statements());
  billing::PgApplicationStore store(pool);
  billing::AccountCreditGateway debit(
      server::MakeChannel(absl::GetFlag(FLAGS_account_credit_address), server::PeerTlsFromFlags()),
      absl::GetFlag(FLAGS_account_credit_token), absl::GetFlag(FLAGS_debit_timeout));
  billing::BillingService service(store, debit);
  absl::StatusOr<std::unique_ptr<auth::Authorizer>> authorizer =
      auth::Authorizer::Create({server::TokensFileFlag(), server::AllowUnauthenticatedFlag()});
  if (!authorizer.ok()) {
    log::Error("bad_tokens_file", {{"status", errors::Describe(authorizer.status())}});
    return 2;
  }
  billing::BillingHandler handler(service, **authorizer);
  server::PeriodicTask recovery("application-recovery", absl::GetFlag(FLAGS_recovery_interval),
                                [&service, min_age = absl::GetFlag(FLAGS_recovery_min_age)] {
                                  service.RecoverUnsettled(min_age, 100);
                                });
  server::ServeOptions serve = server::ServeOptionsFromFlags("billing");
  serve.principal_of = [&authorizer](const grpc::ServerContextBase& context) {
    return (*authorizer)->PrincipalOf(context).value_or("");
  };
  serve.on_sighup = [&authorizer] {
    if (absl::Status s = (*authorizer)->Reload(); !s.ok()) {
      log::Error("tokens_reload_failed", {{"status", errors::Describe(s)}});
    }
  };
  return server::Serve(serve, {&handler}, [&pool] { return pool.Ping(); });
}

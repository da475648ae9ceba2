// account-credit: accounts and the double-entry credit ledger. Wiring only.
#include <cstdlib>

#include "account_credit_migrations.h"
#include "api/account_credit_handler.h"
#include "auth/authorizer.h"
#include "config/config.h"
#include "domain/account_service.h"
#include "errors/status.h"
#include "log/log.h"
#include "pg/migrations.h"
#include "pg/pool.h"
#include "server/bootstrap.h"
#include "server/flags.h"
#include "storage/pg_ledger_store.h"

int main(int argc, char** argv) {
  using namespace giftcard;
  server::BlockTerminationSignals();
  config::ParseFlags(argc, argv, "account-credit: accounts and the credit ledger");
  log::SetServiceName("account-credit");

  const std::string dsn = server::PgDsnFlag();
  if (absl::Status s = pg::MigrateWithRetry(dsn, account_credit::Migrations(),
                                            account_credit::kMigrationLockKey, absl::Seconds(60));
      !s.ok()) {
    log::Error("migrations_failed", {{"status", errors::Describe(s)}});
    return 1;
  }
  pg::Pool pool({.dsn = dsn, .size = server::PgPoolSizeFlag()},
                account_credit::PgLedgerStore::Statements());
  account_credit::PgLedgerStore store(pool);
  account_credit::AccountService service(store);
  absl::StatusOr<std::unique_ptr<auth::Authorizer>> authorizer =
      auth::Authorizer::Create({server::TokensFileFlag(), server::AllowUnauthenticatedFlag()});
  if (!authorizer.ok()) {
    log::Error("bad_tokens_file", {{"status", errors::Describe(authorizer.status())}});
    return 2;
  }
  account_credit::AccountCreditHandler handler(service, **authorizer);
  server::ServeOptions serve = server::ServeOptionsFromFlags("account-credit");
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

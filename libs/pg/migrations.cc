#include "pg/migrations.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "errors/status.h"
#include "log/log.h"
#include "pg/pool.h"

namespace giftcard::pg {

absl::Status Migrate(const std::string& dsn, const std::vector<Migration>& migrations,
                     int64_t advisory_lock_key) {
  try {
    pqxx::connection conn(WithConnectTimeout(dsn, 2));
    // Session-level lock: held across the per-migration transactions below,
    // released explicitly or when the connection closes.
    conn.prepare("migrations_lock", "SELECT pg_advisory_lock($1)");
    conn.prepare("migrations_unlock", "SELECT pg_advisory_unlock($1)");
    conn.prepare("migrations_get", "SELECT checksum FROM schema_migrations WHERE version = $1");
    conn.prepare(
        "migrations_put",
        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, md5($3))");
    conn.prepare("migrations_md5", "SELECT md5($1)");
    {
      pqxx::nontransaction nt(conn);
      nt.exec_prepared("migrations_lock", advisory_lock_key);
      nt.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations ("
          " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
          " applied_time timestamptz NOT NULL DEFAULT now())");
    }
    absl::Status result = absl::OkStatus();
    for (const Migration& m : migrations) {
      pqxx::work tx(conn);
      pqxx::result existing = tx.exec_prepared("migrations_get", m.version);
      if (!existing.empty()) {
        const std::string want = tx.exec_prepared1("migrations_md5", m.sql)[0].as<std::string>();
        if (existing[0][0].as<std::string>() != want) {
          result = absl::FailedPreconditionError(
              absl::StrCat("migration ", m.name, " changed after it was applied"));
          break;
        }
        continue;
      }
      tx.exec(m.sql);
      tx.exec_prepared("migrations_put", m.version, m.name, m.sql);
      tx.commit();
      log::Info("migration_applied", {{"name", m.name}});
    }
    pqxx::nontransaction nt(conn);
    nt.exec_prepared("migrations_unlock", advisory_lock_key);
    return result;
  } catch (const std::exception& e) {
    return Pool::StatusFromException(e);
  }
}

absl::Status MigrateWithRetry(const std::string& dsn, const std::vector<Migration>& migrations,
                              int64_t advisory_lock_key, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Duration backoff = absl::Milliseconds(100);
  while (true) {
    absl::Status s = Migrate(dsn, migrations, advisory_lock_key);
    if (s.ok()) return s;
    if (s.code() != absl::StatusCode::kUnavailable || absl::Now() + backoff > deadline) {
      log::Error("migrations_failed", {{"status", errors::Describe(s)}});
      return s;
    }
    log::Warning("migrations_waiting_for_postgres", {{"status", errors::Describe(s)}});
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(2));
  }
}

}  // namespace giftcard::pg

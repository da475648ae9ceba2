// Schema migrations: numbered .sql files per service, compiled into the binary
// (cmake/Migrations.cmake) and applied at start-up under a Postgres advisory
// lock, so replicas starting together apply each migration once.
#ifndef GIFTCARD_LIBS_PG_MIGRATIONS_H_
#define GIFTCARD_LIBS_PG_MIGRATIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace giftcard::pg {

struct Migration {
  int version;
  std::string name;
  std::string sql;
};

// Applies, in version order, each migration not yet recorded in
// schema_migrations, each in its own transaction. A recorded migration whose
// text changed since is FAILED_PRECONDITION: history is not rewritten.
absl::Status Migrate(const std::string& dsn, const std::vector<Migration>& migrations,
                     int64_t advisory_lock_key);

// Migrate, retried until `timeout` while Postgres is unreachable (a service
// may start before its database). Logs the error it gives up with.
absl::Status MigrateWithRetry(const std::string& dsn, const std::vector<Migration>& migrations,
                              int64_t advisory_lock_key, absl::Duration timeout);

}  // namespace giftcard::pg

#endif  // GIFTCARD_LIBS_PG_MIGRATIONS_H_

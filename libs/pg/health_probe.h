// The database half of a service's health: `SELECT 1` on a connection of its
// own, under a deadline this process keeps (poll() on libpq's socket), not
// one the server enforces. A stalled Postgres (SIGSTOP, a hung disk, a
// partition that keeps sockets open) enforces nothing: statement_timeout
// never fires, and TCP keepalives notice only after seconds; the pool's
// Ping through it took 8.4 s. This answers within `timeout`.
#ifndef GIFTCARD_LIBS_PG_HEALTH_PROBE_H_
#define GIFTCARD_LIBS_PG_HEALTH_PROBE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"

typedef struct pg_conn PGconn;

namespace giftcard::pg {

class HealthProbe {
 public:
  HealthProbe(std::string dsn, absl::Duration timeout);
  ~HealthProbe();
  HealthProbe(const HealthProbe&) = delete;
  HealthProbe& operator=(const HealthProbe&) = delete;

  // OK when the database answered `SELECT 1` within the timeout (connecting
  // first if need be); UNAVAILABLE otherwise, and the connection is dropped
  // so the next check starts afresh. One caller at a time.
  absl::Status Check();

 private:
  absl::Status Connect(absl::Time deadline);
  absl::Status Query(absl::Time deadline);
  void Drop();

  const std::string dsn_;
  const absl::Duration timeout_;
  PGconn* conn_ = nullptr;
};

}  // namespace giftcard::pg

#endif  // GIFTCARD_LIBS_PG_HEALTH_PROBE_H_

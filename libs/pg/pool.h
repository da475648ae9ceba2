// A fixed-size pool of libpqxx connections. Every connection prepares the
// same named statements when it is opened, so SQL is parsed once per
// connection and called by name. Broken connections are dropped and reopened
// on next use, so a service outlives a Postgres restart.
//
// This is the storage edge: libpqxx exceptions stop here and come out as
// absl::Status (UNAVAILABLE/DEPENDENCY_UNAVAILABLE for a lost database,
// ABORTED after too many serialization failures, INTERNAL otherwise).
//
// Every call has a deadline: the earliest of the calling thread's
// deadline::Current() (the gRPC call's) and now + statement_timeout +
// kDeadlineMargin. A live server enforces statement_timeout, lock_timeout
// and idle_in_transaction_session_timeout itself (set on every connection);
// a server that stops answering (stalled, frozen, a dead network) is cut off
// by a watchdog thread that shuts the connection's socket down at the
// deadline, so the blocked call fails at once as UNAVAILABLE. TCP
// keepalives and tcp_user_timeout are added to the DSN for dead peers.
#ifndef GIFTCARD_LIBS_PG_POOL_H_
#define GIFTCARD_LIBS_PG_POOL_H_

#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "pg/sql_text.h"

namespace giftcard::pg {

// A Postgres error as a status, by its SQLSTATE: a lost or read-only server
// and timeouts are DEPENDENCY_UNAVAILABLE, a race a rerun resolves is
// ABORTED/CONFLICT, anything else INTERNAL (logged with `what`, never
// returned: it may quote a row).
absl::Status StatusFromSqlState(const std::string& sqlstate, const std::string& what);

struct PoolOptions {
  // libpq connection string; connect_timeout is added when missing.
  std::string dsn;
  int size = 4;
  // How long a caller waits for a free connection before UNAVAILABLE.
  absl::Duration acquire_timeout = absl::Seconds(2);
  // Extra attempts after a serialization failure or deadlock.
  int max_retries = 4;
  // Server-side limits of every session (and, plus kDeadlineMargin, the
  // client-side deadline of a call without one of its own).
  absl::Duration statement_timeout = absl::Seconds(5);
  absl::Duration lock_timeout = absl::Seconds(2);
  absl::Duration idle_in_transaction_timeout = absl::Seconds(10);
  // ReadSnapshot's limit instead of statement_timeout (the audit's reads of
  // whole tables), still never past the call's own deadline.
  absl::Duration snapshot_read_timeout = absl::Minutes(5);
  // BulkTransact's limit instead of statement_timeout.
  absl::Duration bulk_write_timeout = absl::Minutes(1);
};

// The SET commands every session of the request path starts with: the
// server-side limits of `options`, and plans made for indexes (see Open).
std::string SessionSettings(const PoolOptions& options);

// How long past statement_timeout the watchdog waits before cutting off a
// call the server should have cancelled itself.
inline constexpr absl::Duration kDeadlineMargin = absl::Seconds(1);

class Pool {
 public:
  Pool(PoolOptions options, std::vector<Statement> statements);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  // Runs `body` in one READ COMMITTED transaction and commits when it returns
  // OK; any error rolls back and is returned as is. Serialization failures,
  // deadlocks, unique violations and ABORTED from `body` itself rerun `body`
  // a bounded number of times (so it must only touch its own locals until it
  // returns), then come back as ABORTED. A lost connection during COMMIT is an unknown outcome and
  // comes back as UNAVAILABLE: callers retry with the same idempotency key.
  absl::Status Transact(const std::function<absl::Status(pqxx::work&)>& body);

  // Transact for an admin's bulk write (a batch of 100,000 codes): its
  // statements may take up to bulk_write_timeout (SET LOCAL), within the
  // call's deadline.
  absl::Status BulkTransact(const std::function<absl::Status(pqxx::work&)>& body);

  // Runs read-only `body` outside a transaction block (autocommit): one
  // round trip per statement instead of three for BEGIN, SELECT, COMMIT. For
  // single-statement reads, where a transaction adds nothing.
  absl::Status Read(const std::function<absl::Status(pqxx::transaction_base&)>& body);

  // Runs `body` outside a transaction block: every statement commits on its
  // own. For writes that are one statement (atomic by itself, CTEs
  // included): one round trip instead of BEGIN, statement, COMMIT. Retries
  // as Transact does, and once more after a lost connection, when a
  // statement may have committed without its answer arriving: so `body`
  // must be safe to run again after its writes took effect (an idempotency
  // key or a conditional update that finds the first run's result).
  absl::Status Autocommit(const std::function<absl::Status(pqxx::transaction_base&)>& body);

  // Runs read-only `body` in one REPEATABLE READ READ ONLY transaction: many
  // statements that see one snapshot (the audit's reads). Its statements may
  // take up to snapshot_read_timeout (SET LOCAL), within the call's deadline.
  absl::Status ReadSnapshot(const std::function<absl::Status(pqxx::transaction_base&)>& body);

  // One round trip to the database within `timeout`; OK when it answers.
  absl::Status Ping(absl::Duration timeout = absl::Seconds(2));

  // Cuts off every call in flight now (their sockets are shut down) and
  // makes later calls fail at once: for a shutdown whose grace has passed.
  void Abandon();

  // Maps a libpqxx / std exception to a status. Exposed for storage code that
  // catches around its own calls.
  static absl::Status StatusFromException(const std::exception& e);

 private:
  struct Slot {
    std::unique_ptr<pqxx::connection> conn;
    // While lent to a call: watched until `deadline` (under watch_mu_).
    bool watched = false;
    int socket = -1;
    absl::Time deadline;
    bool cut_off = false;
  };
  // `limit`: how long the call may take when its own deadline allows.
  template <typename Tx, typename Body>
  absl::Status Run(const Body& body, absl::Duration limit);
  absl::StatusOr<Slot*> Acquire(absl::Time deadline);
  void Release(Slot* slot, bool broken);
  absl::Status Open(Slot& slot, absl::Time deadline);
  void Watch(Slot& slot, absl::Time deadline);
  // Stops watching `slot`; true when the watchdog cut it off.
  bool Unwatch(Slot& slot);
  void WatchdogLoop();

  const PoolOptions options_;
  const std::vector<Statement> statements_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<Slot*> free_ ABSL_GUARDED_BY(mu_);

  absl::Mutex watch_mu_;
  absl::CondVar watch_changed_;
  // When the watchdog wakes next: a call due earlier wakes it (others do
  // not, so the common call costs it nothing).
  absl::Time watchdog_wake_ ABSL_GUARDED_BY(watch_mu_) = absl::InfiniteFuture();
  bool stopping_ ABSL_GUARDED_BY(watch_mu_) = false;
  bool abandoned_ ABSL_GUARDED_BY(watch_mu_) = false;
  std::thread watchdog_;
};

}  // namespace giftcard::pg

#endif  // GIFTCARD_LIBS_PG_POOL_H_

// What waits in a service's database, as gauges an operator is paged on
// (deploy/observability/giftcard.rules.yml): sagas the recovery worker has
// not settled yet, and committed events the relay has not moved to the
// event log yet. Measured on a thread of its own every `interval`, so a
// scrape never waits on Postgres; the probe's own timestamp is a gauge too,
// so gauges that went stale (the database gone) are seen as such.
#ifndef GIFTCARD_LIBS_BACKLOG_BACKLOG_H_
#define GIFTCARD_LIBS_BACKLOG_BACKLOG_H_

#include <atomic>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pg/pool.h"
#include "server/periodic.h"

namespace giftcard::backlog {

// One kind of work waiting: how many, and the age of the oldest (0 when none).
struct Waiting {
  int64_t count = 0;
  double oldest_seconds = 0;
};

// Each statement returns one row with columns count (bigint) and
// oldest_seconds (float8), read by name. The
// pool must prepare them and outbox::EventLog::Statements().
class Probe {
 public:
  Probe(pg::Pool& pool, std::vector<pg::Statement> saga_statements);
  // Runs every statement once; the sagas' counts summed, the oldest of them.
  absl::Status Measure();

  int64_t sagas_unsettled() const { return sagas_unsettled_.load(); }
  double saga_oldest_seconds() const { return saga_oldest_seconds_.load(); }
  int64_t outbox_events() const { return outbox_events_.load(); }
  double outbox_oldest_seconds() const { return outbox_oldest_seconds_.load(); }
  // Unix seconds of the last measurement that succeeded; 0 before the first.
  double measured_unix_seconds() const { return measured_unix_seconds_.load(); }

 private:
  absl::StatusOr<Waiting> Run(const pg::Statement& statement);

  pg::Pool& pool_;
  const std::vector<pg::Statement> saga_statements_;
  std::atomic<int64_t> sagas_unsettled_{0}, outbox_events_{0};
  std::atomic<double> saga_oldest_seconds_{0}, outbox_oldest_seconds_{0}, measured_unix_seconds_{0};
};

// The probe on its own thread, exported as gauges (giftcard_sagas_unsettled,
// giftcard_saga_oldest_unsettled_seconds, giftcard_outbox_events_waiting,
// giftcard_outbox_oldest_event_seconds, giftcard_backlog_probe_timestamp_seconds).
class Gauges {
 public:
  Gauges(pg::Pool& pool, std::vector<pg::Statement> saga_statements, absl::Duration interval);
  ~Gauges();

 private:
  Probe probe_;
  server::PeriodicTask task_;
};

}  // namespace giftcard::backlog

#endif  // GIFTCARD_LIBS_BACKLOG_BACKLOG_H_

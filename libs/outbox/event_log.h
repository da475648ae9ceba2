// A service's transactional outbox, on its own Postgres.
// Changes write their events to event_outbox in their own transaction (each
// service's triggers, schema/NNN_events.sql); EventLog relays them to the
// events table, numbering them in the order they became visible, prunes old
// ones, and reads them for WatchEvents. Nothing here knows gRPC.
#ifndef GIFTCARD_LIBS_OUTBOX_EVENT_LOG_H_
#define GIFTCARD_LIBS_OUTBOX_EVENT_LOG_H_

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pg/pool.h"

namespace giftcard::outbox {

struct Event {
  int64_t event_id = 0;
  std::string type;
  absl::Time event_time;
  std::string serial, batch_id, account_id, redemption_id, transfer_id, invoice_id, request_id;
  std::string currency_code;
  std::optional<int64_t> amount_minor, balance_minor;
};

struct EventQuery {
  int64_t after_event_id = 0;
  std::vector<std::string> types;  // Empty: every type.
  std::string serial;              // Empty: any.
  std::string account_id;          // Empty: any.
  int limit = 500;
};

// The ids a reader can resume from: events after `oldest_kept - 1` are all
// still there; ids up to `last` have been handed out.
struct EventBounds {
  int64_t oldest_kept = 1;
  int64_t last = 0;
  // The stream's identity; a point-in-time restore gives it a new one.
  std::string stream_epoch;
};

class EventLog {
 public:
  explicit EventLog(pg::Pool& pool) : pool_(pool) {}

  // The statements it runs; the pool must prepare them.
  static std::vector<pg::Statement> Statements();
  // One of them: (count, age in seconds of the oldest) of the events
  // waiting in the outbox, for backlog::Gauges.
  static const pg::Statement& WaitingStatement();

  // Moves up to `max_events` committed outbox rows to events, numbered in
  // outbox order after the last id handed out, in one transaction. Returns
  // how many; 0 when another replica's relay holds the counter.
  absl::StatusOr<int> Relay(int max_events);
  // Moves every outbox row committed before the call to events (waiting for
  // a relay that holds the counter), `chunk` rows a statement: afterwards a
  // read sees every event committed before the call.
  absl::Status CatchUp(int chunk);
  // Deletes up to `max_events` of the oldest events written before
  // `before`. Returns how many.
  absl::StatusOr<int> Prune(absl::Time before, int max_events);
  // Events after query.after_event_id, in id order, at most query.limit.
  absl::StatusOr<std::vector<Event>> Read(const EventQuery& query);
  absl::StatusOr<EventBounds> Bounds();
  // For a stream epoch other than the current one: the last event id the
  // events read under it share with the current stream (a restore to an
  // earlier point since then changed what the ids after it name).
  absl::StatusOr<int64_t> EpochSharedThrough(const std::string& stream_epoch);

 private:
  pg::Pool& pool_;
};

// The relay's pass, for a server::PeriodicTask: moves every committed
// outbox row, and prunes events older than `retention` (at most once a
// minute, or once a retention when that is shorter). Failures are logged and retried on the next
// pass: the rows wait in the outbox, committed, so none is lost.
class Relay {
 public:
  Relay(EventLog& log, absl::Duration retention) : log_(log), retention_(retention) {}
  void Pass();
  int64_t relayed() const { return relayed_.load(); }
  int64_t pruned() const { return pruned_.load(); }

 private:
  EventLog& log_;
  const absl::Duration retention_;
  absl::Time next_prune_ = absl::InfinitePast();
  std::atomic<int64_t> relayed_{0}, pruned_{0};
};

}  // namespace giftcard::outbox

#endif  // GIFTCARD_LIBS_OUTBOX_EVENT_LOG_H_

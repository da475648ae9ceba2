#include "outbox/event_log.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "errors/status.h"
#include "log/log.h"

namespace giftcard::outbox {
namespace {

const std::string kColumns =
    "type, event_time, serial, batch_id, account_id, redemption_id, transfer_id, invoice_id, "
    "request_id, currency_code, amount_minor, balance_minor";

// The counter's row lock makes one relay at a time across replicas; a
// relay that finds it held leaves the work to the one holding it.
const pg::Statement kLockCounter{"ob_lock_counter",
                                 "SELECT last_event_id FROM event_counter FOR UPDATE SKIP LOCKED"};
// The same lock, waited for: a reader that must see every event committed
// before its call lets the running relay finish, then moves the rest itself.
const pg::Statement kLockCounterWait{"ob_lock_counter_wait",
                                     "SELECT last_event_id FROM event_counter FOR UPDATE"};
// Oldest outbox rows first; each gets the next id. One statement, so the
// rows deleted are exactly the rows numbered: in one snapshot, the rows up
// to the $2-th visible id are the first $2 visible rows. A range on the key,
// not `IN (subquery)`: the outbox is empty most of the time, and a generic
// plan made over it empty re-ran that subquery for every row of a later
// burst (68 s for 5,000 of 50,000 rows; OutboxTest).
const pg::Statement kMove{
    "ob_move", absl::StrCat("WITH moved AS (DELETE FROM event_outbox WHERE outbox_id <="
                            " (SELECT max(outbox_id) FROM (SELECT outbox_id FROM event_outbox"
                            "   ORDER BY outbox_id LIMIT $2) oldest)"
                            " RETURNING outbox_id, ",
                            kColumns, ") INSERT INTO events (event_id, ", kColumns,
                            ") SELECT $1 + row_number() OVER (ORDER BY outbox_id), ", kColumns,
                            " FROM moved")};
const pg::Statement kAdvanceCounter{"ob_advance_counter",
                                    "UPDATE event_counter SET last_event_id = last_event_id + $1"};
// A prefix of the ids only: among the oldest $2 events by id, everything
// before the first one written at or after $1 (bounded work). Never an id
// from the middle: a consumer behind the prefix is told by pruned_through.
const pg::Statement kPrune{
    "ob_prune",
    "WITH oldest AS (SELECT event_id, event_time FROM events ORDER BY event_id LIMIT $2), "
    "cut AS (SELECT coalesce("
    "   (SELECT min(event_id) - 1 FROM oldest"
    "     WHERE event_time >= to_timestamp($1::double precision / 1000000)),"
    "   (SELECT max(event_id) FROM oldest)) AS through), "
    "gone AS (DELETE FROM events WHERE event_id <= (SELECT through FROM cut) RETURNING 1), "
    "mark AS (UPDATE event_counter SET pruned_through = greatest(pruned_through, through)"
    "   FROM cut WHERE through IS NOT NULL RETURNING 1) "
    "SELECT count(*) FROM gone"};
const pg::Statement kRead{
    "ob_read", absl::StrCat("SELECT event_id, ", kColumns, ", ", pg::Micros("event_time"),
                            " FROM events WHERE event_id > $1"
                            " AND (cardinality($2::text[]) = 0 OR type = ANY($2::text[]))"
                            " AND ($3 = '' OR serial = $3) AND ($4 = '' OR account_id = $4)"
                            " ORDER BY event_id LIMIT $5")};
const pg::Statement kBounds{
    "ob_bounds", "SELECT pruned_through + 1, last_event_id, stream_epoch FROM event_counter"};

// For a consumer's epoch $1 other than the current one: the last event id
// its events share with the current stream. An epoch the history knows
// shares ids up to the earliest restore after it; one it does not know (it
// began after the point this database was restored to) shares what every
// epoch since that point shares: ids up to the current epoch's start.
const pg::Statement kEpochSharedThrough{
    "ob_epoch_shared_through",
    "SELECT coalesce("
    " (SELECT min(later.after_event_id) FROM event_stream_epochs mine"
    "   JOIN event_stream_epochs later ON later.start_time > mine.start_time"
    "  WHERE mine.stream_epoch = $1),"
    " (SELECT e.after_event_id FROM event_stream_epochs e JOIN event_counter c"
    "   ON c.stream_epoch = e.stream_epoch), 0)"};

std::optional<int64_t> OptionalInt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<int64_t>();
}

}  // namespace

// What waits to be relayed, for backlog::Gauges: the oldest row by key (the
// ids grow with time), so the probe reads one index entry however long the
// outbox has grown; the count stops at 100,000, past any threshold worth
// paging on. (count, oldest age in s).
const pg::Statement kWaiting{
    "ob_waiting",
    "SELECT (SELECT count(*) FROM (SELECT 1 FROM event_outbox LIMIT 100000) waiting),"
    " coalesce((SELECT extract(epoch FROM now() - event_time)::float8 FROM event_outbox"
    "  ORDER BY outbox_id LIMIT 1), 0)"};

std::vector<pg::Statement> EventLog::Statements() {
  return {kLockCounter, kLockCounterWait, kMove,    kAdvanceCounter,    kPrune,
          kRead,        kBounds,          kWaiting, kEpochSharedThrough};
}

const pg::Statement& EventLog::WaitingStatement() { return kWaiting; }

absl::StatusOr<int> EventLog::Relay(int max_events) {
  int moved = 0;
  absl::Status s = pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    moved = 0;
    pqxx::result counter = tx.exec_prepared(kLockCounter.name);
    if (counter.empty()) return absl::OkStatus();  // Another relay runs.
    const int64_t last = counter[0][0].as<int64_t>();
    moved = static_cast<int>(tx.exec_prepared(kMove.name, last, max_events).affected_rows());
    if (moved > 0) tx.exec_prepared(kAdvanceCounter.name, moved);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return moved;
}

absl::Status EventLog::CatchUp(int chunk) {
  return pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    int64_t last = tx.exec_prepared1(kLockCounterWait.name)[0].as<int64_t>();
    while (true) {
      const int moved = static_cast<int>(tx.exec_prepared(kMove.name, last, chunk).affected_rows());
      if (moved == 0) break;
      tx.exec_prepared(kAdvanceCounter.name, moved);
      last += moved;
      if (moved < chunk) break;
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<int> EventLog::Prune(absl::Time before, int max_events) {
  int pruned = 0;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    pruned = static_cast<int>(
        tx.exec_prepared1(kPrune.name, absl::ToUnixMicros(before), max_events)[0].as<int64_t>());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return pruned;
}

absl::StatusOr<std::vector<Event>> EventLog::Read(const EventQuery& query) {
  std::vector<Event> out;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    out.clear();
    for (const auto& row :
         tx.exec_prepared(kRead.name, query.after_event_id, pg::TextArray(query.types),
                          query.serial, query.account_id, query.limit)) {
      Event e;
      e.event_id = row[0].as<int64_t>();
      e.type = row[1].as<std::string>();
      e.serial = row[3].as<std::string>();
      e.batch_id = row[4].as<std::string>();
      e.account_id = row[5].as<std::string>();
      e.redemption_id = row[6].as<std::string>();
      e.transfer_id = row[7].as<std::string>();
      e.invoice_id = row[8].as<std::string>();
      e.request_id = row[9].as<std::string>();
      e.currency_code = row[10].as<std::string>();
      e.amount_minor = OptionalInt(row[11]);
      e.balance_minor = OptionalInt(row[12]);
      e.event_time = absl::FromUnixMicros(row[13].as<int64_t>());
      out.push_back(std::move(e));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<int64_t> EventLog::EpochSharedThrough(const std::string& stream_epoch) {
  int64_t through = 0;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    through = tx.exec_prepared1(kEpochSharedThrough.name, stream_epoch)[0].as<int64_t>();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return through;
}

absl::StatusOr<EventBounds> EventLog::Bounds() {
  EventBounds out;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    pqxx::row row = tx.exec_prepared1(kBounds.name);
    out.oldest_kept = row[0].as<int64_t>();
    out.last = row[1].as<int64_t>();
    out.stream_epoch = row[2].as<std::string>();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

void Relay::Pass() {
  constexpr int kChunk = 5000;
  while (true) {
    absl::StatusOr<int> moved = log_.Relay(kChunk);
    if (!moved.ok()) {
      log::Warning("event_relay_failed", {{"status", errors::Describe(moved.status())}});
      return;
    }
    relayed_ += *moved;
    if (*moved < kChunk) break;
  }
  if (absl::Now() < next_prune_) return;
  next_prune_ = absl::Now() + std::min(absl::Minutes(1), retention_);
  while (true) {
    absl::StatusOr<int> pruned = log_.Prune(absl::Now() - retention_, kChunk);
    if (!pruned.ok()) {
      log::Warning("event_prune_failed", {{"status", errors::Describe(pruned.status())}});
      return;
    }
    pruned_ += *pruned;
    if (*pruned < kChunk) return;
  }
}

}  // namespace giftcard::outbox

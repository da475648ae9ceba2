#include "backlog/backlog.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "errors/status.h"
#include "log/log.h"
#include "metrics/registry.h"
#include "outbox/event_log.h"

namespace giftcard::backlog {
namespace {

constexpr char kSagas[] = "giftcard_sagas_unsettled";
constexpr char kSagaOldest[] = "giftcard_saga_oldest_unsettled_seconds";
constexpr char kOutboxEvents[] = "giftcard_outbox_events_waiting";
constexpr char kOutboxOldest[] = "giftcard_outbox_oldest_event_seconds";
constexpr char kProbed[] = "giftcard_backlog_probe_timestamp_seconds";

}  // namespace

Probe::Probe(pg::Pool& pool, std::vector<pg::Statement> saga_statements)
    : pool_(pool), saga_statements_(std::move(saga_statements)) {}

absl::StatusOr<Waiting> Probe::Run(const pg::Statement& statement) {
  Waiting waiting;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) {
    pqxx::row row = tx.exec_prepared1(statement.name);
    waiting.count = row["count"].as<int64_t>();
    waiting.oldest_seconds = std::max(0.0, row["oldest_seconds"].as<double>());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return waiting;
}

absl::Status Probe::Measure() {
  absl::StatusOr<Waiting> outbox = Run(outbox::EventLog::WaitingStatement());
  if (!outbox.ok()) return outbox.status();
  Waiting sagas;
  for (const pg::Statement& statement : saga_statements_) {
    absl::StatusOr<Waiting> one = Run(statement);
    if (!one.ok()) return one.status();
    sagas.count += one->count;
    sagas.oldest_seconds = std::max(sagas.oldest_seconds, one->oldest_seconds);
  }
  outbox_events_.store(outbox->count);
  outbox_oldest_seconds_.store(outbox->oldest_seconds);
  sagas_unsettled_.store(sagas.count);
  saga_oldest_seconds_.store(sagas.oldest_seconds);
  measured_unix_seconds_.store(absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch()));
  return absl::OkStatus();
}

Gauges::Gauges(pg::Pool& pool, std::vector<pg::Statement> saga_statements, absl::Duration interval)
    : probe_(pool, std::move(saga_statements)), task_("backlog-probe", interval, [this] {
        if (absl::Status s = probe_.Measure(); !s.ok()) {
          log::Warning("backlog_probe_failed", {{"status", errors::Describe(s)}});
        }
      }) {
  metrics::Registry& r = metrics::Global();
  r.AddCallback(kSagas,
                "Sagas this service started and has not settled yet (pending redemptions and "
                "clawbacks; unsettled credit applications and reversals).",
                "gauge", [this] { return probe_.sagas_unsettled(); });
  r.AddCallback(kSagaOldest, "Age of the oldest unsettled saga, 0 when none.", "gauge",
                [this] { return probe_.saga_oldest_seconds(); });
  r.AddCallback(kOutboxEvents,
                "Committed events not yet moved to the event log (counted up to 100,000).", "gauge",
                [this] { return probe_.outbox_events(); });
  r.AddCallback(kOutboxOldest, "Age of the oldest event waiting in the outbox, 0 when none.",
                "gauge", [this] { return probe_.outbox_oldest_seconds(); });
  r.AddCallback(kProbed, "Unix time the gauges above were last measured; 0 before the first time.",
                "gauge", [this] { return probe_.measured_unix_seconds(); });
}

Gauges::~Gauges() {
  for (const char* name : {kSagas, kSagaOldest, kOutboxEvents, kOutboxOldest, kProbed}) {
    metrics::Global().RemoveCallback(name);
  }
}

}  // namespace giftcard::backlog

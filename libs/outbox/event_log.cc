#include "outbox/event_log.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "errors/status.h"
#include "log/log.h"
#include "outbox/sql/statements.h"

namespace giftcard::outbox {
namespace {

std::optional<int64_t> OptionalInt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<int64_t>();
}

}  // namespace

std::vector<pg::Statement> EventLog::Statements() { return sql::AllStatements(); }

const pg::Statement& EventLog::WaitingStatement() { return sql::kWaiting; }

absl::StatusOr<int> EventLog::Relay(int max_events) {
  int moved = 0;
  absl::Status s = pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    moved = 0;
    pqxx::result counter = tx.exec_prepared(sql::kLockCounter.name);
    if (counter.empty()) return absl::OkStatus();  // Another relay runs.
    const int64_t last = counter[0]["last_event_id"].as<int64_t>();
    moved = static_cast<int>(tx.exec_prepared(sql::kMove.name, last, max_events).affected_rows());
    if (moved > 0) tx.exec_prepared(sql::kAdvanceCounter.name, moved);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return moved;
}

absl::Status EventLog::CatchUp(int chunk) {
  return pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    int64_t last = tx.exec_prepared1(sql::kLockCounterWait.name)["last_event_id"].as<int64_t>();
    while (true) {
      const int moved =
          static_cast<int>(tx.exec_prepared(sql::kMove.name, last, chunk).affected_rows());
      if (moved == 0) break;
      tx.exec_prepared(sql::kAdvanceCounter.name, moved);
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
        tx.exec_prepared1(sql::kPrune.name, absl::ToUnixMicros(before), max_events)["pruned"]
            .as<int64_t>());
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
         tx.exec_prepared(sql::kRead.name, query.after_event_id, pg::TextArray(query.types),
                          query.serial, query.account_id, query.limit)) {
      Event e;
      e.event_id = row["event_id"].as<int64_t>();
      e.type = row["type"].as<std::string>();
      e.serial = row["serial"].as<std::string>();
      e.batch_id = row["batch_id"].as<std::string>();
      e.account_id = row["account_id"].as<std::string>();
      e.redemption_id = row["redemption_id"].as<std::string>();
      e.transfer_id = row["transfer_id"].as<std::string>();
      e.invoice_id = row["invoice_id"].as<std::string>();
      e.request_id = row["request_id"].as<std::string>();
      e.currency_code = row["currency_code"].as<std::string>();
      e.amount_minor = OptionalInt(row["amount_minor"]);
      e.balance_minor = OptionalInt(row["balance_minor"]);
      e.event_time = absl::FromUnixMicros(row["event_time_us"].as<int64_t>());
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
    through = tx.exec_prepared1(sql::kEpochSharedThrough.name, stream_epoch)["shared_through"]
                  .as<int64_t>();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return through;
}

absl::StatusOr<EventBounds> EventLog::Bounds() {
  EventBounds out;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    pqxx::row row = tx.exec_prepared1(sql::kBounds.name);
    out.oldest_kept = row["oldest_kept"].as<int64_t>();
    out.last = row["last_event_id"].as<int64_t>();
    out.stream_epoch = row["stream_epoch"].as<std::string>();
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

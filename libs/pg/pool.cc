#include "pg/pool.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "errors/status.h"
#include "log/log.h"
#include "metrics/registry.h"

namespace giftcard::pg {
namespace {

bool IsConnectionClass(const std::string& sqlstate) {
  // 08: connection exception; 57P0x: server shutting down / crashed;
  // 53: insufficient resources (too many connections, disk full).
  return absl::StartsWith(sqlstate, "08") || absl::StartsWith(sqlstate, "57P0") ||
         absl::StartsWith(sqlstate, "53");
}

}  // namespace

std::string Micros(const std::string& column) {
  return absl::StrCat("(extract(epoch FROM ", column, ") * 1000000)::bigint");
}

std::string ByteaArray(const std::vector<std::string>& values) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ",";
    out += "\"\\\\x";  // "\\x: an escaped backslash inside a quoted element.
    for (unsigned char c : values[i]) {
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
    out += "\"";
  }
  return out + "}";
}

std::string TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ",";
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

std::string WithConnectTimeout(const std::string& dsn, int seconds) {
  if (absl::StrContains(dsn, "connect_timeout")) return dsn;
  if (absl::StartsWith(dsn, "postgres://") || absl::StartsWith(dsn, "postgresql://")) {
    return absl::StrCat(dsn, absl::StrContains(dsn, "?") ? "&" : "?", "connect_timeout=", seconds);
  }
  return absl::StrCat(dsn, " connect_timeout=", seconds);
}

Pool::Pool(PoolOptions options, std::vector<Statement> statements)
    : options_(std::move(options)), statements_(std::move(statements)) {
  for (int i = 0; i < options_.size; ++i) {
    slots_.push_back(std::make_unique<Slot>());
    free_.push_back(slots_.back().get());
  }
  // One pool per service process: the gauges are the process's pool.
  metrics::Global().AddCallback("giftcard_pg_pool_connections_in_use",
                                "Postgres connections of the pool lent out now.", "gauge", [this] {
                                  absl::MutexLock lock(&mu_);
                                  return static_cast<double>(slots_.size() - free_.size());
                                });
  metrics::Global().AddCallback("giftcard_pg_pool_connections", "Size of the Postgres pool.",
                                "gauge", [this] { return static_cast<double>(slots_.size()); });
}

Pool::~Pool() {
  metrics::Global().RemoveCallback("giftcard_pg_pool_connections_in_use");
  metrics::Global().RemoveCallback("giftcard_pg_pool_connections");
}

namespace {

metrics::Histogram& PoolWait() {
  static metrics::Histogram& wait = metrics::Global().AddHistogram(
      "giftcard_pg_pool_wait_seconds", "Time a call waited for a free Postgres connection.", {},
      metrics::LatencyBuckets());
  return wait;
}

}  // namespace

absl::Status Pool::StatusFromException(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return errors::DependencyUnavailable("postgres", "connection lost");
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return errors::DependencyUnavailable("postgres", "commit outcome unknown");
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    if (IsConnectionClass(sql->sqlstate())) {
      return errors::DependencyUnavailable("postgres", sql->sqlstate());
    }
    // Serialization failures, deadlocks, and unique violations from two
    // requests racing for one key: rerunning the transaction sees the winner.
    if (sql->sqlstate() == "40001" || sql->sqlstate() == "40P01" || sql->sqlstate() == "23505") {
      return errors::Error(absl::StatusCode::kAborted, errors::reason::kConflict,
                           "concurrent update; retry");
    }
    if (sql->sqlstate() == "57014") {  // statement_timeout
      return errors::DependencyUnavailable("postgres", "statement timeout");
    }
    log::Error("sql_error", {{"sqlstate", sql->sqlstate()}, {"what", sql->what()}});
    return errors::Error(absl::StatusCode::kInternal, errors::reason::kInternal,
                         absl::StrCat("database error ", sql->sqlstate()));
  }
  log::Error("storage_exception", {{"what", e.what()}});
  return errors::Error(absl::StatusCode::kInternal, errors::reason::kInternal, "storage error");
}

absl::Status Pool::Open(Slot& slot) {
  try {
    auto conn = std::make_unique<pqxx::connection>(WithConnectTimeout(options_.dsn, 2));
    for (const auto& st : statements_) conn->prepare(st.name, st.sql);
    slot.conn = std::move(conn);
    return absl::OkStatus();
  } catch (const std::exception& e) {
    slot.conn.reset();
    return errors::DependencyUnavailable("postgres", "cannot connect");
  }
}

absl::StatusOr<Pool::Slot*> Pool::Acquire() {
  Slot* slot = nullptr;
  const absl::Time start = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    auto has_free = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !free_.empty(); };
    if (!mu_.AwaitWithTimeout(absl::Condition(&has_free), options_.acquire_timeout)) {
      return errors::DependencyUnavailable("postgres", "no free connection in the pool");
    }
    slot = free_.back();
    free_.pop_back();
  }
  PoolWait().Observe({}, absl::ToDoubleSeconds(absl::Now() - start));
  if (slot->conn == nullptr || !slot->conn->is_open()) {
    if (absl::Status s = Open(*slot); !s.ok()) {
      Release(slot, /*broken=*/true);
      return s;
    }
  }
  return slot;
}

void Pool::Release(Slot* slot, bool broken) {
  if (broken) slot->conn.reset();
  absl::MutexLock lock(&mu_);
  free_.push_back(slot);
}

template <typename Tx, typename Body>
absl::Status Pool::Run(const Body& body) {
  absl::Status last;
  bool reconnected = false;
  for (int attempt = 0; attempt <= options_.max_retries;) {
    auto slot = Acquire();
    if (!slot.ok()) return slot.status();
    bool broken = false;
    try {
      Tx tx(*(*slot)->conn);
      last = body(tx);
      if (last.ok()) {
        tx.commit();
      } else {
        tx.abort();
      }
    } catch (const pqxx::broken_connection& e) {
      last = StatusFromException(e);
      broken = true;
      // Lost before COMMIT was sent (a lost COMMIT is in_doubt_error), so
      // nothing was written: after a Postgres restart every pooled connection
      // is stale, and one fresh retry spares the caller that error.
      if (!reconnected) {
        reconnected = true;
        Release(*slot, broken);
        continue;
      }
    } catch (const std::exception& e) {
      last = StatusFromException(e);
      // After a failed statement the connection may be unusable; only keep it
      // when the server told us exactly what went wrong.
      broken = last.code() == absl::StatusCode::kUnavailable ||
               last.code() == absl::StatusCode::kInternal;
    }
    Release(*slot, broken);
    // ABORTED is a serialization failure, a deadlock, a unique violation, or
    // a race the body detected itself: rerun the body, which sees the winner.
    if (last.code() != absl::StatusCode::kAborted) return last;
    absl::SleepFor(absl::Milliseconds(2 << attempt));
    ++attempt;
  }
  return last;
}

absl::Status Pool::Transact(const std::function<absl::Status(pqxx::work&)>& body) {
  return Run<pqxx::work>(body);
}

absl::Status Pool::Read(const std::function<absl::Status(pqxx::transaction_base&)>& body) {
  return Run<pqxx::nontransaction>(body);
}

absl::Status Pool::Autocommit(const std::function<absl::Status(pqxx::transaction_base&)>& body) {
  return Run<pqxx::nontransaction>(body);
}

absl::Status Pool::ReadSnapshot(const std::function<absl::Status(pqxx::transaction_base&)>& body) {
  return Run<pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>>(body);
}

absl::Status Pool::Ping() {
  return Read([](pqxx::transaction_base& tx) {
    tx.exec("SELECT 1");
    return absl::OkStatus();
  });
}

}  // namespace giftcard::pg

#include "pg/pool.h"

#include <sys/socket.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "deadline/deadline.h"
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

Pool::Pool(PoolOptions options, std::vector<Statement> statements)
    : options_(std::move(options)), statements_(std::move(statements)) {
  watchdog_ = std::thread([this] { WatchdogLoop(); });
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
  {
    absl::MutexLock lock(&watch_mu_);
    stopping_ = true;
    watch_changed_.Signal();
  }
  watchdog_.join();
  metrics::Global().RemoveCallback("giftcard_pg_pool_connections_in_use");
  metrics::Global().RemoveCallback("giftcard_pg_pool_connections");
}

namespace {

// SQLSTATE of a write sent to a read-only session (a hot standby).
constexpr char kReadOnlyTransaction[] = "25006";

metrics::Histogram& PoolWait() {
  static metrics::Histogram& wait = metrics::Global().AddHistogram(
      "giftcard_pg_pool_wait_seconds", "Time a call waited for a free Postgres connection.", {},
      metrics::LatencyBuckets());
  return wait;
}

}  // namespace

absl::Status StatusFromSqlState(const std::string& sqlstate, const std::string& what) {
  if (IsConnectionClass(sqlstate)) {
    return errors::DependencyUnavailable("postgres", sqlstate);
  }
  // Serialization failures, deadlocks, and unique violations from two
  // requests racing for one key: rerunning the transaction sees the winner.
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "23505") {
    return errors::Error(absl::StatusCode::kAborted, errors::reason::kConflict,
                         "concurrent update; retry");
  }
  if (sqlstate == "57014") {  // statement_timeout
    return errors::DependencyUnavailable("postgres", "statement timeout");
  }
  if (sqlstate == "55P03") {  // lock_timeout
    return errors::DependencyUnavailable("postgres", "lock timeout");
  }
  if (sqlstate == kReadOnlyTransaction) {
    return errors::DependencyUnavailable("postgres",
                                         "the server is read-only (a standby, or failing over)");
  }
  log::Error("sql_error", {{"sqlstate", sqlstate}, {"what", what}});
  return errors::Error(absl::StatusCode::kInternal, errors::reason::kInternal,
                       absl::StrCat("database error ", sqlstate));
}

absl::Status Pool::StatusFromException(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return errors::DependencyUnavailable("postgres", "connection lost");
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return errors::DependencyUnavailable("postgres", "commit outcome unknown");
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    return StatusFromSqlState(sql->sqlstate(), sql->what());
  }
  log::Error("storage_exception", {{"what", e.what()}});
  return errors::Error(absl::StatusCode::kInternal, errors::reason::kInternal, "storage error");
}

std::string SessionSettings(const PoolOptions& options) {
  return absl::StrCat(
      "SET statement_timeout = ", absl::ToInt64Milliseconds(options.statement_timeout),
      "; SET lock_timeout = ", absl::ToInt64Milliseconds(options.lock_timeout),
      "; SET idle_in_transaction_session_timeout = ",
      absl::ToInt64Milliseconds(options.idle_in_transaction_timeout),
      "; SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off"
      "; SET enable_hashjoin = off; SET jit = off");
}

absl::Status Pool::Open(Slot& slot, absl::Time deadline) {
  try {
    // connect_timeout bounds the connection itself; the watchdog what follows.
    slot.conn =
        std::make_unique<pqxx::connection>(WithKeepalives(WithConnectTimeout(options_.dsn, 2)));
    Watch(slot, deadline);
    try {
      // The server's own limits for this session: a statement, a lock
      // wait, a transaction left open by a client that went away. And the
      // generic plan of each prepared statement: for array parameters
      // (`= ANY($1)`, every lookup by PIN hash) the planner would keep
      // choosing a custom plan, planning every execution anew; forcing
      // the generic one cut Postgres's CPU per redemption by about a
      // sixth (docs/decisions.md, "Performance"). That plan is made at a
      // statement's first execution, on a fresh database while its tables
      // are empty: a sequential scan and a hash join would then stay as the
      // table grows. Every statement of the request path has an index, so
      // its sessions plan without those (snapshot reads, which read whole
      // tables, turn them back on), and without JIT compilation, which an
      // OLTP statement never repays.
      pqxx::nontransaction tx(*slot.conn);
      tx.exec(SessionSettings(options_));
      tx.commit();
      for (const auto& st : statements_) slot.conn->prepare(st.name, st.sql);
    } catch (const std::exception&) {
      Unwatch(slot);
      throw;
    }
    if (Unwatch(slot)) throw pqxx::broken_connection("cut off while opening");
    return absl::OkStatus();
  } catch (const std::exception& e) {
    slot.conn.reset();
    return errors::DependencyUnavailable("postgres", "cannot connect");
  }
}

absl::StatusOr<Pool::Slot*> Pool::Acquire(absl::Time deadline) {
  {
    absl::MutexLock lock(&watch_mu_);
    if (abandoned_) return errors::DependencyUnavailable("postgres", "shutting down");
  }
  Slot* slot = nullptr;
  const absl::Time start = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    auto has_free = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return !free_.empty(); };
    if (!mu_.AwaitWithDeadline(absl::Condition(&has_free),
                               std::min(deadline, start + options_.acquire_timeout))) {
      return errors::DependencyUnavailable("postgres", "no free connection in the pool");
    }
    slot = free_.back();
    free_.pop_back();
  }
  PoolWait().Observe({}, absl::ToDoubleSeconds(absl::Now() - start));
  if (slot->conn == nullptr || !slot->conn->is_open()) {
    if (absl::Status s = Open(*slot, deadline); !s.ok()) {
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

void Pool::Watch(Slot& slot, absl::Time deadline) {
  absl::MutexLock lock(&watch_mu_);
  slot.watched = true;
  slot.socket = slot.conn->sock();
  slot.deadline = deadline;
  slot.cut_off = false;
  if (deadline < watchdog_wake_) watch_changed_.Signal();
}

bool Pool::Unwatch(Slot& slot) {
  absl::MutexLock lock(&watch_mu_);
  slot.watched = false;
  return slot.cut_off;
}

void Pool::WatchdogLoop() {
  absl::MutexLock lock(&watch_mu_);
  while (!stopping_) {
    const absl::Time now = absl::Now();
    watchdog_wake_ = absl::InfiniteFuture();
    for (const auto& slot : slots_) {
      if (!slot->watched || slot->cut_off) continue;
      if (abandoned_ || slot->deadline <= now) {
        // The socket stays open (the connection owns it) until the call
        // unwatches it, so this never hits a reused descriptor.
        ::shutdown(slot->socket, SHUT_RDWR);
        slot->cut_off = true;
        log::Warning("postgres_call_cut_off",
                     {{"why", abandoned_ ? "shutdown grace passed" : "deadline passed"}});
      } else {
        watchdog_wake_ = std::min(watchdog_wake_, slot->deadline);
      }
    }
    watch_changed_.WaitWithDeadline(&watch_mu_, watchdog_wake_);
  }
}

void Pool::Abandon() {
  absl::MutexLock lock(&watch_mu_);
  abandoned_ = true;
  watch_changed_.Signal();
}

template <typename Tx, typename Body>
absl::Status Pool::Run(const Body& body, absl::Duration limit) {
  const absl::Time deadline = std::min(deadline::Current(), absl::Now() + limit + kDeadlineMargin);
  absl::Status last;
  bool reconnected = false;
  for (int attempt = 0; attempt <= options_.max_retries;) {
    if (absl::Now() >= deadline) {
      return last.ok() || last.code() == absl::StatusCode::kAborted
                 ? errors::DependencyUnavailable("postgres", "the call's deadline passed")
                 : last;
    }
    auto slot = Acquire(deadline);
    if (!slot.ok()) return slot.status();
    Watch(**slot, deadline);
    bool broken = false;
    bool lost_before_commit = false;
    bool read_only = false;  // A standby answered: the write did nothing.
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
      // Lost before COMMIT was sent (a lost COMMIT is in_doubt_error).
      lost_before_commit = true;
    } catch (const std::exception& e) {
      last = StatusFromException(e);
      // After a failed statement the connection may be unusable; only keep it
      // when the server told us exactly what went wrong (its own timeouts
      // included: the session is fine).
      const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
      read_only = sql != nullptr && sql->sqlstate() == kReadOnlyTransaction;
      const bool server_timeout =
          sql != nullptr && (sql->sqlstate() == "57014" || sql->sqlstate() == "55P03");
      broken = !server_timeout && (last.code() == absl::StatusCode::kUnavailable ||
                                   last.code() == absl::StatusCode::kInternal);
    }
    if (Unwatch(**slot)) {
      // The server did not answer in time: whatever was sent may or may not
      // have taken effect, and there is no time left to find out.
      Release(*slot, /*broken=*/true);
      return errors::DependencyUnavailable("postgres", "no answer before the deadline");
    }
    Release(*slot, broken);
    // After a Postgres restart every pooled connection is stale, and after a
    // failover the old primary answers as a read-only standby: one retry on
    // a fresh connection (which libpq's target_session_attrs=read-write
    // points at the new primary) spares the caller that error; nothing was
    // written.
    if ((lost_before_commit || read_only) && !reconnected) {
      reconnected = true;
      continue;
    }
    // ABORTED is a serialization failure, a deadlock, a unique violation, or
    // a race the body detected itself: rerun the body, which sees the winner.
    if (last.code() != absl::StatusCode::kAborted) return last;
    absl::SleepFor(absl::Milliseconds(2 << attempt));
    ++attempt;
  }
  return last;
}

absl::Status Pool::Transact(const std::function<absl::Status(pqxx::work&)>& body) {
  return Run<pqxx::work>(body, options_.statement_timeout);
}

absl::Status Pool::BulkTransact(const std::function<absl::Status(pqxx::work&)>& body) {
  const absl::Duration limit =
      std::min(options_.bulk_write_timeout,
               std::max(deadline::Current() - absl::Now(), options_.statement_timeout));
  return Run<pqxx::work>(
      [&](pqxx::work& tx) {
        tx.exec(absl::StrCat("SET LOCAL statement_timeout = ", absl::ToInt64Milliseconds(limit)));
        return body(tx);
      },
      limit);
}

absl::Status Pool::Read(const std::function<absl::Status(pqxx::transaction_base&)>& body) {
  return Run<pqxx::nontransaction>(body, options_.statement_timeout);
}

absl::Status Pool::Autocommit(const std::function<absl::Status(pqxx::transaction_base&)>& body) {
  return Run<pqxx::nontransaction>(body, options_.statement_timeout);
}

absl::Status Pool::ReadSnapshot(const std::function<absl::Status(pqxx::transaction_base&)>& body) {
  const absl::Duration limit =
      std::min(options_.snapshot_read_timeout,
               std::max(deadline::Current() - absl::Now(), options_.statement_timeout));
  return Run<pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>>(
      [&](pqxx::transaction_base& tx) {
        // This transaction's statements get the longer limit; the session's
        // statement_timeout comes back at its end.
        tx.exec(absl::StrCat("SET LOCAL statement_timeout = ", absl::ToInt64Milliseconds(limit),
                             "; SET LOCAL enable_seqscan = on; SET LOCAL enable_hashjoin = on"));
        return body(tx);
      },
      limit);
}

absl::Status Pool::Ping(absl::Duration timeout) {
  const deadline::Scope scope(absl::Now() + timeout);
  return Read([](pqxx::transaction_base& tx) {
    tx.exec("SELECT 1");
    return absl::OkStatus();
  });
}

}  // namespace giftcard::pg

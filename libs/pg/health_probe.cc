#include "pg/health_probe.h"

#include <libpq-fe.h>
#include <poll.h>

#include "absl/strings/str_cat.h"
#include "errors/status.h"

namespace giftcard::pg {
namespace {

// Waits until libpq's socket is ready for `events` or `deadline` passes.
bool WaitSocket(PGconn* conn, short events, absl::Time deadline) {
  const int fd = PQsocket(conn);
  if (fd < 0) return false;
  while (true) {
    const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
    if (ms <= 0) return false;
    pollfd p{fd, events, 0};
    const int ready = poll(&p, 1, static_cast<int>(ms));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return false;
  }
}

absl::Status Unavailable(const std::string& why) {
  return errors::Error(absl::StatusCode::kUnavailable, errors::reason::kDependencyUnavailable,
                       absl::StrCat("database: ", why));
}

}  // namespace

HealthProbe::HealthProbe(std::string dsn, absl::Duration timeout)
    : dsn_(std::move(dsn)), timeout_(timeout) {}

HealthProbe::~HealthProbe() { Drop(); }

void HealthProbe::Drop() {
  if (conn_ != nullptr) PQfinish(conn_);
  conn_ = nullptr;
}

absl::Status HealthProbe::Check() {
  const absl::Time deadline = absl::Now() + timeout_;
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    Drop();
    if (absl::Status connected = Connect(deadline); !connected.ok()) {
      Drop();
      return connected;
    }
  }
  absl::Status answered = Query(deadline);
  if (!answered.ok()) Drop();
  return answered;
}

absl::Status HealthProbe::Connect(absl::Time deadline) {
  conn_ = PQconnectStart(dsn_.c_str());
  if (conn_ == nullptr || PQstatus(conn_) == CONNECTION_BAD) {
    return Unavailable("cannot start a connection");
  }
  PostgresPollingStatusType state = PGRES_POLLING_WRITING;
  while (state != PGRES_POLLING_OK) {
    if (state == PGRES_POLLING_FAILED) return Unavailable("cannot connect");
    const short events = state == PGRES_POLLING_READING ? POLLIN : POLLOUT;
    if (!WaitSocket(conn_, events, deadline)) {
      return Unavailable(absl::StrCat("no connection within ", absl::FormatDuration(timeout_)));
    }
    state = PQconnectPoll(conn_);
  }
  if (PQsetnonblocking(conn_, 1) != 0) return Unavailable("cannot use the connection");
  return absl::OkStatus();
}

absl::Status HealthProbe::Query(absl::Time deadline) {
  if (PQsendQuery(conn_, "SELECT 1") != 1) return Unavailable("the connection is broken");
  while (true) {  // Sent whole, however long the server takes to read.
    const int flushed = PQflush(conn_);
    if (flushed == 0) break;
    if (flushed < 0 || !WaitSocket(conn_, POLLOUT, deadline)) {
      return Unavailable(absl::StrCat("no answer within ", absl::FormatDuration(timeout_)));
    }
  }
  bool ok = false;
  while (true) {
    while (PQisBusy(conn_)) {
      if (!WaitSocket(conn_, POLLIN, deadline) || PQconsumeInput(conn_) != 1) {
        return Unavailable(absl::StrCat("no answer within ", absl::FormatDuration(timeout_)));
      }
    }
    PGresult* result = PQgetResult(conn_);
    if (result == nullptr) break;
    ok = ok || PQresultStatus(result) == PGRES_TUPLES_OK;
    PQclear(result);
  }
  return ok ? absl::OkStatus() : Unavailable("SELECT 1 failed");
}

}  // namespace giftcard::pg

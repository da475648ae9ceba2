#include "pg/pipeline.h"

#include <libpq-fe.h>
#include <poll.h>

#include "absl/strings/str_cat.h"
#include "errors/status.h"

namespace giftcard::pg {
namespace {

absl::Status Unavailable(absl::string_view what) {
  return errors::DependencyUnavailable("postgres", what);
}

// The status a failed statement's result stands for.
absl::Status StatusOfResult(const PGresult* result) {
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const char* message = PQresultErrorMessage(result);
  return StatusFromSqlState(state != nullptr ? state : "", message != nullptr ? message : "");
}

PipelineRows RowsOf(const PGresult* result) {
  const int columns = PQnfields(result);
  std::vector<std::string> names;
  names.reserve(static_cast<size_t>(columns));
  for (int c = 0; c < columns; ++c) names.emplace_back(PQfname(result, c));
  std::vector<Cells> rows(static_cast<size_t>(PQntuples(result)));
  for (int r = 0; r < PQntuples(result); ++r) {
    auto& row = rows[static_cast<size_t>(r)];
    row.reserve(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(result, r, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(
            std::string(PQgetvalue(result, r, c), static_cast<size_t>(PQgetlength(result, r, c))));
      }
    }
  }
  return PipelineRows(std::move(names), std::move(rows));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PipelineConnection>> PipelineConnection::Connect(
    const std::string& dsn, const std::vector<Statement>& statements,
    const std::string& setup_sql) {
  PGconn* conn = PQconnectdb(dsn.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    PQfinish(conn);
    return Unavailable("cannot connect");
  }
  std::unique_ptr<PipelineConnection> out(new PipelineConnection(conn));
  if (!setup_sql.empty()) {
    PGresult* r = PQexec(conn, setup_sql.c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    absl::Status why = ok ? absl::OkStatus() : StatusOfResult(r);
    PQclear(r);
    if (!ok) return why;
  }
  for (const Statement& s : statements) {
    PGresult* r = PQprepare(conn, s.name.c_str(), s.sql.c_str(), 0, nullptr);
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    absl::Status why = ok ? absl::OkStatus() : StatusOfResult(r);
    PQclear(r);
    if (!ok) return why;
  }
  if (PQsetnonblocking(conn, 1) != 0 || PQenterPipelineMode(conn) != 1) {
    return Unavailable("cannot enter pipeline mode");
  }
  return out;
}

PipelineConnection::~PipelineConnection() { PQfinish(conn_); }

int PipelineConnection::socket() const { return PQsocket(conn_); }

absl::Status PipelineConnection::Broken(absl::string_view what) {
  const absl::Status status = Unavailable(what);
  FailInFlight(status);
  return status;
}

void PipelineConnection::FailInFlight(const absl::Status& why) {
  // Whatever was in flight has no answer now: its outcome is unknown.
  std::deque<Transaction> lost;
  lost.swap(in_flight_);
  for (Transaction& t : lost) t.done(why);
}

absl::Status PipelineConnection::Send(const std::vector<PipelineQuery>& queries,
                                      PipelineDone done) {
  std::vector<const char*> values;
  for (const PipelineQuery& q : queries) {
    values.clear();
    for (const auto& p : q.params) values.push_back(p ? p->c_str() : nullptr);
    if (PQsendQueryPrepared(conn_, q.statement.c_str(), static_cast<int>(values.size()),
                            values.data(), nullptr, nullptr, 0) != 1) {
      // A statement queued before this one is already part of a pipeline
      // the server will run: the connection cannot be trusted any more.
      done(Unavailable("cannot queue a statement"));
      return Broken("cannot queue a statement");
    }
  }
  if (PQpipelineSync(conn_) != 1) {
    done(Unavailable("cannot queue the sync"));
    return Broken("cannot queue the sync");
  }
  Transaction t;
  t.queries = queries.size();
  t.done = std::move(done);
  in_flight_.push_back(std::move(t));
  return Flush();
}

absl::Status PipelineConnection::Flush() {
  const int flushed = PQflush(conn_);
  if (flushed < 0) return Broken("cannot send");
  wants_write_ = flushed == 1;
  return absl::OkStatus();
}

absl::Status PipelineConnection::OnWritable() { return Flush(); }

absl::Status PipelineConnection::OnReadable() {
  if (PQconsumeInput(conn_) != 1) return Broken("connection lost");
  while (!in_flight_.empty() && !PQisBusy(conn_)) {
    Transaction& t = in_flight_.front();
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {  // The end of one query's results.
      if (t.result_seen) {
        ++t.answered;
        t.result_seen = false;
      }
      continue;
    }
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      Transaction done = std::move(t);
      in_flight_.pop_front();
      if (!done.failed.ok()) {
        done.done(done.failed);
      } else if (done.answered != done.queries) {
        done.done(absl::InternalError("a pipelined transaction lost a result"));
      } else {
        done.done(std::move(done.rows));
      }
      continue;
    }
    t.result_seen = true;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      t.rows.push_back(RowsOf(r));
    } else if (status == PGRES_PIPELINE_ABORTED) {
      // Skipped after an earlier failure: that one is the answer.
      if (t.failed.ok()) t.failed = absl::AbortedError("pipeline aborted");
    } else if (t.failed.ok()) {
      t.failed = StatusOfResult(r);
    }
    PQclear(r);
  }
  return absl::OkStatus();
}

absl::Status RunUntilIdle(PipelineConnection& conn, absl::Time deadline) {
  while (conn.in_flight() > 0) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return absl::DeadlineExceededError("pipeline not idle");
    pollfd fd{conn.socket(), static_cast<short>(POLLIN | (conn.WantsWrite() ? POLLOUT : 0)), 0};
    const int ready = ::poll(&fd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1);
    if (ready < 0) return absl::InternalError("poll failed");
    if (fd.revents & POLLOUT) {
      if (absl::Status s = conn.OnWritable(); !s.ok()) return s;
    }
    if (fd.revents & (POLLIN | POLLHUP | POLLERR)) {
      if (absl::Status s = conn.OnReadable(); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace giftcard::pg

#include "pg/loop_client.h"

#include "errors/status.h"
#include "log/log.h"

namespace giftcard::pg {

LoopClient::LoopClient(engine::Loop& loop, LoopClientOptions options)
    : loop_(loop), options_(std::move(options)), mailbox_(std::make_shared<Mailbox>()) {
  {
    absl::MutexLock lock(&mailbox_->mu);
    mailbox_->loop = &loop_;
  }
  loop_.Post([this, alive = alive_] {
    if (*alive) Connect();
  });
}

LoopClient::~LoopClient() {
  *alive_ = false;
  {
    absl::MutexLock lock(&mailbox_->mu);
    mailbox_->loop = nullptr;  // A helper still connecting posts nothing now.
  }
  watch_.reset();
  conn_.reset();
}

void LoopClient::Connect() {
  if (connecting_ || conn_) return;
  connecting_ = true;
  // The answer comes back through the loop and is dropped if this client is
  // gone by then; the helper never holds the client up.
  std::thread([mailbox = mailbox_, dsn = options_.dsn, statements = options_.statements,
               setup = options_.setup_sql, this, alive = alive_] {
    absl::StatusOr<std::unique_ptr<PipelineConnection>> conn =
        PipelineConnection::Connect(dsn, statements, setup);
    absl::MutexLock lock(&mailbox->mu);
    if (mailbox->loop == nullptr) return;  // The client is gone.
    mailbox->loop->Post([this, alive, conn = std::move(conn)]() mutable {
      if (!*alive) return;
      connecting_ = false;
      if (conn.ok()) {
        Adopt(*std::move(conn));
        return;
      }
      log::Warning("pg_loop_connect_failed", {{"status", errors::Describe(conn.status())}});
      loop_.RunAfter(options_.reconnect_backoff, [this, alive] {
        if (*alive) Connect();
      });
    });
  }).detach();
}

void LoopClient::Adopt(std::unique_ptr<PipelineConnection> conn) {
  conn_ = std::move(conn);
  watch_ = std::make_unique<engine::FdWatch>(loop_, conn_->socket(),
                                             [this](bool r, bool w) { OnEvent(r, w); });
}

void LoopClient::Send(const std::vector<PipelineQuery>& queries, PipelineDone done) {
  if (dispatching_ || !conn_) {
    // Answers run from the connection's own code: a send from one of them
    // must not re-enter it (a failure there could free the connection under
    // its own frame), and a `done` never runs inside Send.
    loop_.RunSoon([this, alive = alive_, queries, done = std::move(done)]() mutable {
      if (!*alive) return;
      if (!conn_) {
        done(errors::DependencyUnavailable("postgres", "not connected"));
        return;
      }
      Send(queries, std::move(done));
    });
    return;
  }
  dispatching_ = true;
  sent_.push_back(absl::Now());
  // Answers come in order: each pops the oldest send time.
  const absl::Status sent =
      conn_->Send(queries, [this, alive = alive_, done = std::move(done)](
                               absl::StatusOr<std::vector<PipelineRows>> rows) {
        if (*alive && !sent_.empty()) sent_.pop_front();
        done(std::move(rows));
      });
  dispatching_ = false;
  WatchInFlight();
  if (!sent.ok()) {
    Lose(sent);
    return;
  }
  watch_->SetWantWrite(conn_->WantsWrite());
}

void LoopClient::OnEvent(bool readable, bool writable) {
  absl::Status s;
  dispatching_ = true;
  if (writable) s = conn_->OnWritable();
  if (s.ok() && readable) s = conn_->OnReadable();
  dispatching_ = false;
  if (!s.ok()) {
    Lose(s);
    return;
  }
  watch_->SetWantWrite(conn_->WantsWrite());
}

void LoopClient::Abandon() {
  if (conn_) Lose(errors::DependencyUnavailable("postgres", "shutdown grace passed"));
}

void LoopClient::WatchInFlight() {
  if (watch_scheduled_ || sent_.empty()) return;
  watch_scheduled_ = true;
  loop_.RunAfter(
      std::max(absl::Milliseconds(10), options_.transaction_timeout / 4), [this, alive = alive_] {
        if (!*alive) return;
        watch_scheduled_ = false;
        if (conn_ && !sent_.empty() && absl::Now() - sent_.front() > options_.transaction_timeout) {
          Lose(errors::DependencyUnavailable("postgres", "no answer in time"));
          return;
        }
        WatchInFlight();
      });
}

void LoopClient::Lose(const absl::Status& why) {
  // The connection already failed what it had in flight.
  log::Warning("pg_loop_connection_lost", {{"status", errors::Describe(why)}});
  watch_.reset();
  // Fails what it had in flight (each answer pops its send time), unless a
  // broken send or read did already.
  std::unique_ptr<PipelineConnection> lost = std::move(conn_);
  lost->FailInFlight(why);
  sent_.clear();
  loop_.RunAfter(options_.reconnect_backoff, [this, alive = alive_] {
    if (*alive) Connect();
  });
}

}  // namespace giftcard::pg

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
  // Connecting from now on: a send made before the loop runs the connect
  // waits for it too.
  connecting_ = true;
  loop_.Post([this, alive = alive_] {
    if (*alive) StartConnect();
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
  StartConnect();
}

void LoopClient::StartConnect() {
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
        ReleaseHeld(absl::OkStatus());
        return;
      }
      log::Warning("pg_loop_connect_failed", {{"status", errors::Describe(conn.status())}});
      ReleaseHeld(conn.status());
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
  if (!conn_ && connecting_) {
    Hold(queries, std::move(done));
    return;
  }
  if (dispatching_ || !conn_) {
    // Answers run from the connection's own code: a send from one of them
    // must not re-enter it (a failure there could free the connection under
    // its own frame), and a `done` never runs inside Send.
    loop_.RunSoon([this, alive = alive_, queries, done = std::move(done)]() mutable {
      if (!*alive) return;
      if (!conn_ && !connecting_) {
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

void LoopClient::Hold(std::vector<PipelineQuery> queries, PipelineDone done) {
  held_.push_back({std::move(queries), std::move(done), absl::Now()});
  ExpireHeld();
}

// Runs while transactions are held: fails those that waited connect_wait.
void LoopClient::ExpireHeld() {
  if (held_expiry_scheduled_ || held_.empty()) return;
  held_expiry_scheduled_ = true;
  loop_.RunAfter(std::max(absl::Milliseconds(10), options_.connect_wait / 4),
                 [this, alive = alive_] {
                   if (!*alive) return;
                   held_expiry_scheduled_ = false;
                   const absl::Time now = absl::Now();
                   while (!held_.empty() && now - held_.front().since >= options_.connect_wait) {
                     PipelineDone done = std::move(held_.front().done);
                     held_.pop_front();
                     done(errors::DependencyUnavailable("postgres", "not connected in time"));
                   }
                   ExpireHeld();
                 });
}

// The connect under way has ended: what waited for it is sent, or fails.
void LoopClient::ReleaseHeld(const absl::Status& connect) {
  std::deque<Held> held = std::move(held_);
  held_.clear();
  for (Held& h : held) {
    if (connect.ok()) {
      Send(h.queries, std::move(h.done));
    } else {
      h.done(errors::DependencyUnavailable("postgres", "cannot connect"));
    }
  }
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

void SendJointly(LoopClient& client, PipelineQuery first, PipelineQuery second,
                 JointAnswers answers) {
  client.Send({std::move(first), std::move(second)},
              [answers = std::move(answers)](absl::StatusOr<std::vector<PipelineRows>> results) {
                if (!results.ok() && results.status().code() == absl::StatusCode::kAborted) {
                  return answers.split();
                }
                if (results.ok() && results->size() != 2) {
                  results = absl::InternalError("a joint flight lost a statement's result");
                }
                if (!results.ok()) return answers.failed(results.status());
                answers.rows((*results)[0], (*results)[1]);
              });
}

}  // namespace giftcard::pg

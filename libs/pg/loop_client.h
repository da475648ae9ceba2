// A Postgres connection owned by an engine::Loop: a PipelineConnection whose
// socket the loop watches, answered on the loop's thread. A lost
// connection fails what was in flight (UNAVAILABLE: outcome unknown, the
// saga's recovery settles it) and fails new sends at once while a helper
// thread connects again (libpq's connect and prepares block, so they never
// run on the loop), not more often than `reconnect_backoff`.
#ifndef GIFTCARD_LIBS_PG_LOOP_CLIENT_H_
#define GIFTCARD_LIBS_PG_LOOP_CLIENT_H_

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/loop.h"
#include "pg/pipeline.h"

namespace giftcard::pg {

struct LoopClientOptions {
  std::string dsn;
  std::vector<Statement> statements;
  // Run once per connection before the statements are prepared
  // (pg::SessionSettings: the server's own statement and lock timeouts).
  std::string setup_sql = "";
  absl::Duration reconnect_backoff = absl::Milliseconds(200);
  // A transaction unanswered this long (a stalled server, which its own
  // statement_timeout cannot cut off) drops the connection: everything in
  // flight fails UNAVAILABLE.
  absl::Duration transaction_timeout = absl::Seconds(6);
  // A send made while a connect is under way waits for it this long at most
  // (the helper's connect may hang on a stalled server).
  absl::Duration connect_wait = absl::Seconds(2);
};

class LoopClient {
 public:
  // Starts connecting at once (on a helper thread).
  LoopClient(engine::Loop& loop, LoopClientOptions options);
  // On the loop's thread, or after the loop stopped; never waits for a
  // connect under way (a stalled server would hold it).
  ~LoopClient();
  LoopClient(const LoopClient&) = delete;
  LoopClient& operator=(const LoopClient&) = delete;

  // Loop thread: one transaction (PipelineConnection::Send); `done` runs on
  // the loop. While a connect is under way the transaction waits for it (at
  // most connect_wait); with no connection and none coming (a loss, until
  // reconnect_backoff has passed) it fails UNAVAILABLE in a later turn.
  // `done` runs inside this call only when the connection breaks in it. A
  // `done` may send again.
  void Send(const std::vector<PipelineQuery>& queries, PipelineDone done);
  bool connected() const { return conn_ != nullptr; }
  // Loop thread: gives up on the connection now (shutdown's grace has
  // passed), failing what is in flight as UNAVAILABLE.
  void Abandon();
  size_t in_flight() const { return conn_ ? conn_->in_flight() : 0; }

 private:
  void Connect();
  void StartConnect();  // The helper's connect; connecting_ is already set.
  void Adopt(std::unique_ptr<PipelineConnection> conn);
  void OnEvent(bool readable, bool writable);
  void Lose(const absl::Status& why);
  void WatchInFlight();
  // Transactions waiting for the connect under way.
  void Hold(std::vector<PipelineQuery> queries, PipelineDone done);
  void ExpireHeld();
  void ReleaseHeld(const absl::Status& connect);

  engine::Loop& loop_;
  const LoopClientOptions options_;
  std::unique_ptr<PipelineConnection> conn_;
  std::unique_ptr<engine::FdWatch> watch_;
  bool connecting_ = false;      // A connect is due or under way.
  std::deque<absl::Time> sent_;  // Send times of the transactions in flight, oldest first.
  bool watch_scheduled_ = false;
  bool dispatching_ = false;  // Inside the connection's code: sends wait for RunSoon.
  struct Held {
    std::vector<PipelineQuery> queries;
    PipelineDone done;
    absl::Time since;
  };
  std::deque<Held> held_;  // Oldest first.
  bool held_expiry_scheduled_ = false;
  // The connecting helper answers through this: the destructor takes the
  // loop away and lets a helper stuck on a stalled server run out alone.
  struct Mailbox {
    absl::Mutex mu;
    engine::Loop* loop ABSL_GUARDED_BY(mu);
  };
  std::shared_ptr<Mailbox> mailbox_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// How a joint flight (two statements that would each commit alone, sent as
// one transaction: engine::JointStage) ended; exactly one runs.
struct JointAnswers {
  // Both statements ran and committed together: each one's rows.
  std::function<void(const PipelineRows& first, const PipelineRows& second)> rows;
  // Rolled back whole by one statement's conflict (ABORTED: a unique
  // violation, a deadlock). The server answered, so nothing of it
  // committed: each part may be sent again alone, where its conflict is
  // settled as it would have been without the other.
  std::function<void()> split;
  // Any other failure (the connection lost, a timeout), which would have
  // failed each part alone too: the same status for both.
  std::function<void(const absl::Status&)> failed;
};
void SendJointly(LoopClient& client, PipelineQuery first, PipelineQuery second,
                 JointAnswers answers);

}  // namespace giftcard::pg

#endif  // GIFTCARD_LIBS_PG_LOOP_CLIENT_H_

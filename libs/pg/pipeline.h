// A Postgres connection for an event loop: libpq in non-blocking pipeline
// mode (libpq 15), which libpqxx 6.4 cannot drive. A transaction is its
// prepared statements followed by one sync, sent in one flight: the
// statements between two syncs run in one implicit transaction, committed at
// the sync and rolled back whole if any of them fails, so a batch costs one
// network round trip and one commit. Several transactions may be in flight
// on the connection at once; they are answered in order.
//
// The loop that owns the connection polls socket() for reading (always) and
// for writing (while WantsWrite()), and calls OnReadable()/OnWritable(). No
// call here waits on the network, except Connect, which runs at start-up.
// One thread at a time: the loop's.
#ifndef GIFTCARD_LIBS_PG_PIPELINE_H_
#define GIFTCARD_LIBS_PG_PIPELINE_H_

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pg/pool.h"
#include "pg/text_row.h"

typedef struct pg_conn PGconn;

namespace giftcard::pg {

// One execution of a prepared statement; a parameter of nullopt is NULL.
struct PipelineQuery {
  std::string statement;
  std::vector<std::optional<std::string>> params;
};

// A statement's rows, as text (NULL as nullopt), with its column names.
using PipelineRows = TextRows;

// A transaction's answer: the rows of each query in order, or the status
// that rolled it back (the first failing statement's).
using PipelineDone = std::function<void(absl::StatusOr<std::vector<PipelineRows>>)>;

class PipelineConnection {
 public:
  // Connects, runs `setup_sql` (session settings), prepares `statements`
  // and enters pipeline mode; blocking (at start-up, or on a helper thread).
  static absl::StatusOr<std::unique_ptr<PipelineConnection>> Connect(
      const std::string& dsn, const std::vector<Statement>& statements,
      const std::string& setup_sql = "");
  ~PipelineConnection();
  PipelineConnection(const PipelineConnection&) = delete;
  PipelineConnection& operator=(const PipelineConnection&) = delete;

  int socket() const;
  // Queues `queries` and a sync (one transaction); `done` runs from
  // OnReadable once the sync answers. An error here (a broken connection)
  // also fails every transaction in flight.
  absl::Status Send(const std::vector<PipelineQuery>& queries, PipelineDone done);
  // True while queued bytes wait for the socket to take them.
  bool WantsWrite() const { return wants_write_; }
  absl::Status OnWritable();
  // Reads what arrived and answers every transaction it completes.
  absl::Status OnReadable();
  // Transactions sent and not answered yet.
  size_t in_flight() const { return in_flight_.size(); }
  // Answers every transaction in flight with `why` (the owner gives up on
  // the connection: a stall); the connection is not to be used afterwards.
  void FailInFlight(const absl::Status& why);

 private:
  explicit PipelineConnection(PGconn* conn) : conn_(conn) {}
  absl::Status Flush();
  absl::Status Broken(absl::string_view what);

  struct Transaction {
    size_t queries = 0;
    size_t answered = 0;  // Queries whose result came (NULL after it too).
    bool result_seen = false;
    std::vector<PipelineRows> rows;
    absl::Status failed;
    PipelineDone done;
  };

  PGconn* conn_;
  bool wants_write_ = false;
  std::deque<Transaction> in_flight_;
};

// Drives one connection until it has nothing in flight or `deadline`
// passes (DEADLINE_EXCEEDED): for tools and tests, never a service's loop.
absl::Status RunUntilIdle(PipelineConnection& conn, absl::Time deadline);

}  // namespace giftcard::pg

#endif  // GIFTCARD_LIBS_PG_PIPELINE_H_

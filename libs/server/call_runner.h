// Where the unary calls of the services' callback handlers run. gRPC's
// callback API hands a call to the handler on one of gRPC's own threads,
// which must never block; the handler gives the call's body to this runner,
// whose bounded workers run it (the body may wait on Postgres, Redis or a
// peer, and the stores batch what concurrent workers send them) and finish
// the call.
//
// Admission control: each lane has a stated bound of calls waiting for a
// worker; past it a call is refused at once, before any work, with
// RESOURCE_EXHAUSTED/OVERLOADED and a RetryInfo — never left to a thread
// limit that answers without a reason. A call whose deadline passed or
// whose caller went away while it waited is answered without running.
// Reads have their own lane, so they never queue behind writes.
#ifndef GIFTCARD_LIBS_SERVER_CALL_RUNNER_H_
#define GIFTCARD_LIBS_SERVER_CALL_RUNNER_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/test_hooks.h"

namespace giftcard::server {

enum class Lane { kRead, kWrite };

struct CallRunnerOptions {
  int read_workers = 32;
  int write_workers = 128;
  // Per lane: calls waiting for a worker beyond this many are refused.
  int max_queued_calls = 256;
  // The RetryInfo delay of a refusal.
  absl::Duration retry_after = absl::Milliseconds(200);
  std::optional<TestHooks> test_hooks{};  // Set only with --enable_test_hooks.
};

class CallRunner {
 public:
  // The call's work: runs on a worker under the call's deadline
  // (deadline::Scope) and returns its answer.
  using Body = std::function<grpc::Status()>;

  explicit CallRunner(CallRunnerOptions options);
  // Answers what still waits as UNAVAILABLE, lets running bodies finish and
  // joins the workers; the server has drained before this runs.
  ~CallRunner();
  CallRunner(const CallRunner&) = delete;
  CallRunner& operator=(const CallRunner&) = delete;

  // Queues `body` for `method` ("RedeemCode") on `lane` and returns the
  // reactor the callback handler returns to gRPC.
  grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context, absl::string_view method,
                                Lane lane, Body body);

  // Calls refused by admission control since the start, per lane.
  int64_t refused(Lane lane) const;
  // Calls of the lane waiting for a worker now.
  size_t queued(Lane lane) const;

 private:
  struct Call {
    grpc::CallbackServerContext* context;
    grpc::ServerUnaryReactor* reactor;
    std::string method;
    Body body;
  };
  struct Queue {
    std::string name;
    mutable absl::Mutex mu;
    absl::CondVar ready;
    std::deque<Call> calls ABSL_GUARDED_BY(mu);
    int64_t refused ABSL_GUARDED_BY(mu) = 0;
    bool stopping ABSL_GUARDED_BY(mu) = false;
    std::vector<std::thread> workers;
  };

  void Work(Queue& queue);
  void Execute(Call& call) const;
  Queue& QueueOf(Lane lane) { return lane == Lane::kRead ? reads_ : writes_; }
  const Queue& QueueOf(Lane lane) const { return lane == Lane::kRead ? reads_ : writes_; }

  const CallRunnerOptions options_;
  Queue reads_;
  Queue writes_;
};

}  // namespace giftcard::server

#endif  // GIFTCARD_LIBS_SERVER_CALL_RUNNER_H_

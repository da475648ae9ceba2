// giftbench's load: completion queues drained by threads of its own, calls
// in flight on them, the latencies and outcomes recorded, and the open and
// closed loops that send.
#ifndef GIFTCARD_TOOLS_GIFTBENCH_LOAD_H_
#define GIFTCARD_TOOLS_GIFTBENCH_LOAD_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace giftcard::bench {

// A client context with the caller's token and a 30 s deadline.
std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token);

// Latencies and outcomes, merged from every callback thread.
class Recorder {
 public:
  void Record(absl::Duration latency, const grpc::Status& status, bool measured);
  std::vector<int64_t> Latencies() {
    absl::MutexLock lock(&mu_);
    std::sort(latencies_us_.begin(), latencies_us_.end());
    return latencies_us_;
  }
  std::map<std::string, int64_t> Errors() {
    absl::MutexLock lock(&mu_);
    return errors_;
  }

 private:
  absl::Mutex mu_;
  std::vector<int64_t> latencies_us_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> errors_ ABSL_GUARDED_BY(mu_);
};

// One kind of call: sends it on `cq` and, on the thread that drains `cq`,
// calls `done` with its status.
using Call = std::function<void(grpc::CompletionQueue& cq, std::function<void(grpc::Status)> done)>;

// A call in flight, a completion queue's tag. Finished() either starts
// it again (a retry) or ends it and deletes it.
class Pending {
 public:
  virtual ~Pending() = default;
  virtual void Finished() = 0;
};

// Calls resent after UNAVAILABLE (--retries), over the whole run.
extern std::atomic<int64_t> retries_sent;

// Drains one completion queue on its own thread until Stop and every call
// in flight has answered.
class Driver {
 public:
  Driver() : thread_([this] { Drain(); }) {}
  ~Driver() { Stop(); }
  grpc::CompletionQueue& cq() { return cq_; }
  void Stop() {
    if (!thread_.joinable()) return;
    cq_.Shutdown();
    thread_.join();
  }

 private:
  void Drain() {
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
      static_cast<Pending*>(tag)->Finished();
    }
  }
  grpc::CompletionQueue cq_;
  std::thread thread_;
};

// Drives `make` at `rate` per second (open loop): a call is due every
// 1/rate from `start` until `end`, whenever this thread begins (an overdue
// call goes at once), and its latency is measured from when it was due.
void OpenLoop(double rate, absl::Time start, absl::Time measure_from, absl::Time end,
              const std::function<Call(std::mt19937_64&)>& make, grpc::CompletionQueue& cq,
              Recorder& recorder, std::atomic<int64_t>& in_flight, uint64_t seed);

// Drives `make` with `callers` callers until `end` (closed loop): each sends
// its next call from the previous one's answer, spread over `queues`. The
// time the last measured call was sent: `end`, or earlier when `make` ran
// out of work.
absl::Time ClosedLoop(int callers, absl::Time measure_from, absl::Time end,
                      const std::function<Call(std::mt19937_64&)>& make,
                      const std::vector<std::unique_ptr<Driver>>& queues, Recorder& recorder,
                      std::atomic<int64_t>& in_flight);

}  // namespace giftcard::bench

#endif  // GIFTCARD_TOOLS_GIFTBENCH_LOAD_H_

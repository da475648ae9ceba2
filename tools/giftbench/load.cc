#include "giftbench/load.h"

#include <utility>

#include "absl/time/clock.h"
#include "common/tool_common.h"
#include "server/client.h"

namespace giftcard::bench {

std::atomic<int64_t> retries_sent{0};

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  server::PrepareContext(*ctx, token, absl::Seconds(30));
  return ctx;
}

void Recorder::Record(absl::Duration latency, const grpc::Status& status, bool measured) {
  if (!measured) return;
  absl::MutexLock lock(&mu_);
  if (status.ok()) {
    latencies_us_.push_back(absl::ToInt64Microseconds(latency));
  } else {
    const std::string reason = tools::ReasonOf(status);
    ++errors_[tools::CodeName(status.error_code()) + (reason.empty() ? "" : " " + reason)];
  }
}

void OpenLoop(double rate, absl::Time start, absl::Time measure_from, absl::Time end,
              const std::function<Call(std::mt19937_64&)>& make, grpc::CompletionQueue& cq,
              Recorder& recorder, std::atomic<int64_t>& in_flight, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const absl::Duration interval = absl::Seconds(1) / rate;
  absl::Time next = start;
  while (next < end) {
    const absl::Time now = absl::Now();
    if (now < next) absl::SleepFor(next - now);
    Call call = make(rng);
    if (!call) break;
    const absl::Time scheduled = next;
    const bool measured = scheduled >= measure_from;
    ++in_flight;
    call(cq, [&recorder, &in_flight, scheduled, measured](grpc::Status s) {
      recorder.Record(absl::Now() - scheduled, s, measured);
      --in_flight;
    });
    next += interval;
  }
}

absl::Time ClosedLoop(int callers, absl::Time measure_from, absl::Time end,
                      const std::function<Call(std::mt19937_64&)>& make,
                      const std::vector<std::unique_ptr<Driver>>& queues, Recorder& recorder,
                      std::atomic<int64_t>& in_flight) {
  auto rngs = std::make_shared<std::vector<std::mt19937_64>>();
  for (int i = 0; i < callers; ++i) rngs->emplace_back(1000 + i);
  auto out_of_work = std::make_shared<std::atomic<bool>>(false);
  // Each caller's next call, sent from its previous call's answer.
  auto next = std::make_shared<std::function<void(int)>>();
  *next = [&, rngs, out_of_work, weak = std::weak_ptr<std::function<void(int)>>(next)](int i) {
    if (absl::Now() >= end) return;
    Call call = make((*rngs)[i]);
    if (!call) {
      out_of_work->store(true);
      return;
    }
    const absl::Time sent = absl::Now();
    ++in_flight;
    call(queues[i % queues.size()]->cq(), [&, weak, i, sent](grpc::Status s) {
      recorder.Record(absl::Now() - sent, s, sent >= measure_from);
      if (auto again = weak.lock()) (*again)(i);  // Before this call leaves in_flight.
      --in_flight;
    });
  };
  for (int i = 0; i < callers; ++i) (*next)(i);
  while (absl::Now() < end && !out_of_work->load()) absl::SleepFor(absl::Milliseconds(20));
  if (out_of_work->load() && absl::Now() < end) {
    std::fprintf(stderr, "giftbench: ran out of fresh codes early; raise --codes\n");
    const absl::Time last = absl::Now();
    while (in_flight.load() > 0) absl::SleepFor(absl::Milliseconds(10));
    return last;
  }
  // The answers still in flight use `next`: it lives until they are in.
  while (in_flight.load() > 0) absl::SleepFor(absl::Milliseconds(10));
  return end;
}

}  // namespace giftcard::bench

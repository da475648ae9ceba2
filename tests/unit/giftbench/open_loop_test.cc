#include <gtest/gtest.h>

#include <atomic>

#include "giftbench/load.h"

namespace giftcard::bench {
namespace {

// A call that answers at once, without a server.
Call Answered() {
  return [](grpc::CompletionQueue&, std::function<void(grpc::Status)> done) {
    done(grpc::Status::OK);
  };
}

// The open loop's calls are due at fixed times from the run's start, so a
// run of 200 ms at 100/s sends 20 calls however late its sender begins (the
// overdue ones go at once, their latency counted from when they were due).
// A schedule that began when the sender did sent 17 here, and a loaded
// machine once made PitrTest's load send 199 of 200.
TEST(OpenLoopTest, ASenderThatStartsLateStillSendsEveryCallDue) {
  const absl::Time start = absl::Now();
  absl::SleepFor(absl::Milliseconds(30));  // The sender's thread starts late.
  std::atomic<int> made{0};
  auto make = [&made](std::mt19937_64&) {
    ++made;
    return Answered();
  };
  grpc::CompletionQueue cq;
  Recorder recorder;
  std::atomic<int64_t> in_flight{0};
  OpenLoop(100, start, start, start + absl::Milliseconds(200), make, cq, recorder, in_flight, 1);
  EXPECT_EQ(made.load(), 20);
  EXPECT_EQ(in_flight.load(), 0);
  EXPECT_EQ(recorder.Latencies().size(), 20u);
  cq.Shutdown();
}

}  // namespace
}  // namespace giftcard::bench

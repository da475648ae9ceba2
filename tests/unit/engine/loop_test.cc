// engine::Loop and engine::Stage: posts from other threads run on the loop
// in order; a stage sends what one turn brings as one batch, gathers while a
// batch is in flight and sends the gathered calls as the next batch, and
// answers each call by its position.
#include "engine/loop.h"

#include <gtest/gtest.h>

#include <pthread.h>

#include <atomic>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "engine/stage.h"

namespace giftcard::engine {
namespace {

// The loop's thread carries its name (as `top -H` and perf show it); Linux
// keeps 15 characters and refuses a longer name, so it is cut to fit.
TEST(LoopTest, TheThreadIsNamed) {
  for (const std::string& name : {std::string("vault-engine"), std::string(20, 'x')}) {
    Loop loop(name);
    loop.Start();
    absl::Notification named;
    std::string seen;
    loop.Post([&] {
      char buffer[32] = {};
      pthread_getname_np(pthread_self(), buffer, sizeof(buffer));
      seen = buffer;
      named.Notify();
    });
    named.WaitForNotification();
    loop.Stop();
    EXPECT_EQ(seen, name.substr(0, 15));
  }
}

TEST(LoopTest, PostsFromManyThreadsRunOnTheLoopInEachThreadsOrder) {
  Loop loop("test");
  loop.Start();
  constexpr int kThreads = 4, kPosts = 2000;
  std::vector<int> last(kThreads, -1);
  std::atomic<int> out_of_order{0}, off_loop{0}, ran{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPosts; ++i) {
        loop.Post([&, t, i] {
          if (!loop.InLoopThread()) off_loop.fetch_add(1);
          if (last[t] != i - 1) out_of_order.fetch_add(1);
          last[t] = i;
          ran.fetch_add(1);
        });
      }
    });
  }
  for (auto& th : threads) th.join();
  loop.Stop();  // Runs what was posted before it.
  EXPECT_EQ(ran.load(), kThreads * kPosts);
  EXPECT_EQ(out_of_order.load(), 0);
  EXPECT_EQ(off_loop.load(), 0);
  // A wake-up serves many posts: the eventfd is written once per drain.
  EXPECT_LT(loop.wakeups(), kThreads * kPosts);
}

TEST(LoopTest, RunSoonRunsAfterTheCurrentTurnAndRunAfterWaits) {
  Loop loop("test");
  loop.Start();
  std::vector<std::string> order;
  absl::Notification done;
  loop.Post([&] {
    loop.RunSoon([&] { order.push_back("soon"); });
    order.push_back("post");
    const absl::Time start = absl::Now();
    loop.RunAfter(absl::Milliseconds(30), [&, start] {
      order.push_back(absl::Now() - start >= absl::Milliseconds(29) ? "after" : "early");
      done.Notify();
    });
  });
  done.WaitForNotification();
  loop.Stop();
  EXPECT_EQ(order, (std::vector<std::string>{"post", "soon", "after"}));
}

// A stage whose batches are answered by hand, so the test decides when a
// batch "returns".
TEST(StageTest, OneTurnIsOneBatchAndCallsGatherWhileABatchIsInFlight) {
  Loop loop("test");
  loop.Start();
  std::vector<std::vector<int>> batches;
  std::vector<Stage<int, int>::BatchDone> pending;
  std::vector<int> answers;
  std::unique_ptr<Stage<int, int>> stage;
  absl::Notification made;
  loop.Post([&] {
    stage = std::make_unique<Stage<int, int>>(
        loop,
        [&](std::vector<int> batch, Stage<int, int>::BatchDone done) {
          batches.push_back(batch);
          pending.push_back(std::move(done));
        },
        Stage<int, int>::Options{.max_batch = 100, .max_in_flight = 1});
    made.Notify();
  });
  made.WaitForNotification();
  auto on_loop = [&](auto fn) {
    absl::Notification n;
    loop.Post([&] {
      fn();
      n.Notify();
    });
    n.WaitForNotification();
    // One more turn, so RunSoon work of the last one has run.
    absl::Notification m;
    loop.Post([&] { m.Notify(); });
    m.WaitForNotification();
  };
  // Three calls in one turn: one batch.
  on_loop([&] {
    for (int i : {1, 2, 3}) stage->Push(i, [&](int r) { answers.push_back(r); });
  });
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_EQ(batches[0], (std::vector<int>{1, 2, 3}));
  // Two turns while it is in flight: nothing goes out, both gather.
  on_loop([&] { stage->Push(4, [&](int r) { answers.push_back(r); }); });
  on_loop([&] { stage->Push(5, [&](int r) { answers.push_back(r); }); });
  EXPECT_EQ(batches.size(), 1u);
  EXPECT_EQ(stage->queued(), 2u);
  // The first batch answers: each call by its position, and the gathered
  // calls go out together.
  on_loop([&] { std::move(pending[0])(std::vector<int>{10, 20, 30}); });
  EXPECT_EQ(answers, (std::vector<int>{10, 20, 30}));
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[1], (std::vector<int>{4, 5}));
  on_loop([&] { std::move(pending[1])(std::vector<int>{40, 50}); });
  EXPECT_EQ(answers, (std::vector<int>{10, 20, 30, 40, 50}));
  on_loop([&] { stage.reset(); });
  loop.Stop();
}

}  // namespace
}  // namespace giftcard::engine

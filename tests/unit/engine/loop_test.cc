// engine::Loop and engine::Stage: posts from other threads run on the loop
// in order; a stage sends what one turn brings as one batch, gathers while a
// batch is in flight and sends the gathered calls as the next batch, and
// answers each call by its position; a joint stage sends both its kinds in
// one flight and answers each call of either kind in its own place.
#include "engine/loop.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "engine/joint_stage.h"
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

// Runs `fn` on the loop, then one more turn, so RunSoon work has run.
void OnLoop(Loop& loop, const std::function<void()>& fn) {
  for (const std::function<void()>& step : {fn, std::function<void()>([] {})}) {
    absl::Notification n;
    loop.Post([&] {
      step();
      n.Notify();
    });
    n.WaitForNotification();
  }
}

TEST(JointStageTest, AFlightCarriesBothKindsAndEachCallGetsItsOwnAnswer) {
  using Joint = JointStage<int, int, std::string, std::string>;
  Loop loop("test");
  loop.Start();
  struct Flight {
    std::vector<int> numbers;
    std::vector<std::string> words;
    Joint::FirstAnswers numbers_done;
    Joint::SecondAnswers words_done;
  };
  std::vector<Flight> flights;
  std::vector<std::string> answers;  // In the order the calls are answered.
  std::unique_ptr<Joint> stage;
  OnLoop(loop, [&] {
    stage = std::make_unique<Joint>(
        loop,
        [&](std::vector<int> numbers, std::vector<std::string> words, Joint::FirstAnswers n,
            Joint::SecondAnswers w) {
          flights.push_back({std::move(numbers), std::move(words), std::move(n), std::move(w)});
        },
        Joint::Options{.max_batch = 100});
  });
  auto number = [&](int i) {
    stage->PushFirst(i, [&answers, i](int r) { answers.push_back(absl::StrCat(i, ">", r)); });
  };
  auto word = [&](std::string w) {
    stage->PushSecond(w, [&answers, w](std::string r) { answers.push_back(w + ">" + r); });
  };
  OnLoop(loop, [&] { number(1); });
  ASSERT_EQ(flights.size(), 1u);
  EXPECT_TRUE(flights[0].words.empty());
  // While it is in flight, calls of both kinds gather, interleaved.
  OnLoop(loop, [&] {
    word("a");
    number(2);
    word("b");
    number(3);
  });
  ASSERT_EQ(flights.size(), 1u);
  OnLoop(loop, [&] {
    flights[0].numbers_done({10});
    flights[0].words_done({});
  });
  EXPECT_EQ(answers, (std::vector<std::string>{"1>10"}));
  // The gathered calls go as one flight, split by kind in arrival order.
  ASSERT_EQ(flights.size(), 2u);
  EXPECT_EQ(flights[1].numbers, (std::vector<int>{2, 3}));
  EXPECT_EQ(flights[1].words, (std::vector<std::string>{"a", "b"}));
  // The words' answers alone do not finish the flight; with the numbers'
  // each call gets its own, in the order the calls came.
  OnLoop(loop, [&] { flights[1].words_done({"A", "B"}); });
  EXPECT_EQ(answers.size(), 1u);
  OnLoop(loop, [&] { flights[1].numbers_done({20, 30}); });
  EXPECT_EQ(answers, (std::vector<std::string>{"1>10", "a>A", "2>20", "b>B", "3>30"}));
  OnLoop(loop, [&] { stage.reset(); });
  loop.Stop();
}

}  // namespace
}  // namespace giftcard::engine

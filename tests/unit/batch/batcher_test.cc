#include "batch/batcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"

namespace giftcard::batch {
namespace {

using ::testing::ElementsAre;

// Waits, without a timing assertion, until `batcher` holds `n` queued calls.
template <typename B>
void AwaitQueued(const B& batcher, size_t n) {
  while (batcher.queued() < n) absl::SleepFor(absl::Milliseconds(1));
}

TEST(BatcherTest, ACallAloneRunsAtOnceAsABatchOfOne) {
  std::vector<std::vector<int>> seen;
  Batcher<int, int> batcher(
      [&](const std::vector<int>& items) {
        seen.push_back(items);
        return std::vector<int>{items[0] * 10};
      },
      {});
  EXPECT_EQ(batcher.Run(7), 70);
  EXPECT_EQ(batcher.Run(8), 80);
  EXPECT_EQ(batcher.batches(), 2);
  EXPECT_THAT(seen, ElementsAre(ElementsAre(7), ElementsAre(8)));
}

// While a batch runs, calls queue up; the next batch takes them all, each
// call still gets its own answer.
TEST(BatcherTest, CallsThatArriveDuringABatchGoTogetherInTheNext) {
  absl::Notification release_first;
  std::vector<size_t> sizes;
  Batcher<int, int> batcher(
      [&](const std::vector<int>& items) {
        sizes.push_back(items.size());
        if (sizes.size() == 1) release_first.WaitForNotification();
        std::vector<int> out;
        for (int i : items) out.push_back(i * 2);
        return out;
      },
      {.max_batch = 64, .max_in_flight = 1, .on_batch = {}});
  std::vector<int> answers(10, -1);
  std::vector<std::thread> callers;
  callers.emplace_back([&] { answers[0] = batcher.Run(0); });
  while (batcher.batches() < 1) absl::SleepFor(absl::Milliseconds(1));
  for (int i = 1; i < 10; ++i) callers.emplace_back([&, i] { answers[i] = batcher.Run(i); });
  AwaitQueued(batcher, 9);
  release_first.Notify();
  for (auto& t : callers) t.join();
  EXPECT_THAT(sizes, ElementsAre(1, 9));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(answers[i], i * 2) << i;
}

TEST(BatcherTest, ABatchHoldsAtMostMaxBatchCalls) {
  absl::Notification release_first;
  std::atomic<size_t> largest{0};
  std::atomic<int> executed{0};
  Batcher<int, int> batcher(
      [&](const std::vector<int>& items) {
        largest = std::max(largest.load(), items.size());
        if (executed.fetch_add(1) == 0) release_first.WaitForNotification();
        return items;
      },
      {.max_batch = 4, .max_in_flight = 1, .on_batch = {}});
  std::vector<std::thread> callers;
  callers.emplace_back([&] { batcher.Run(0); });
  while (batcher.batches() < 1) absl::SleepFor(absl::Milliseconds(1));
  for (int i = 1; i <= 10; ++i) callers.emplace_back([&, i] { EXPECT_EQ(batcher.Run(i), i); });
  AwaitQueued(batcher, 10);
  release_first.Notify();
  for (auto& t : callers) t.join();
  EXPECT_EQ(largest.load(), 4u);
  EXPECT_EQ(batcher.calls(), 11);
  EXPECT_EQ(batcher.batches(), 1 + 3);  // 1, then 4 + 4 + 2.
}

TEST(BatcherTest, ABatchRunsUntilTheLatestDeadlineOfItsCallers) {
  absl::Notification release_first;
  std::vector<absl::Time> deadlines;
  Batcher<int, int> batcher(
      [&](const std::vector<int>& items) {
        deadlines.push_back(deadline::Current());
        if (deadlines.size() == 1) release_first.WaitForNotification();
        return items;
      },
      {.max_batch = 64, .max_in_flight = 1, .on_batch = {}});
  const absl::Time soon = absl::Now() + absl::Seconds(1);
  const absl::Time later = absl::Now() + absl::Seconds(30);
  std::thread first([&] { batcher.Run(0); });
  while (batcher.batches() < 1) absl::SleepFor(absl::Milliseconds(1));
  std::thread short_deadline([&] {
    const deadline::Scope scope(soon);
    batcher.Run(1);
  });
  std::thread long_deadline([&] {
    const deadline::Scope scope(later);
    batcher.Run(2);
  });
  AwaitQueued(batcher, 2);
  release_first.Notify();
  first.join();
  short_deadline.join();
  long_deadline.join();
  ASSERT_EQ(deadlines.size(), 2u);
  EXPECT_EQ(deadlines[0], absl::InfiniteFuture());  // A caller without a deadline.
  EXPECT_EQ(deadlines[1], later);
  EXPECT_EQ(deadline::Current(), absl::InfiniteFuture()) << "the override ended with the batch";
}

// A stalled batch (a database that does not answer) must not hold the calls
// queued behind it past their deadlines: they leave with the expired answer,
// never having run.
TEST(BatcherTest, ACallQueuedPastItsDeadlineLeavesWithoutRunning) {
  absl::Notification release_first;
  std::vector<int> ran;
  Batcher<int, int> batcher(
      [&](const std::vector<int>& items) {
        ran.insert(ran.end(), items.begin(), items.end());
        if (ran.size() == 1) release_first.WaitForNotification();
        return items;
      },
      {.max_batch = 64, .max_in_flight = 1, .on_batch = {}}, [] { return -1; });
  std::thread first([&] { EXPECT_EQ(batcher.Run(1), 1); });
  while (batcher.batches() < 1) absl::SleepFor(absl::Milliseconds(1));
  int answer = 0;
  {
    const deadline::Scope scope(absl::Now() + absl::Milliseconds(50));
    answer = batcher.Run(2);  // Returns once its deadline passes; the first still runs.
  }
  EXPECT_EQ(answer, -1);
  EXPECT_EQ(batcher.expired_calls(), 1);
  EXPECT_EQ(batcher.queued(), 0u);
  release_first.Notify();
  first.join();
  EXPECT_EQ(ran, std::vector<int>{1}) << "the expired call never ran";
}

}  // namespace
}  // namespace giftcard::batch

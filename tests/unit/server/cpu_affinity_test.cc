// --cpus: the list it takes, and every thread of the process moved onto it.
#include "server/cpu_affinity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <thread>

namespace giftcard::server {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::set<int> CpusOfThisThread() {
  cpu_set_t set;
  CPU_ZERO(&set);
  sched_getaffinity(0, sizeof(set), &set);
  std::set<int> out;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) out.insert(cpu);
  }
  return out;
}

TEST(CpuAffinityTest, ListsAndRangesParseAndAnythingElseNamesTheFlag) {
  EXPECT_THAT(*ParseCpuList("0"), ElementsAre(0));
  EXPECT_THAT(*ParseCpuList("0,2-4"), ElementsAre(0, 2, 3, 4));
  for (const char* bad : {"", "a", "1-", "-1", "3-1", "0,,1", "0-99999"}) {
    absl::StatusOr<std::set<int>> parsed = ParseCpuList(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(), HasSubstr("--cpus"));
  }
}

TEST(CpuAffinityTest, EveryThreadMovesAndACpuNotAllowedIsRefusedNamingTheAllowedOnes) {
  const std::set<int> before = CpusOfThisThread();
  ASSERT_FALSE(before.empty());
  const int first = *before.begin();
  // A thread that exists before the call is moved too.
  std::atomic<bool> pinned{false}, checked{false};
  std::set<int> seen_by_thread;
  std::thread other([&] {
    while (!pinned.load()) std::this_thread::yield();
    seen_by_thread = CpusOfThisThread();
    checked = true;
  });
  ASSERT_TRUE(PinProcessToCpus(std::to_string(first)).ok());
  pinned = true;
  other.join();
  EXPECT_TRUE(checked.load());
  EXPECT_THAT(CpusOfThisThread(), ElementsAre(first));
  EXPECT_THAT(seen_by_thread, ElementsAre(first));

  // Now only `first` is allowed: any other CPU is refused, and nothing moves.
  const absl::Status refused = PinProcessToCpus(std::to_string(first + 1));
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.message(), HasSubstr("is not available"));
  EXPECT_THAT(refused.message(), HasSubstr("it may use " + std::to_string(first)));
  EXPECT_THAT(CpusOfThisThread(), ElementsAre(first));
  EXPECT_TRUE(PinProcessToCpus("").ok());  // Empty: left as it is.
  EXPECT_THAT(CpusOfThisThread(), ElementsAre(first));
}

}  // namespace
}  // namespace giftcard::server

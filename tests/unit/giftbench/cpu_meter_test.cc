#include "giftbench/cpu_meter.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

namespace giftcard::bench {
namespace {

TEST(CpuMeterTest, ParsesAWatchList) {
  auto list = ParseWatchList("code-vault=12,postgres=34+");
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "code-vault");
  EXPECT_EQ((*list)[0].pid, 12);
  EXPECT_FALSE((*list)[0].with_children);
  EXPECT_EQ((*list)[1].pid, 34);
  EXPECT_TRUE((*list)[1].with_children);
  for (const char* bad : {"x", "=1", "a=b", "a=-1", "a=1=2"}) {
    EXPECT_FALSE(ParseWatchList(bad).has_value()) << bad;
  }
}

// Spins for at least `cpu` of this process's own CPU time.
void Spin(double cpu, const WatchedProcess& self) {
  const double start = CpuSeconds(self);
  volatile unsigned long sink = 0;
  while (CpuSeconds(self) - start < cpu) {
    for (int i = 0; i < 1000000; ++i) sink = sink + i;
  }
}

TEST(CpuMeterTest, CountsAProcessAndTheChildrenItReaped) {
  const WatchedProcess self{"self", getpid(), false};
  const double before = CpuSeconds(self);
  ASSERT_GE(before, 0);
  Spin(0.05, self);
  EXPECT_GE(CpuSeconds(self) - before, 0.05);

  // A child's CPU counts for the parent with_children, once it is reaped.
  const WatchedProcess family{"family", getpid(), true};
  const double family_before = CpuSeconds(family);
  const pid_t child = fork();
  if (child == 0) {
    Spin(0.2, WatchedProcess{"child", getpid(), false});
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_GE(CpuSeconds(family) - family_before, 0.2);
  EXPECT_LT(CpuSeconds(self) - family_before, 0.2) << "the child's time is not the parent's own";
  EXPECT_EQ(CpuSeconds(WatchedProcess{"gone", child, false}), -1);
}

}  // namespace
}  // namespace giftcard::bench

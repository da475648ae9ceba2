// A release rolled out under load: deploy/local/stack.sh up --replicas=2,
// giftbench redeeming at about half of its peak, `stack.sh roll` restarting
// every process of every service one at a time. No call may fail (a retry
// with the same request id is allowed, and counted), nothing is doubled
// and the audit is clean.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "support/harness.h"
#include "support/local_stack.h"

namespace giftcard::testing {
namespace {

using ::testing::HasSubstr;

// A number field of giftbench's JSON line; -1 when absent.
double JsonNumber(const std::string& out, const std::string& field) {
  std::smatch m;
  double value = -1;
  if (std::regex_search(out, m, std::regex("\"" + field + "\":([0-9.]+)"))) {
    (void)absl::SimpleAtod(m[1].str(), &value);
  }
  return value;
}

std::string JsonObject(const std::string& out, const std::string& field) {
  std::smatch m;
  return std::regex_search(out, m, std::regex("\"" + field + "\":(\\{[^}]*\\})")) ? m[1].str() : "";
}

class RollingRestartTest : public ::testing::Test {
 protected:
  LocalStack stack_{GIFTCARD_BUILD_DIR_FOR_TESTS, GIFTCARD_SOURCE_DIR_FOR_TESTS, "roll-test"};
};

TEST_F(RollingRestartTest, EveryProcessRestartedUnderLoadAndNoCallFailed) {
  ShellRun run = stack_.Run("up --replicas=2");
  ASSERT_EQ(run.exit_code, 0) << DescribeRun(run);
  run = stack_.Run("status");
  ASSERT_EQ(run.exit_code, 0) << DescribeRun(run);
  EXPECT_THAT(run.out, HasSubstr("code-vault-2: running"));

  // The peak on this machine, then the load at half of it.
  run = stack_.WithEnv(stack_.Tool("giftbench") + " --scenario=redeem --duration=3s --codes=8000");
  ASSERT_EQ(run.exit_code, 0) << DescribeRun(run);
  const double peak = JsonNumber(run.out, "throughput");
  ASSERT_GT(peak, 20) << run.out;
  const double rate = peak / 2;
  // Long enough to outlast the roll with another test beside this one (the
  // roll took 49 s so, against 30–40 s alone).
  constexpr int kSeconds = 75;
  // giftbench issues its codes first; the roll starts once it is loading
  // (its window command runs with "start" as the window opens).
  const std::string started = stack_.dir() + "/load-started";
  auto load = std::async(std::launch::async, [&] {
    return stack_.WithEnv(
        absl::StrCat(stack_.Tool("giftbench"), " --scenario=redeem --rate=", static_cast<int>(rate),
                     " --duration=", kSeconds,
                     "s --warmup=0s --retries=2 --codes=", static_cast<int>(rate * kSeconds) + 2000,
                     " --window_command=\"sh -c 'touch ", started, "-\\$0'\""));
  });
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (absl::Now() < deadline && RunCommand("test -e " + started + "-start").exit_code != 0) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(RunCommand("test -e " + started + "-start").exit_code, 0) << "giftbench never loaded";
  absl::SleepFor(absl::Seconds(2));
  const absl::Time roll_start = absl::Now();
  ShellRun roll = stack_.Run("roll");
  const absl::Duration roll_took = absl::Now() - roll_start;
  ShellRun result = load.get();
  ASSERT_EQ(roll.exit_code, 0) << DescribeRun(roll);
  // Every process of every service was restarted while the load ran.
  for (const char* s : {"account-credit", "code-vault", "billing", "gateway"}) {
    EXPECT_THAT(roll.out, HasSubstr(absl::StrCat("stack: rolled ", s, " (")));
    EXPECT_THAT(roll.out, HasSubstr(absl::StrCat("stack: rolled ", s, "-2 (")));
  }
  EXPECT_LT(roll_took, absl::Seconds(kSeconds - 4)) << "the roll outlasted the load";

  ASSERT_EQ(result.exit_code, 0) << DescribeRun(result);
  EXPECT_EQ(JsonObject(result.out, "errors"), "{}") << result.out;
  EXPECT_GE(JsonNumber(result.out, "ok"), rate * kSeconds * 0.99) << result.out;
  std::printf("rolled in %s at %.0f redemptions/s (peak %.0f): %.0f ok, errors %s, %.0f retried\n",
              absl::FormatDuration(roll_took).c_str(), rate, peak, JsonNumber(result.out, "ok"),
              JsonObject(result.out, "errors").c_str(), JsonNumber(result.out, "retries"));

  // Nothing doubled, nothing lost: the books across the three databases.
  ShellRun audit = stack_.WithEnv(stack_.Tool("giftctl") + " audit");
  EXPECT_EQ(audit.exit_code, 0) << DescribeRun(audit);
  EXPECT_THAT(audit.out, HasSubstr("audit: clean"));
}

}  // namespace
}  // namespace giftcard::testing

// `GIFTCARD_HA=1 deploy/local/stack.sh up`: one command brings the
// suite up on Patroni clusters and Redis under Sentinel; `status` shows who
// leads; a demo-sized flow works over the multi-host DSNs; `down` stops
// every engine it started.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include "absl/strings/str_cat.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::HasSubstr;

std::string Describe(const ShellRun& run) {
  return absl::StrCat("exit ", run.exit_code, "\nstdout:\n", run.out, "\nstderr:\n", run.err);
}

class HaStackTest : public ::testing::Test {
 protected:
  HaStackTest() {
    char dir[] = "/tmp/giftcard-ha-stack-XXXXXX";
    stack_dir_ = mkdtemp(dir);
  }
  ~HaStackTest() override {
    Stack("down");
    RunCommand("rm -rf " + stack_dir_ + " " + stack_dir_ + "-cards.csv");
  }
  ShellRun Stack(const std::string& verb) {
    return RunCommand(absl::StrCat("GIFTCARD_HA=1 GIFTCARD_STACK_DIR=", stack_dir_,
                                   " GIFTCARD_BUILD_DIR=", GIFTCARD_BUILD_DIR_FOR_TESTS, " bash ",
                                   GIFTCARD_SOURCE_DIR_FOR_TESTS, "/deploy/local/stack.sh ", verb));
  }
  ShellRun Giftctl(const std::string& args) {
    return RunCommand(absl::StrCat(". ", stack_dir_, "/env && ", GIFTCARD_BUILD_DIR_FOR_TESTS,
                                   "/tools/giftctl/giftctl ", args));
  }
  // Engine processes whose command line names the stack's directory.
  std::string EnginesRunning() {
    return RunCommand(
               absl::StrCat("ps -eo args | grep -F ", stack_dir_, "/ha | grep -v grep | wc -l"))
        .out;
  }
  std::string stack_dir_;
};

TEST_F(HaStackTest, UpRunsOnPatroniAndSentinelStatusShowsLeadersDownStopsThemAll) {
  ShellRun run = Stack("up");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  run = Stack("status");
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  for (const char* service : {"account-credit", "code-vault", "billing"}) {
    EXPECT_THAT(run.out, HasSubstr(absl::StrCat("postgres ", service, ": leader ", service, "-")))
        << Describe(run);
  }
  EXPECT_THAT(run.out, HasSubstr("Sync Standby"));
  EXPECT_THAT(run.out, HasSubstr("redis: master 127.0.0.1:"));
  const ShellRun env = RunCommand("cat " + stack_dir_ + "/env");
  EXPECT_THAT(env.out, HasSubstr("target_session_attrs=read-write dbname=code_vault"));
  EXPECT_THAT(env.out, HasSubstr("export REDIS_SENTINELS=127.0.0.1:"));

  // Issue, redeem and audit over the HA engines.
  run = Giftctl(
      "--json codes issue --plaintext --count=1 --amount=5 --currency=EUR --region=DE --out=" +
      stack_dir_ + "-cards.csv");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  run = Giftctl("audit");
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("audit: clean"));
  EXPECT_NE(EnginesRunning(), "0\n");

  run = Stack("down");
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_EQ(EnginesRunning(), "0\n") << "down left engines running";
}

}  // namespace
}  // namespace giftcard::testing

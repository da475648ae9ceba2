// deploy/local/stack.sh as a developer uses it: up, status, up again, down.
// It says what it deletes (the data) and keeps the logs (issue 12, item 7).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

bool Exists(const std::string& path) { return std::ifstream(path).good(); }

class LocalStackTest : public ::testing::Test {
 protected:
  LocalStackTest() {
    char dir[] = "/tmp/giftcard-stack-test-XXXXXX";
    stack_dir_ = mkdtemp(dir);
  }
  ~LocalStackTest() override {
    Stack("down");
    std::system(("rm -rf " + stack_dir_ + " " + stack_dir_ + "-cards.csv").c_str());
  }

  ShellRun Stack(const std::string& verb) {
    return RunCommand(absl::StrCat("GIFTCARD_STACK_DIR=", stack_dir_,
                                   " GIFTCARD_BUILD_DIR=", GIFTCARD_BUILD_DIR_FOR_TESTS, " bash ",
                                   GIFTCARD_SOURCE_DIR_FOR_TESTS, "/deploy/local/stack.sh ", verb));
  }

  // giftctl against the stack, with its env file.
  ShellRun Giftctl(const std::string& args) {
    return RunCommand(absl::StrCat(". ", stack_dir_, "/env && ", GIFTCARD_BUILD_DIR_FOR_TESTS,
                                   "/tools/giftctl/giftctl ", args));
  }

  std::string stack_dir_;
};

std::string Describe(const ShellRun& run) {
  return absl::StrCat("exit ", run.exit_code, "\nstdout:\n", run.out, "\nstderr:\n", run.err);
}

TEST_F(LocalStackTest, UpAndDownSayTheyDeleteTheDataAndKeepTheLogs) {
  ShellRun run = Stack("up");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("the next 'up' or 'down' deletes the data, not the logs"));
  run = Stack("status");
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("code-vault: running"));
  EXPECT_THAT(run.out, HasSubstr("data: " + stack_dir_ +
                                 " (deleted by the next 'up' or 'down'); "
                                 "logs: " +
                                 stack_dir_ + "/logs (kept)"));
  run = Giftctl(
      "--json codes issue --plaintext --count=1 --amount=5 --currency=EUR --region=DE --out=" +
      stack_dir_ + "-cards.csv");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  run = Giftctl("batches list");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("5.00 EUR"));

  // up on a running stack says what it resets, and does reset it.
  run = Stack("up");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("a stack is running; starting a new one: its databases, Redis and "
                                 "tokens are deleted"));
  run = Giftctl("batches list");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, Not(HasSubstr("5.00 EUR"))) << "the new stack starts empty";
  const std::string log = Slurp(stack_dir_ + "/logs/code-vault.log");
  ASSERT_NE(log.find("stack.sh up at"), std::string::npos) << log;
  EXPECT_NE(log.find("stack.sh up at"), log.rfind("stack.sh up at")) << "both runs' lines are kept";

  // down: data gone, logs kept.
  run = Stack("down");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out,
              HasSubstr("stack: down (data deleted; logs kept in " + stack_dir_ + "/logs)"));
  EXPECT_FALSE(Exists(stack_dir_ + "/env"));
  EXPECT_FALSE(Exists(stack_dir_ + "/tokens"));
  EXPECT_FALSE(Exists(stack_dir_ + "/code-vault.pid"));
  EXPECT_FALSE(Exists(stack_dir_ + "/pg/pg.port"));
  const std::string kept = Slurp(stack_dir_ + "/logs/code-vault.log");
  EXPECT_EQ(kept.substr(0, log.size()), log) << "the log was replaced, not kept";
  EXPECT_THAT(kept.substr(log.size()), HasSubstr("shutdown_complete"));
  run = Stack("status");
  EXPECT_EQ(run.exit_code, 3) << Describe(run);
}

}  // namespace
}  // namespace giftcard::testing

// A deploy/local/stack.sh stack of a test's own, in a temporary directory:
// brought down and deleted when the test ends. For the tests that drive the
// stack as an operator does (RollingRestartTest, PitrTest).
#ifndef GIFTCARD_TESTS_SUPPORT_LOCAL_STACK_H_
#define GIFTCARD_TESTS_SUPPORT_LOCAL_STACK_H_

#include <stdlib.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "support/harness.h"

namespace giftcard::testing {

class LocalStack {
 public:
  // `name` tells its directory apart (/tmp/giftcard-<name>-XXXXXX);
  // `environment` ("NAME=value ...") is set for every stack.sh call, e.g.
  // "GIFTCARD_HA=1" for a stack on Patroni clusters.
  LocalStack(std::string build_dir, std::string source_dir, const std::string& name,
             std::string environment = "")
      : build_dir_(std::move(build_dir)),
        source_dir_(std::move(source_dir)),
        environment_(std::move(environment)) {
    std::string dir = "/tmp/giftcard-" + name + "-XXXXXX";
    dir_ = mkdtemp(dir.data());
  }
  ~LocalStack() {
    Run("down");
    RunCommand("rm -rf " + dir_);
  }
  LocalStack(const LocalStack&) = delete;
  LocalStack& operator=(const LocalStack&) = delete;

  // deploy/local/stack.sh VERB on this stack.
  ShellRun Run(const std::string& verb) const {
    return RunCommand(absl::StrCat(environment_, " GIFTCARD_STACK_DIR=", dir_,
                                   " GIFTCARD_BUILD_DIR=", build_dir_, " bash ", source_dir_,
                                   "/deploy/local/stack.sh ", verb));
  }
  // `command` under /bin/sh with the stack's env file sourced.
  ShellRun WithEnv(const std::string& command) const {
    return RunCommand(absl::StrCat(". ", dir_, "/env && ", command));
  }
  // The path of a tool of the build (giftctl, giftbench).
  std::string Tool(const std::string& name) const {
    return absl::StrCat(build_dir_, "/tools/", name, "/", name);
  }
  const std::string& dir() const { return dir_; }

 private:
  const std::string build_dir_, source_dir_, environment_;
  std::string dir_;
};

// "exit N", then what it printed on each stream: for a failed assertion.
inline std::string DescribeRun(const ShellRun& run) {
  return absl::StrCat("exit ", run.exit_code, "\nstdout:\n", run.out, "\nstderr:\n", run.err);
}

}  // namespace giftcard::testing

#endif  // GIFTCARD_TESTS_SUPPORT_LOCAL_STACK_H_

// Test harness: Child processes (the service binaries) and shell commands.
#include "support/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "audit/audit.h"
#include "audit/wire.h"
#include "auth/authorizer.h"
#include "codes/codes.h"
#include "config/files.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/client.h"
#include "support/harness_internal.h"

namespace giftcard::testing {

using internal::LogDir;
using internal::ParseEnvFile;
using internal::ReadFile;
using internal::RunShell;

std::string BinaryOf(const std::string& name) {
  if (name == "account-credit")
    return absl::StrCat(GIFTCARD_BUILD_DIR, "/services/account_credit/account-credit");
  if (name == "code-vault")
    return absl::StrCat(GIFTCARD_BUILD_DIR, "/services/code_vault/code-vault");
  if (name == "giftcard-gateway")
    return absl::StrCat(GIFTCARD_BUILD_DIR, "/services/gateway/giftcard-gateway");
  return absl::StrCat(GIFTCARD_BUILD_DIR, "/services/billing/billing");
}

Process::Process(const std::string& binary, const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env, const std::string& log_path)
    : log_path_(log_path) {
  std::vector<std::string> argv_storage = {binary};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) env_storage.push_back(*e);
  for (const auto& [k, v] : env) env_storage.push_back(k + "=" + v);
  pid_ = fork();
  if (pid_ == 0) {
    const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> argv, envp;
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
    execve(binary.c_str(), argv.data(), envp.data());
    _exit(127);
  }
}

Process::~Process() {
  if (Running()) {
    kill(pid_, SIGKILL);
    WaitExit(absl::Seconds(10));
  }
}

void Process::Signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

bool Process::Running() {
  if (reaped_) return false;
  if (waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
  return !reaped_;
}

std::string Process::HowItEnded() {
  if (Running()) return "running";
  if (WIFSIGNALED(status_)) {
    return absl::StrCat("killed by signal ", WTERMSIG(status_), " (", strsignal(WTERMSIG(status_)),
                        ")");
  }
  return absl::StrCat("exited with code ", WEXITSTATUS(status_));
}

std::optional<int> Process::WaitExit(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (Running()) {
    if (absl::Now() > deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
}

std::string Process::Log() const { return ReadFile(log_path_); }

bool Process::WaitForLog(const std::string& text, absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (Log().find(text) != std::string::npos) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return Log().find(text) != std::string::npos;
}

std::string Process::SettledLog() const {
  // A service writes a buffered line within 20 ms (libs/log): a log that has
  // not grown for 200 ms holds every line of the calls answered before.
  std::string log = Log();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  for (;;) {
    absl::SleepFor(absl::Milliseconds(200));
    std::string later = Log();
    if (later.size() == log.size() || absl::Now() > deadline) return later;
    log = std::move(later);
  }
}

ShellRun RunCommand(const std::string& command) {
  char err_path[] = "/tmp/giftcard-shell-err-XXXXXX";
  const int err_fd = mkstemp(err_path);
  ShellRun run;
  FILE* pipe = popen(absl::StrCat("(", command, ") 2>", err_path).c_str(), "r");
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) run.out.append(buffer, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.err = ReadFile(err_path);
  close(err_fd);
  unlink(err_path);
  return run;
}

}  // namespace giftcard::testing

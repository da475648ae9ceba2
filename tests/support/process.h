// A child process (a service binary) with its output in a log file, and a
// shell command's output.
#ifndef GIFTCARD_TESTS_SUPPORT_PROCESS_H_
#define GIFTCARD_TESTS_SUPPORT_PROCESS_H_

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace giftcard::testing {

// Path of a service binary ("account-credit", "code-vault", "billing").
std::string BinaryOf(const std::string& name);

// A child process (a service binary) with its output in a log file.
class Process {
 public:
  Process(const std::string& binary, const std::vector<std::string>& args,
          const std::map<std::string, std::string>& env, const std::string& log_path);
  ~Process();  // SIGKILL if still running.
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void Signal(int sig);
  // The exit code once the process ended within `timeout`; -1 for a signal death.
  std::optional<int> WaitExit(absl::Duration timeout);
  bool Running();
  // How it ended ("exited with code 1", "killed by signal 11 (Segmentation
  // fault)"), or "running".
  std::string HowItEnded();
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  std::string Log() const;
  // The log once the lines the process still buffers are written: what a
  // check for something absent from it (a PIN) must read.
  std::string SettledLog() const;
  // Polls the log until it holds `text` or `timeout` passes; whether it does.
  bool WaitForLog(const std::string& text, absl::Duration timeout = absl::Seconds(10)) const;

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string log_path_;
};

// What a command run under /bin/sh printed and how it exited.
struct ShellRun {
  int exit_code = -1;
  std::string out, err;
};

// Runs `command` under /bin/sh with stdout and stderr captured apart.
ShellRun RunCommand(const std::string& command);

}  // namespace giftcard::testing

#endif  // GIFTCARD_TESTS_SUPPORT_PROCESS_H_

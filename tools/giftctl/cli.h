// giftctl's command line: commands of one or two words ("audit", "codes
// issue"), each with its own flags and `--help`, plus the global flags every
// command takes. Hand-rolled rather than absl flags so that each command's
// --help shows only its own flags and unknown flags are refused per command.
#ifndef GIFTCARD_TOOLS_GIFTCTL_CLI_H_
#define GIFTCARD_TOOLS_GIFTCTL_CLI_H_

#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace giftcard::giftctl {

struct FlagSpec {
  std::string name;  // Without the dashes.
  std::string help;
  bool boolean = false;  // Takes no value.
};

// What the user typed for one command.
class Invocation {
 public:
  bool Has(const std::string& flag) const { return flags_.count(flag) > 0; }
  // The flag's value, or `fallback`.
  std::string Get(const std::string& flag, const std::string& fallback = "") const;
  const std::vector<std::string>& args() const { return args_; }

 private:
  friend class Cli;
  std::map<std::string, std::string> flags_;
  std::vector<std::string> args_;
};

struct CommandSpec {
  std::string name;     // "codes issue"
  std::string args;     // "SERIAL..." (for the usage line)
  std::string summary;  // One line.
  std::string details;  // Further lines for --help; may be empty.
  std::vector<FlagSpec> flags;
  std::function<int(const Invocation&)> run;
};

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // A call failed, or the audit found violations.
inline constexpr int kExitUsage = 2;

class Cli {
 public:
  Cli(std::vector<FlagSpec> global_flags, std::vector<CommandSpec> commands)
      : global_flags_(std::move(global_flags)), commands_(std::move(commands)) {}

  // Finds the command, parses its flags and runs it; prints usage for
  // `giftctl`, `giftctl --help` and `giftctl COMMAND --help`.
  int Main(int argc, char** argv) const;

 private:
  void PrintOverview(std::FILE* out) const;
  void PrintCommandHelp(const CommandSpec& command, std::FILE* out) const;

  std::vector<FlagSpec> global_flags_;
  std::vector<CommandSpec> commands_;
};

}  // namespace giftcard::giftctl

#endif  // GIFTCARD_TOOLS_GIFTCTL_CLI_H_

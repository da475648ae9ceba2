// How a command group puts its commands on giftctl's command line (CLI11).
// Each group's file owns its flags, help text and body, and registers them
// here; giftctl.cc only builds the app, parses and runs the chosen body.
#ifndef GIFTCARD_TOOLS_GIFTCTL_COMMAND_LINE_H_
#define GIFTCARD_TOOLS_GIFTCTL_COMMAND_LINE_H_

#include <CLI/CLI.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "session.h"

namespace giftcard::giftctl {

class CommandLine {
 public:
  CommandLine(CLI::App& app, const Session& session) : app_(app), session_(session) {}

  const Session& session() const { return session_; }
  CLI::App* root() { return &app_; }

  // A group of commands ("codes"): one of its commands must follow.
  CLI::App* Group(const char* name, const char* about);
  // A command under `parent` whose `body` runs once the whole line parsed
  // (global flags may follow the command).
  CLI::App* Command(CLI::App* parent, const char* name, const char* about,
                    std::function<int()> body);
  // A command's flags, kept as long as the command line: CLI11 writes them
  // while parsing, the body reads them after.
  template <typename Flags>
  Flags& NewFlags() {
    auto flags = std::make_shared<Flags>();
    kept_.push_back(flags);
    return *flags;
  }
  // The chosen command's exit code; a usage error when none was chosen.
  int Run() const { return run_ ? run_() : kExitUsage; }

 private:
  CLI::App& app_;
  const Session& session_;
  std::vector<std::shared_ptr<void>> kept_;
  std::function<int()> run_;
};

// A command's own notes in its --help, then the global flags' line.
void Explain(CLI::App* command, const char* notes);

struct PageFlags {
  int page_size = 0;
  std::string page_token;
};
void AddPageFlags(CLI::App* command, PageFlags& page);
void AddRequestId(CLI::App* command, std::string& request_id);

// Each group's commands, in the order --help lists them.
void AddBatchesCommands(CommandLine& cli);
void AddAccountCommands(CommandLine& cli);
void AddReportCommands(CommandLine& cli);
void AddInvoiceCommands(CommandLine& cli);
void AddEventsCommands(CommandLine& cli);
void AddAuditCommand(CommandLine& cli);
void AddHealthCommand(CommandLine& cli);

// The codes group's three files.
void AddCodesIssueCommand(CommandLine& cli, CLI::App* codes);
void AddCodesChangeCommands(CommandLine& cli, CLI::App* codes);  // activate … clawback
void AddCodesLookupCommands(CommandLine& cli, CLI::App* codes);  // status, history, list

}  // namespace giftcard::giftctl

#endif  // GIFTCARD_TOOLS_GIFTCTL_COMMAND_LINE_H_

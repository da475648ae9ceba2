#include "command_line.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace giftcard::giftctl {
namespace {

// Every command's help ends so; subcommands do not list their parents' flags.
constexpr char kCommandFooter[] =
    "Global flags, before or after the command: --json, --token_file, --timeout, --code_vault,\n"
    "--account_credit, --billing ('giftctl --help' tells them, the environment and exit codes).";

}  // namespace

CLI::App* CommandLine::Group(const char* name, const char* about) {
  CLI::App* group = app_.add_subcommand(name, about);
  group->fallthrough();  // Global flags after the command too.
  group->require_subcommand(1);
  group->footer(kCommandFooter);
  return group;
}

CLI::App* CommandLine::Command(CLI::App* parent, const char* name, const char* about,
                               std::function<int()> body) {
  CLI::App* command = parent->add_subcommand(name, about);
  command->fallthrough();
  command->footer(kCommandFooter);
  command->callback([this, body = std::move(body)] { run_ = body; });
  return command;
}

void Explain(CLI::App* command, const char* notes) {
  command->footer(absl::StrCat(notes, "\n\n", kCommandFooter));
}

void AddPageFlags(CLI::App* command, PageFlags& page) {
  command->add_option("--page_size", page.page_size, "rows per page, 1 to 1000 (default 100)");
  command->add_option("--page_token", page.page_token,
                      "the page to show: the token of the previous page's 'more:' line");
}

void AddRequestId(CLI::App* command, std::string& request_id) {
  command->add_option("--request_id", request_id,
                      "idempotency key: a retry with the same one does nothing twice (default: a "
                      "new random one)");
}

}  // namespace giftcard::giftctl

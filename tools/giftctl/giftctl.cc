// giftctl: the admin and support CLI. It talks only to the services' gRPC
// APIs, never to their databases. 'giftctl --help' lists the command groups,
// 'giftctl GROUP --help' a group's commands.
//
// This file wires the command line (CLI11: command groups, each command with
// its own flags and --help, global flags before or after the command) to the
// command groups, each in a file of its own that owns its flags, help and
// body (codes_*.cc, account.cc, report.cc, …; command_line.h lists them).
#include <grpc/support/log.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "command_line.h"
#include "session.h"

namespace giftcard::giftctl {
namespace {

constexpr char kFooter[] = R"(Environment:
  GIFTCTL_TOKEN_FILE, GIFTCTL_TOKEN  the caller's bearer token: a file holding it, or the token
                                     (--token_file wins over both)
  CODE_VAULT_ADDR, ACCOUNT_CREDIT_ADDR, BILLING_ADDR
                                     the services' host:port (deploy/local/stack.sh's env file)
  GIFTCARD_TLS_CA                    CA file of the services' certificates: set it when they
                                     serve TLS
  GIFTCARD_TLS_CERT, GIFTCARD_TLS_KEY
                                     this caller's certificate and key, for mutual TLS
Output: tables for people; --json prints one JSON document (protobuf's JSON mapping with
the proto field names: enum values in full, CODE_STATE_REDEEMED, and 64-bit integers such
as amount_minor as strings, so that no parser rounds them). A failure is one line on stderr
("giftctl: NOT_FOUND ACCOUNT_NOT_FOUND: no such account"), or under --json one JSON object
{"error": {"code", "reason", "message", "metadata", ...}} on stderr.
Exit codes: 0 done; 1 a call failed, nothing changed, or the audit found violations;
2 a usage error or a bad argument the service refused (INVALID_ARGUMENT).)";

// The words of the deepest command given ("codes list"); "" for none.
std::string PathOf(const CLI::App& app, const CLI::App** deepest) {
  std::vector<std::string> words;
  const CLI::App* at = &app;
  while (!at->get_subcommands().empty()) {
    at = at->get_subcommands().front();
    words.push_back(at->get_name());
  }
  *deepest = at;
  return absl::StrJoin(words, " ");
}

std::string SubcommandNames(const CLI::App& group) {
  std::vector<std::string> names;
  for (const CLI::App* sub : group.get_subcommands([](const CLI::App*) { return true; })) {
    names.push_back(sub->get_name());
  }
  return absl::StrJoin(names, ", ");
}

// A parse error as giftctl says it: which command, what is wrong, where help
// is; unknown commands of a group list the group's commands.
int ReportParseError(const CLI::App& app, const CLI::ParseError& e, const Session& session) {
  const CLI::App* deepest = nullptr;
  const std::string path = PathOf(app, &deepest);
  const bool is_group = !deepest->get_subcommands([](const CLI::App*) { return true; }).empty();
  // The words CLI11 did not take, from its message ("…not expected: a b").
  std::vector<std::string> extras = app.remaining(true);
  const bool extras_error = dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr;
  const bool required_error = dynamic_cast<const CLI::RequiredError*>(&e) != nullptr;
  if (extras.empty() && extras_error) {
    const std::string what = e.what();
    if (size_t colon = what.find(": "); colon != std::string::npos) {
      extras = absl::StrSplit(what.substr(colon + 2), ' ', absl::SkipEmpty());
    }
  }
  if (is_group && (required_error || extras_error) && deepest->get_subcommands().empty()) {
    const std::string where = path.empty() ? "giftctl" : "giftctl " + path;
    for (const std::string& word : extras) {
      if (absl::StartsWith(word, "-")) continue;
      return session.UsageError(path, absl::StrCat("unknown command '", word, "'; ", where,
                                                   " has: ", SubcommandNames(*deepest)));
    }
    // A group alone: its help, as a usage error.
    std::fprintf(stderr, "%s", deepest->help(path.empty() ? "" : "giftctl").c_str());
    return kExitUsage;
  }
  if (extras_error && !extras.empty()) {
    const std::string& first = extras.front();
    if (absl::StartsWith(first, "-")) {
      return session.UsageError(path,
                                absl::StrCat("unknown flag ", first.substr(0, first.find('='))));
    }
    return session.UsageError(path, absl::StrCat("unexpected argument '", first, "'"));
  }
  return session.UsageError(path, e.what());
}

void AddGlobalFlags(CLI::App& app, Globals& globals) {
  app.fallthrough();  // Global flags after the command too.
  app.require_subcommand(1);
  app.add_flag("--json", globals.json, "print one JSON document instead of a table");
  app.add_option("--token_file", globals.token_file, "file holding the caller's bearer token")
      ->envname(kTokenFileEnv);
  app.add_option("--timeout", globals.timeout, "deadline of each call, e.g. 10s");
  app.add_option("--code_vault", globals.code_vault, "code-vault host:port")
      ->envname("CODE_VAULT_ADDR");
  app.add_option("--account_credit", globals.account_credit, "account-credit host:port")
      ->envname("ACCOUNT_CREDIT_ADDR");
  app.add_option("--billing", globals.billing, "billing host:port")->envname("BILLING_ADDR");
}

void AddCodesCommands(CommandLine& cli) {
  CLI::App* codes = cli.Group(
      "codes",
      "gift-card codes: issue, activate, void, block, unblock, claw back, look up, history, list");
  AddCodesIssueCommand(cli, codes);
  AddCodesChangeCommands(cli, codes);
  AddCodesLookupCommands(cli, codes);
}

int Main(int argc, char** argv) {
  // gRPC's own log lines (a failed TLS handshake's) would print raw next to
  // giftctl's message, which says what is wrong; GIFTCTL_GRPC_LOG=1 keeps them.
  if (std::getenv("GIFTCTL_GRPC_LOG") == nullptr) gpr_set_log_function([](gpr_log_func_args*) {});

  Globals globals;
  const Session session(globals);
  CLI::App app{"giftctl: the admin and support CLI of the gift-card suite (gRPC only)", "giftctl"};
  AddGlobalFlags(app, globals);
  CommandLine cli(app, session);
  AddCodesCommands(cli);
  AddBatchesCommands(cli);
  AddAccountCommands(cli);
  AddReportCommands(cli);
  AddInvoiceCommands(cli);
  AddEventsCommands(cli);
  AddAuditCommand(cli);
  AddHealthCommand(cli);
  app.footer(kFooter);

  if (argc == 2 && std::string(argv[1]) == "help") {
    std::printf("%s", app.help().c_str());
    return kExitOk;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::printf("%s", app.help().c_str());
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    std::printf("%s", app.help("", CLI::AppFormatMode::All).c_str());
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    return ReportParseError(app, e, session);
  }
  return cli.Run();
}

}  // namespace
}  // namespace giftcard::giftctl

int main(int argc, char** argv) { return giftcard::giftctl::Main(argc, argv); }

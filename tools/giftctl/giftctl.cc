// giftctl: the admin and support CLI. It talks only to the services' gRPC
// APIs, never to their databases. 'giftctl --help' lists the command groups,
// 'giftctl GROUP --help' a group's commands.
//
// This file wires the command line (CLI11: command groups, each command with
// its own flags and --help, global flags before or after the command) to the
// commands of commands.cc.
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
#include "commands.h"
#include "session.h"

namespace giftcard::giftctl {
namespace {

// Every command's help ends so; subcommands do not list their parents' flags.
constexpr char kCommandFooter[] =
    "Global flags, before or after the command: --json, --token_file, --timeout, --code_vault,\n"
    "--account_credit, --billing ('giftctl --help' tells them, the environment and exit codes).";

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

// A command's own notes, then the global flags' line.
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

int Main(int argc, char** argv) {
  // gRPC's own log lines (a failed TLS handshake's) would print raw next to
  // giftctl's message, which says what is wrong; GIFTCTL_GRPC_LOG=1 keeps them.
  if (std::getenv("GIFTCTL_GRPC_LOG") == nullptr) gpr_set_log_function([](gpr_log_func_args*) {});

  Globals globals;
  const Session session(globals);
  CLI::App app{"giftctl: the admin and support CLI of the gift-card suite (gRPC only)", "giftctl"};
  app.footer(kCommandFooter);  // Inherited by each command; the overview's is set below.
  app.fallthrough();           // Global flags after the command too.
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

  std::function<int()> run;
  auto group = [&](const char* name, const char* about) {
    CLI::App* g = app.add_subcommand(name, about);
    g->fallthrough();
    g->require_subcommand(1);
    return g;
  };
  auto command = [&](CLI::App* parent, const char* name, const char* about,
                     std::function<int()> body) {
    CLI::App* c = parent->add_subcommand(name, about);
    c->fallthrough();
    c->callback([&run, body = std::move(body)] { run = body; });
    return c;
  };

  // codes
  CLI::App* codes = group(
      "codes",
      "gift-card codes: issue, activate, void, block, unblock, claw back, look up, history, list");
  IssueFlags issue;
  CLI::App* c = command(codes, "issue",
                        "issue a batch of new codes (state ISSUED) and write serial,PIN to a new "
                        "file, encrypted to the printer's key",
                        [&] { return CodesIssue(session, issue); });
  Explain(
      c,
      "The file holds the only copy of the PINs. With --recipient it is encrypted (OpenPGP,\n"
      "GPGME) to the card printer's public key from the keyring (GNUPGHOME): the PINs never\n"
      "touch the disk in clear. A key named by its full fingerprint is used as pinned; one named\n"
      "by email or key id must be certified in the keyring. --plaintext writes them in clear\n"
      "instead. Either way the file is created with mode 0600 and never overwritten. A progress\n"
      "bar goes to stderr, on a terminal, for 1,000 codes or more.\n"
      "  e.g. giftctl codes issue --count=500 --amount=25.00 --currency=EUR --region=DE \\\n"
      "         --recipient=<printer's fingerprint> --out=batch-0042.csv.gpg");
  c->add_option("--count", issue.count, "how many codes (1 to 100,000)")->required();
  c->add_option("--amount", issue.amount, "value of each code, e.g. 25.00")->required();
  c->add_option("--currency", issue.currency, "ISO-4217 code, e.g. EUR")->required();
  c->add_option("--region", issue.region, "ISO-3166 country where they may be redeemed, e.g. DE")
      ->required();
  c->add_option("--out", issue.out, "the CSV file to create (a new file, not a directory)")
      ->required();
  c->add_option("--recipient", issue.recipients,
                "OpenPGP key to encrypt the file to: the printer's fingerprint (repeatable)");
  c->add_flag("--plaintext", issue.plaintext,
              "write serial,PIN in clear instead of encrypting (needs saying)");
  c->add_option("--expire_time", issue.expire_time,
                "RFC 3339 time after which unredeemed codes expire");
  c->add_flag("--progress", issue.progress, "show the progress bar for small batches too");
  AddRequestId(c, issue.request_id);

  SelectFlags activate;
  c = command(codes, "activate", "activate sold codes (ISSUED → ACTIVE)",
              [&] { return CodesActivate(session, activate); });
  c->add_option("serials", activate.serials, "serials to activate (or --batch_id)");
  c->add_option("--batch_id", activate.batch_id, "every ISSUED code of this batch");
  AddRequestId(c, activate.request_id);
  Explain(c,
          "A voided, expired or redeemed serial refuses the whole change; of a batch, such\n"
          "codes are skipped and counted. Exit 1 when no code is ACTIVE afterwards.");

  SelectFlags void_flags;
  c = command(codes, "void", "void codes that are not redeemed (→ VOIDED)",
              [&] { return CodesVoid(session, void_flags); });
  c->add_option("serials", void_flags.serials, "serials to void (or --batch_id)");
  c->add_option("--batch_id", void_flags.batch_id, "every unredeemed code of this batch");
  c->add_option("--reason", void_flags.reason, "why, kept with the code ('codes status' shows it)")
      ->required();
  AddRequestId(c, void_flags.request_id);

  SelectFlags block_flags;
  c = command(codes, "block", "hold codes for fraud (→ BLOCKED; reversible, unlike void)",
              [&] { return CodesBlock(session, block_flags); });
  c->add_option("serials", block_flags.serials, "serials to block (or --batch_id)");
  c->add_option("--batch_id", block_flags.batch_id, "every ISSUED or ACTIVE code of this batch");
  c->add_option("--reason", block_flags.reason, "why, shown to support ('codes status')")
      ->required();
  AddRequestId(c, block_flags.request_id);
  Explain(c,
          "A blocked code answers the storefront exactly as an unknown one. A voided, expired\n"
          "or redeemed serial refuses the whole change; of a batch, such codes are skipped.");

  SelectFlags unblock_flags;
  c = command(codes, "unblock", "end a hold: BLOCKED codes go back to ISSUED or ACTIVE",
              [&] { return CodesUnblock(session, unblock_flags); });
  c->add_option("serials", unblock_flags.serials, "serials to unblock (or --batch_id)");
  c->add_option("--batch_id", unblock_flags.batch_id, "every BLOCKED code of this batch");
  c->add_option("--reason", unblock_flags.reason, "why the hold ends")->required();
  AddRequestId(c, unblock_flags.request_id);

  ClawbackFlags clawback;
  c = command(codes, "clawback", "claw back a fraudulent redemption and hold its code for good",
              [&] { return CodesClawback(session, clawback); });
  c->add_option("serial", clawback.serials, "the redeemed card's serial (or --redemption_id)");
  c->add_option("--redemption_id", clawback.redemption_id, "the redemption to claw back");
  c->add_option("--then", clawback.then, "where the code goes: blocked or voided")->required();
  c->add_option("--reason", clawback.reason, "why (the fraud case), shown to support")->required();
  AddRequestId(c, clawback.request_id);
  Explain(c,
          "Takes the credit back from the account, up to its balance; what was already spent\n"
          "(unrecovered) is owed by the account, and its next credits pay it first. The\n"
          "balance never goes negative. Once per redemption; a clawed-back code is never\n"
          "unblocked.");

  StatusFlags status;
  c = command(codes, "status", "what happened to a card: state, times, who redeemed it",
              [&] { return CodesStatus(session, status); });
  c->add_option("serial", status.serial, "the serial printed on the card");
  c->add_flag("--pin_stdin", status.pin_stdin,
              "read the PIN from stdin instead (prompted, without echo, on a terminal)");
  Explain(c,
          "Give the serial printed on the card, or --pin_stdin and type the PIN (or redirect\n"
          "it from a file) so that it stays out of shell history and the process list.");

  OneIdFlags history;
  c = command(codes, "history", "a code's every change: when, who, why (the audit trail)",
              [&] { return CodesHistory(session, history); });
  c->add_option("serial", history.id, "the serial printed on the card")->required();
  AddPageFlags(c, history.page);
  Explain(c,
          "Oldest first. WHO is the principal whose token made an admin change; a\n"
          "redemption's steps name their redemption instead.");

  ListCodesFlags list;
  c = command(codes, "list", "list codes of a batch, in a state, or both, a page at a time",
              [&] { return CodesList(session, list); });
  c->add_option("--batch_id", list.batch_id,
                "only codes of this batch ('batches list' lists them)");
  c->add_option("--state", list.state,
                "only codes in this state: ISSUED, ACTIVE, REDEEMING, "
                "REDEEMED, VOIDED, EXPIRED or BLOCKED");
  AddPageFlags(c, list.page);
  Explain(c,
          "Without --batch_id, codes of every batch in serial order. The 'more:' line is the\n"
          "command for the next page; its token remembers the batch and state.");

  // batches
  CLI::App* batches = group("batches", "batches of codes as issued");
  PageFlags batch_page;
  c = command(batches, "list", "list batches, newest first",
              [&] { return BatchesList(session, batch_page); });
  AddPageFlags(c, batch_page);

  // account
  CLI::App* account = group("account", "accounts and their credit");
  OneIdFlags account_show;
  c = command(account, "show", "an account: country, currency, channel, balance",
              [&] { return AccountShow(session, account_show); });
  c->add_option("account_id", account_show.id, "the account")->required();
  OneIdFlags ledger;
  c = command(account, "ledger", "an account's ledger entries, newest first",
              [&] { return AccountLedger(session, ledger); });
  c->add_option("account_id", ledger.id, "the account")->required();
  AddPageFlags(c, ledger.page);
  StatementFlags statement;
  c = command(account, "statement",
              "an account's statement: every entry oldest first with its kind, reference and the "
              "balance after it",
              [&] { return AccountStatement(session, statement); });
  c->add_option("account_id", statement.account_id, "the account")->required();
  c->add_option("--from", statement.from, "entries at or after this time (RFC 3339 or YYYY-MM-DD)");
  c->add_option("--to", statement.to, "entries before this time (RFC 3339 or YYYY-MM-DD)");
  c->add_flag("--csv", statement.csv, "CSV for a spreadsheet instead of a table");

  // report
  CLI::App* report =
      group("report", "finance's reports (admin and support): liability, breakage, dormancy");
  ReportFlags liability;
  c = command(report, "liability",
              "what is owed as credit, per currency: account credit plus sold, unredeemed codes",
              [&] { return ReportLiability(session, liability); });
  c->add_flag("--csv", liability.csv, "CSV (minor units) instead of a table");
  Explain(c,
          "ACCOUNTS, ACTIVE_CODES and HELD_CODES are counts (accounts with credit; codes\n"
          "sold and not redeemed; codes blocked while active). TOTAL = CREDIT_AMOUNT +\n"
          "ACTIVE_AMOUNT + HELD_AMOUNT. Codes REDEEMING are in flight and shown on a line\n"
          "below, not in TOTAL: their credit may already be on an account. --csv: the same\n"
          "in minor units, with redeeming_minor.");
  ReportFlags breakage;
  c = command(report, "breakage",
              "value of sold codes that expired or were voided unredeemed, by batch and month",
              [&] { return ReportBreakage(session, breakage); });
  c->add_flag("--csv", breakage.csv, "CSV (minor units) instead of a table");
  ReportFlags dormant;
  c = command(report, "dormant",
              "accounts holding credit with no ledger entry for --days days (unclaimed property)",
              [&] { return ReportDormant(session, dormant); });
  c->add_option("--days", dormant.days, "days without an entry (default 365)");
  c->add_flag("--csv", dormant.csv, "CSV (minor units) instead of a table");

  // invoice
  CLI::App* invoice = group("invoice", "credit applied to invoices");
  OneIdFlags invoice_show;
  c = command(invoice, "show", "the credit applied to an invoice and what is left to charge",
              [&] { return InvoiceShow(session, invoice_show); });
  c->add_option("invoice_id", invoice_show.id, "the invoice")->required();

  // events
  CLI::App* events = group("events", "what happened, as each service tells it (admin, support)");
  EventsFlags events_list, events_follow;
  events_follow.follow = true;
  for (EventsFlags* flags : {&events_list, &events_follow}) {
    c = flags->follow
            ? command(events, "follow", "print a service's events as they happen; resumes by id",
                      [&session, flags] { return Events(session, *flags); })
            : command(events, "list", "print a service's events so far, oldest first",
                      [&session, flags] { return Events(session, *flags); });
    c->add_option("--service", flags->service, "code-vault, account-credit or billing")->required();
    c->add_option("--after", flags->after, "events after this id (0: from the oldest kept)");
    c->add_option("--stream_epoch", flags->stream_epoch,
                  "the stream_epoch of the events read up to --after (in --json output): a "
                  "service restored to an earlier point since then says so instead of reusing ids");
    c->add_option("--type", flags->types, "only this type (repeatable), e.g. code.redeemed");
    c->add_option("--serial", flags->serial, "only this card's events");
    c->add_option("--account", flags->account_id, "only this account's events");
    c->add_option("--count", flags->count, "stop after this many events");
    Explain(c,
            "One line per event: id, time, type, then the ids and amounts it carries (never a\n"
            "PIN). --json prints each event as protobuf JSON (follow: one object per line).\n"
            "Types: code.activated, code.redeemed, code.blocked, code.unblocked, code.voided\n"
            "(code-vault); credit.added, credit.applied, credit.reversed, credit.clawed_back,\n"
            "credit.depleted (account-credit); credit.low (billing). Delivery is at least\n"
            "once: a consumer resumes with --after=<the last id it processed> and\n"
            "--stream_epoch=<its stream_epoch>.");
  }

  // audit, health
  AuditFlags audit;
  c = command(&app, "audit",
              "check every invariant of the books across the three services (admin only)",
              [&] { return Audit(session, audit); });
  c->add_option("--chunk_size", audit.chunk_size, "rows per streamed message (default 1,000)");
  c->add_option(
      "--metrics_file", audit.metrics_file,
      "also write the outcome for Prometheus to this file (node_exporter's textfile "
      "collector): giftcard_audit_violations, giftcard_audit_completed_timestamp_seconds");
  Explain(c,
          "Exit code 0 when the books are clean, 1 on any violation (each printed).\n"
          "Run it on a schedule with --metrics_file so a violation, or an audit that stopped\n"
          "running, pages someone (deploy/observability/README.md).");

  HealthFlags health;
  c = command(&app, "health", "grpc.health.v1 check of each address, naming the service there",
              [&] { return Health(session, health); });
  c->add_option("address", health.addresses, "host:port to check")->required();
  c->add_option("--wait", health.wait,
                "keep asking until SERVING or this much time has passed, e.g. 30s");
  c->add_option("--service", health.service,
                "health service name: \"\" (default) is readiness, giftcard.liveness liveness");

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
  return run ? run() : kExitUsage;
}

}  // namespace
}  // namespace giftcard::giftctl

int main(int argc, char** argv) { return giftcard::giftctl::Main(argc, argv); }

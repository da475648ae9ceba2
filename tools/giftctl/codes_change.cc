// giftctl codes activate, void, block, unblock and clawback: an admin's
// changes of codes, by batch or by serial, each with its reason.
#include <cstdio>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "calls.h"
#include "output.h"

namespace giftcard::giftctl {
namespace {

// A batch or serials.
struct SelectFlags {
  std::string batch_id;
  std::vector<std::string> serials;
  std::string reason;  // Void, block and unblock.
  std::string request_id;
};

// A clawback of the redemption of SERIAL's code, or of --redemption_id.
struct ClawbackFlags {
  std::vector<std::string> serials;  // At most one.
  std::string redemption_id;
  std::string then;  // "blocked" or "voided".
  std::string reason;
  std::string request_id;
};

// The selection flags' usage error for `cmd`, if any: a PIN where a serial
// goes, or not exactly one of --batch_id and serials.
std::optional<int> SelectionUsageError(const Session& session, const std::string& cmd,
                                       const SelectFlags& flags) {
  if (AnyLooksLikeAPin(flags.serials)) return session.UsageError(cmd, kLooksLikeAPin);
  const bool by_batch = !flags.batch_id.empty();
  if (by_batch == !flags.serials.empty()) {
    return session.UsageError(
        cmd, by_batch ? "give --batch_id or serials, not both" : "give --batch_id or serials");
  }
  return std::nullopt;
}

// A request of the selection, with its reason where the request has one.
template <typename Request>
Request Selection(const SelectFlags& flags, const std::string& request_id_prefix) {
  Request request;
  request.set_batch_id(flags.batch_id);
  for (const std::string& serial : flags.serials) request.add_serials(serial);
  if constexpr (!std::is_same_v<Request, v1::ActivateCodesRequest>) {
    request.set_reason(flags.reason);
  }
  request.set_request_id(RequestIdOr(flags.request_id, request_id_prefix));
  return request;
}

// "activated 3 codes; 2 were ACTIVE already; 1 cannot be activated (…)".
// A change that leaves no code in the asked state is a failure (exit 1),
// not a success that did nothing.
struct BulkOutcome {
  absl::string_view verb;          // "activated"
  absl::string_view target_state;  // "ACTIVE", or "not blocked"
  absl::string_view cannot_why;    // Why the skipped ones cannot be.
  int64_t changed, unchanged, skipped;
};

int BulkAnswer(const Session& session, const grpc::Status& status,
               const google::protobuf::Message& response, const BulkOutcome& o) {
  if (!status.ok()) return session.CallFailed(status);
  if (session.json()) {
    std::printf("%s\n", ToJson(response).c_str());
  } else {
    std::string line = absl::StrCat(o.verb, " ", Count(o.changed, "code", "codes"));
    if (o.unchanged > 0) {
      // "2 were ACTIVE already", but "1 was not blocked".
      absl::StrAppend(&line, "; ", o.unchanged, o.unchanged == 1 ? " was " : " were ",
                      o.target_state, absl::StartsWith(o.target_state, "not ") ? "" : " already");
    }
    if (o.skipped > 0) {
      absl::StrAppend(&line, "; ", o.skipped, " cannot be ", o.verb, " (", o.cannot_why, ")");
    }
    std::printf("%s\n", line.c_str());
  }
  if (o.changed + o.unchanged == 0) {
    return session.Failed(absl::StrCat("no code was ", o.verb, " and none is ", o.target_state));
  }
  return kExitOk;
}

int CodesActivate(const Session& session, const SelectFlags& flags) {
  if (auto usage = SelectionUsageError(session, "codes activate", flags)) return *usage;
  auto request = Selection<v1::ActivateCodesRequest>(flags, "giftctl-activate");
  v1::ActivateCodesResponse response;
  grpc::Status status = Vault(session)->ActivateCodes(session.Call().get(), request, &response);
  return BulkAnswer(
      session, status, response,
      {"activated", "ACTIVE", "voided, redeemed or expired", response.activated_count(),
       response.unchanged_count(), response.skipped_count()});
}

int CodesVoid(const Session& session, const SelectFlags& flags) {
  if (auto usage = SelectionUsageError(session, "codes void", flags)) return *usage;
  auto request = Selection<v1::VoidCodesRequest>(flags, "giftctl-void");
  v1::VoidCodesResponse response;
  grpc::Status status = Vault(session)->VoidCodes(session.Call().get(), request, &response);
  return BulkAnswer(session, status, response,
                    {"voided", "VOIDED", "redeeming or redeemed", response.voided_count(),
                     response.unchanged_count(), response.skipped_count()});
}

int CodesBlock(const Session& session, const SelectFlags& flags) {
  if (auto usage = SelectionUsageError(session, "codes block", flags)) return *usage;
  auto request = Selection<v1::BlockCodesRequest>(flags, "giftctl-block");
  v1::BlockCodesResponse response;
  grpc::Status status = Vault(session)->BlockCodes(session.Call().get(), request, &response);
  return BulkAnswer(
      session, status, response,
      {"blocked", "BLOCKED", "voided, expired, redeeming or redeemed", response.blocked_count(),
       response.unchanged_count(), response.skipped_count()});
}

int CodesUnblock(const Session& session, const SelectFlags& flags) {
  if (auto usage = SelectionUsageError(session, "codes unblock", flags)) return *usage;
  auto request = Selection<v1::UnblockCodesRequest>(flags, "giftctl-unblock");
  v1::UnblockCodesResponse response;
  grpc::Status status = Vault(session)->UnblockCodes(session.Call().get(), request, &response);
  return BulkAnswer(
      session, status, response,
      {"unblocked", "not blocked", "", response.unblocked_count(), response.unchanged_count(), 0});
}

void PrintClawback(const v1::Clawback& clawback) {
  PrintFields({{"clawback_id", clawback.clawback_id()},
               {"serial", clawback.serial()},
               {"redemption_id", clawback.redemption_id()},
               {"account_id", clawback.account_id()},
               {"amount", Money(clawback.amount())},
               {"clawed_back", Money(clawback.clawed_back())},
               {"unrecovered", clawback.unrecovered().amount_minor() > 0
                                   ? Money(clawback.unrecovered()) +
                                         " (now owed; the account's next credits pay it first)"
                                   : Money(clawback.unrecovered())},
               {"balance", Money(clawback.balance())},
               {"code_now", StateName(clawback.then_state())},
               {"reason", clawback.reason()},
               {"principal", clawback.principal()},
               {"request_id", clawback.request_id()}});
}

int CodesClawback(const Session& session, const ClawbackFlags& flags) {
  const std::string cmd = "codes clawback";
  if (AnyLooksLikeAPin(flags.serials)) return session.UsageError(cmd, kLooksLikeAPin);
  if (flags.serials.size() > 1 || flags.serials.empty() == flags.redemption_id.empty()) {
    return session.UsageError(cmd, "give one SERIAL or --redemption_id");
  }
  v1::ReverseRedemptionRequest request;
  if (flags.serials.empty()) {
    request.set_redemption_id(flags.redemption_id);
  } else {
    request.set_serial(flags.serials[0]);
  }
  const std::string then = absl::AsciiStrToLower(flags.then);
  if (then == "blocked") {
    request.set_then_state(v1::CODE_STATE_BLOCKED);
  } else if (then == "voided") {
    request.set_then_state(v1::CODE_STATE_VOIDED);
  } else {
    return session.UsageError(cmd, "--then is blocked or voided");
  }
  request.set_reason(flags.reason);
  request.set_request_id(RequestIdOr(flags.request_id, "giftctl-clawback"));
  v1::Clawback clawback;
  grpc::Status status = Vault(session)->ReverseRedemption(session.Call().get(), request, &clawback);
  return Answer(session, status, clawback, [&] { PrintClawback(clawback); });
}

// A command over a batch or serials, as activate, void, block and unblock
// are: its words, and its body.
struct SelectCommand {
  const char* name;
  const char* about;
  const char* serials_help;
  const char* batch_help;
  const char* reason_help;  // Null: the command takes no reason.
  const char* notes;        // Null: none beyond the global flags' line.
  int (*body)(const Session&, const SelectFlags&);
};

constexpr SelectCommand kSelectCommands[] = {
    {"activate", "activate sold codes (ISSUED → ACTIVE)", "serials to activate (or --batch_id)",
     "every ISSUED code of this batch", nullptr,
     "A voided, expired or redeemed serial refuses the whole change; of a batch, such\n"
     "codes are skipped and counted. Exit 1 when no code is ACTIVE afterwards.",
     CodesActivate},
    {"void", "void codes that are not redeemed (→ VOIDED)", "serials to void (or --batch_id)",
     "every unredeemed code of this batch", "why, kept with the code ('codes status' shows it)",
     nullptr, CodesVoid},
    {"block", "hold codes for fraud (→ BLOCKED; reversible, unlike void)",
     "serials to block (or --batch_id)", "every ISSUED or ACTIVE code of this batch",
     "why, shown to support ('codes status')",
     "A blocked code answers the storefront exactly as an unknown one. A voided, expired\n"
     "or redeemed serial refuses the whole change; of a batch, such codes are skipped.",
     CodesBlock},
    {"unblock", "end a hold: BLOCKED codes go back to ISSUED or ACTIVE",
     "serials to unblock (or --batch_id)", "every BLOCKED code of this batch", "why the hold ends",
     nullptr, CodesUnblock},
};

void AddSelectCommand(CommandLine& cli, CLI::App* codes, const SelectCommand& command) {
  SelectFlags& flags = cli.NewFlags<SelectFlags>();
  const Session& session = cli.session();
  CLI::App* c =
      cli.Command(codes, command.name, command.about,
                  [&session, &flags, body = command.body] { return body(session, flags); });
  c->add_option("serials", flags.serials, command.serials_help);
  c->add_option("--batch_id", flags.batch_id, command.batch_help);
  if (command.reason_help != nullptr) {
    c->add_option("--reason", flags.reason, command.reason_help)->required();
  }
  AddRequestId(c, flags.request_id);
  if (command.notes != nullptr) Explain(c, command.notes);
}

void AddClawbackCommand(CommandLine& cli, CLI::App* codes) {
  ClawbackFlags& clawback = cli.NewFlags<ClawbackFlags>();
  const Session& session = cli.session();
  CLI::App* c =
      cli.Command(codes, "clawback", "claw back a fraudulent redemption and hold its code for good",
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
}

}  // namespace

void AddCodesChangeCommands(CommandLine& cli, CLI::App* codes) {
  for (const SelectCommand& command : kSelectCommands) AddSelectCommand(cli, codes, command);
  AddClawbackCommand(cli, codes);
}

}  // namespace giftcard::giftctl

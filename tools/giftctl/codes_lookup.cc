// giftctl codes status, history and list: what support asks about a card.
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "calls.h"
#include "output.h"
#include "terminal.h"

namespace giftcard::giftctl {
namespace {

struct StatusFlags {
  std::string serial;  // Or --pin_stdin.
  bool pin_stdin = false;
};

struct HistoryFlags {
  std::string serial;
  PageFlags page;
};

struct ListCodesFlags {
  std::string batch_id;
  std::string state;
  PageFlags page;
};

// "2026-12-02T10:00:00Z ACTIVE → BLOCKED by admin: fraud case 17".
std::string LastChange(const v1::CodeChange& c) {
  if (c.change_id() == 0) return "-";
  std::string out =
      absl::StrCat(Time(c.change_time()), " ",
                   c.from_state() == v1::CODE_STATE_UNSPECIFIED ? std::string("created")
                                                                : StateName(c.from_state()),
                   " → ", StateName(c.to_state()));
  if (!c.principal().empty()) absl::StrAppend(&out, " by ", c.principal());
  if (!c.reason().empty()) absl::StrAppend(&out, ": ", c.reason());
  return out;
}

void PrintCodeStatus(const v1::CodeStatus& code) {
  PrintFields({{"serial", code.serial()},
               {"state", StateName(code.state())},
               {"amount", Money(code.amount())},
               {"region", code.region()},
               {"batch_id", code.batch_id()},
               {"pin_last4", code.pin_last4()},
               {"create_time", Time(code.create_time())},
               {"activate_time", Time(code.activate_time())},
               {"redeem_time", Time(code.redeem_time())},
               {"void_time", Time(code.void_time())},
               {"void_reason", Or(code.void_reason())},
               {"block_reason", Or(code.block_reason())},
               {"block_time", Time(code.block_time())},
               {"expire_time", Time(code.expire_time())},
               {"redeemed_by_account_id", Or(code.redeemed_by_account_id())},
               {"redemption_id", Or(code.redemption_id())},
               {"last_change", LastChange(code.last_change())}});
}

int CodesStatus(const Session& session, const StatusFlags& flags) {
  const std::string cmd = "codes status";
  v1::GetCodeStatusRequest request;
  if (flags.pin_stdin == !flags.serial.empty()) {
    return session.UsageError(cmd, "give one SERIAL, or --pin_stdin and the PIN on stdin");
  }
  if (flags.pin_stdin) {
    // Read from stdin so the PIN stays out of shell history and `ps`.
    std::optional<std::string> pin = ReadSecretLine("PIN: ");
    if (!pin) return session.UsageError(cmd, "no PIN read");
    request.set_code(*pin);
  } else {
    if (AnyLooksLikeAPin({flags.serial})) return session.UsageError(cmd, kLooksLikeAPin);
    request.set_serial(flags.serial);
  }
  v1::CodeStatus code;
  grpc::Status status = Vault(session)->GetCodeStatus(session.Call().get(), request, &code);
  return Answer(session, status, code, [&] { PrintCodeStatus(code); });
}

int CodesList(const Session& session, const ListCodesFlags& flags) {
  v1::ListCodesRequest request;
  request.set_batch_id(flags.batch_id);
  if (!flags.state.empty()) {
    v1::CodeState state;
    const std::string name = absl::AsciiStrToUpper(flags.state);
    if (!v1::CodeState_Parse(name, &state) && !v1::CodeState_Parse("CODE_STATE_" + name, &state)) {
      return session.UsageError("codes list",
                                "--state is one of ISSUED, ACTIVE, REDEEMING, REDEEMED, "
                                "VOIDED, EXPIRED, BLOCKED");
    }
    request.set_state(state);
  }
  SetPage(flags.page, request);
  v1::ListCodesResponse response;
  grpc::Status status = Vault(session)->ListCodes(session.Call().get(), request, &response);
  return Answer(session, status, response, [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : response.codes()) {
      rows.push_back({c.serial(), StateName(c.state()), Money(c.amount()), c.region(),
                      c.pin_last4(), Or(c.redeemed_by_account_id())});
    }
    PrintTable({"SERIAL", "STATE", "AMOUNT", "REGION", "LAST4", "REDEEMED_BY"}, rows);
    PrintMore("codes list", response.next_page_token());
  });
}

int CodesHistory(const Session& session, const HistoryFlags& flags) {
  if (AnyLooksLikeAPin({flags.serial})) return session.UsageError("codes history", kLooksLikeAPin);
  v1::ListCodeChangesRequest request;
  request.set_serial(flags.serial);
  SetPage(flags.page, request);
  v1::ListCodeChangesResponse response;
  grpc::Status status = Vault(session)->ListCodeChanges(session.Call().get(), request, &response);
  return Answer(session, status, response, [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : response.changes()) {
      const std::string from =
          c.from_state() == v1::CODE_STATE_UNSPECIFIED ? "-" : StateName(c.from_state());
      rows.push_back({Time(c.change_time()), absl::StrCat(from, " → ", StateName(c.to_state())),
                      Or(c.principal()), Or(c.reason()), Or(c.request_id()),
                      Or(c.redemption_id())});
    }
    PrintTable({"WHEN", "CHANGE", "WHO", "WHY", "REQUEST_ID", "REDEMPTION_ID"}, rows);
    PrintMore(absl::StrCat("codes history ", flags.serial), response.next_page_token());
  });
}

}  // namespace

void AddCodesLookupCommands(CommandLine& cli, CLI::App* codes) {
  const Session& session = cli.session();
  StatusFlags& status = cli.NewFlags<StatusFlags>();
  CLI::App* c =
      cli.Command(codes, "status", "what happened to a card: state, times, who redeemed it",
                  [&] { return CodesStatus(session, status); });
  c->add_option("serial", status.serial, "the serial printed on the card");
  c->add_flag("--pin_stdin", status.pin_stdin,
              "read the PIN from stdin instead (prompted, without echo, on a terminal)");
  Explain(c,
          "Give the serial printed on the card, or --pin_stdin and type the PIN (or redirect\n"
          "it from a file) so that it stays out of shell history and the process list.");

  HistoryFlags& history = cli.NewFlags<HistoryFlags>();
  c = cli.Command(codes, "history", "a code's every change: when, who, why (the audit trail)",
                  [&] { return CodesHistory(session, history); });
  c->add_option("serial", history.serial, "the serial printed on the card")->required();
  AddPageFlags(c, history.page);
  Explain(c,
          "Oldest first. WHO is the principal whose token made an admin change; a\n"
          "redemption's steps name their redemption instead.");

  ListCodesFlags& list = cli.NewFlags<ListCodesFlags>();
  c = cli.Command(codes, "list", "list codes of a batch, in a state, or both, a page at a time",
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
}

}  // namespace giftcard::giftctl

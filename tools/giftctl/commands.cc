#include "commands.h"

#include <fcntl.h>
#include <google/protobuf/util/time_util.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "audit/audit.h"
#include "audit/wire.h"
#include "codes/codes.h"
#include "common/tool_common.h"
#include "errors/grpc_status.h"
#include "giftcard/v1/account_credit.grpc.pb.h"
#include "giftcard/v1/billing.grpc.pb.h"
#include "giftcard/v1/code_vault.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "money/money.h"
#include "output.h"
#include "protoconv/protoconv.h"
#include "sealed_file.h"
#include "server/client.h"
#include "terminal.h"

namespace giftcard::giftctl {
namespace {

namespace v1 = ::giftcard::v1;

auto Vault(const Session& s) { return v1::CodeVault::NewStub(s.Channel(Service::kCodeVault)); }
auto Credit(const Session& s) {
  return v1::AccountCredit::NewStub(s.Channel(Service::kAccountCredit));
}
auto Billing(const Session& s) { return v1::Billing::NewStub(s.Channel(Service::kBilling)); }

// A decimal amount ("25", "25.5", "25.00") in minor units of `currency`.
absl::StatusOr<int64_t> ParseAmount(const std::string& text, const std::string& currency) {
  auto exponent = money::MinorUnitExponent(currency);
  if (!exponent) {
    return absl::InvalidArgumentError("--currency must be an ISO 4217 code such as EUR");
  }
  absl::string_view whole = text, fraction;
  if (size_t dot = text.find('.'); dot != std::string::npos) {
    whole = absl::string_view(text).substr(0, dot);
    fraction = absl::string_view(text).substr(dot + 1);
  }
  if (static_cast<int>(fraction.size()) > *exponent) {
    return absl::InvalidArgumentError(
        absl::StrCat("--amount has more decimals than ", currency, " has (", *exponent, ")"));
  }
  std::string digits = absl::StrCat(whole, fraction, std::string(*exponent - fraction.size(), '0'));
  int64_t minor = 0;
  if (whole.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
      digits.size() > 17 || !absl::SimpleAtoi(digits, &minor)) {
    return absl::InvalidArgumentError("--amount wants a positive decimal such as 25.00");
  }
  return minor;
}

std::string NewRequestId(absl::string_view prefix) {
  std::random_device device;
  return absl::StrFormat("%s-%08x%08x", prefix, device(), device());
}

std::string RequestIdOr(const std::string& given, absl::string_view prefix) {
  return given.empty() ? NewRequestId(prefix) : given;
}

// The end of most commands: the failed call's report, the response as
// JSON, or the human form.
int Answer(const Session& session, const grpc::Status& status,
           const google::protobuf::Message& response, const std::function<void()>& print_human) {
  if (!status.ok()) return session.CallFailed(status);
  if (session.json()) {
    std::printf("%s\n", ToJson(response).c_str());
  } else {
    print_human();
  }
  return kExitOk;
}

template <typename Request>
void SetPage(const PageFlags& page, Request& request) {
  request.set_page_size(page.page_size);
  request.set_page_token(page.page_token);
}

// The line that fetches the next page, runnable as it stands.
void PrintMore(const std::string& command, const std::string& next_page_token) {
  if (!next_page_token.empty()) {
    std::printf("more: giftctl %s --page_token=%s\n", command.c_str(), next_page_token.c_str());
  }
}

std::string StateName(v1::CodeState state) {
  return Short(v1::CodeState_Name(state), "CODE_STATE_");
}

// A PIN typed where a serial belongs: refused here, so it is never sent.
bool AnyLooksLikeAPin(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (codes::Normalize(arg).ok()) return true;
  }
  return false;
}
constexpr char kLooksLikeAPin[] =
    "that looks like a PIN, not a serial: use --pin_stdin and type it (it stays out of shell "
    "history and logs)";

// A usage error when neither or both of --batch_id and serials are given.
std::string SelectionError(const SelectFlags& flags) {
  const bool by_batch = !flags.batch_id.empty();
  if (by_batch == !flags.serials.empty()) {
    return by_batch ? "give --batch_id or serials, not both" : "give --batch_id or serials";
  }
  return "";
}

// "activated 3 codes; 2 were ACTIVE already; 1 cannot be activated (…)".
// A change that leaves no code in the asked state is a failure (exit 1),
// not a success that did nothing.
int BulkAnswer(const Session& session, const grpc::Status& status,
               const google::protobuf::Message& response, absl::string_view verb,
               absl::string_view target_state, absl::string_view cannot_why, int64_t changed,
               int64_t unchanged, int64_t skipped) {
  if (!status.ok()) return session.CallFailed(status);
  if (session.json()) {
    std::printf("%s\n", ToJson(response).c_str());
  } else {
    std::string line = absl::StrCat(verb, " ", Count(changed, "code", "codes"));
    if (unchanged > 0) {
      // "2 were ACTIVE already", but "1 was not blocked".
      absl::StrAppend(&line, "; ", unchanged, unchanged == 1 ? " was " : " were ", target_state,
                      absl::StartsWith(target_state, "not ") ? "" : " already");
    }
    if (skipped > 0) {
      absl::StrAppend(&line, "; ", skipped, " cannot be ", verb, " (", cannot_why, ")");
    }
    std::printf("%s\n", line.c_str());
  }
  if (changed + unchanged == 0) {
    return session.Failed(absl::StrCat("no code was ", verb, " and none is ", target_state));
  }
  return kExitOk;
}

// One Health/Check; "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN" (the
// server has no such name) or the error.
std::string CheckOnce(const Session& session, const std::string& address,
                      const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(server::MakeChannel(address));
  grpc::ClientContext context;
  server::PrepareContext(context, "", absl::Seconds(2));
  grpc::health::v1::HealthCheckResponse response;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::Status status = stub->Check(&context, request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return "SERVICE_UNKNOWN";
  if (!status.ok()) {
    const std::string hint = session.HintFor(status);
    return tools::Describe(status) + (hint.empty() ? "" : " (hint: " + hint + ")");
  }
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

// Which of the suite's services answers at `address` (each registers its
// full name with health): its full name, or "".
std::string ServiceAt(const Session& session, const std::string& address) {
  for (const char* name :
       {v1::CodeVault::service_full_name(), v1::AccountCredit::service_full_name(),
        v1::Billing::service_full_name()}) {
    const std::string state = CheckOnce(session, address, name);
    if (state == "SERVING" || state == "NOT_SERVING") return name;
  }
  return "";
}

std::string ShortServiceName(const std::string& full) {
  if (full == v1::CodeVault::service_full_name()) return "code-vault";
  if (full == v1::AccountCredit::service_full_name()) return "account-credit";
  if (full == v1::Billing::service_full_name()) return "billing";
  return full;
}

}  // namespace

int CodesIssue(const Session& session, const IssueFlags& flags) {
  const std::string cmd = "codes issue";
  // Codes of currencies and countries in either case, alike: eur is EUR.
  const std::string currency = absl::AsciiStrToUpper(flags.currency);
  const std::string region = absl::AsciiStrToUpper(flags.region);
  auto amount = ParseAmount(flags.amount, currency);
  if (!amount.ok()) return session.UsageError(cmd, std::string(amount.status().message()));
  if (region.size() != 2 || !absl::ascii_isalpha(static_cast<unsigned char>(region[0])) ||
      !absl::ascii_isalpha(static_cast<unsigned char>(region[1]))) {
    return session.UsageError(cmd, "--region must be an ISO 3166 country code such as DE");
  }

  v1::IssueCodesRequest request;
  request.set_count(flags.count);
  request.mutable_amount()->set_currency_code(currency);
  request.mutable_amount()->set_amount_minor(*amount);
  request.set_region(region);
  request.set_request_id(RequestIdOr(flags.request_id, "giftctl-issue"));
  if (!flags.expire_time.empty()) {
    absl::Time expire;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, flags.expire_time, &expire, &error)) {
      return session.UsageError(cmd, "--expire_time wants RFC 3339, e.g. 2027-12-31T00:00:00Z");
    }
    protoconv::ToTimestamp(expire, request.mutable_expire_time());
  }

  // The PINs exist nowhere else. They travel to the printer encrypted to its
  // OpenPGP key, held in memory until then; plain text only when asked.
  if (flags.recipients.empty() == !flags.plaintext) {
    return session.UsageError(
        cmd, flags.plaintext
                 ? "give --recipient or --plaintext, not both"
                 : "give --recipient=<the printer's OpenPGP key fingerprint> (the file is "
                   "encrypted to it) or --plaintext (the PINs in clear; keep that file off shared "
                   "disks)");
  }
  std::optional<Recipients> recipients;
  if (!flags.recipients.empty()) {
    absl::StatusOr<Recipients> found = FindRecipients(flags.recipients);
    if (!found.ok()) return session.UsageError(cmd, std::string(found.status().message()));
    recipients = *std::move(found);
  }
  std::string sealed_plaintext;  // The CSV on its way to encryption.
  auto wipe = absl::MakeCleanup(
      [&sealed_plaintext] { ::explicit_bzero(sealed_plaintext.data(), sealed_plaintext.size()); });

  // The file is created for the owner only, and an existing file is never
  // replaced.
  const std::string& path = flags.out;
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return session.UsageError(
        cmd, absl::StrCat("--out=", path, " is a directory: give the path of a new file, e.g. ",
                          absl::StripSuffix(path, "/"), "/batch.csv"));
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return session.Failed(absl::StrCat("cannot create ", path, ": ", std::strerror(errno),
                                       errno == EEXIST ? " (refusing to overwrite it)" : ""));
  }
  ::fchmod(fd, 0600);  // Whatever the umask.
  std::FILE* csv = ::fdopen(fd, "w");
  auto emit = [&](const std::string& line) {
    if (recipients) {
      sealed_plaintext += line;
    } else {
      std::fputs(line.c_str(), csv);
    }
  };
  emit("serial,pin\n");

  auto context = session.Call(absl::Minutes(10));
  auto reader = Vault(session)->IssueCodes(context.get(), request);
  // Frames redrawn with \r only make sense on a terminal.
  const bool show_progress = (flags.count >= 1000 || flags.progress) && isatty(STDERR_FILENO);
  v1::IssuedCode code;
  std::string batch_id;
  int written = 0, shown_percent = -1;
  bool replayed = false;
  while (reader->Read(&code)) {
    batch_id = code.batch_id();
    if (code.code().empty()) {
      replayed = true;  // A replay of an earlier request: PINs are shown once only.
      continue;
    }
    emit(absl::StrCat(code.serial(), ",", code.code(), "\n"));
    ++written;
    const int percent = static_cast<int>(100LL * written / flags.count);
    if (show_progress && percent != shown_percent) {
      shown_percent = percent;
      const int bar = percent / 5;
      std::fprintf(stderr, "\rissuing [%s%s] %3d%% %d/%d", std::string(bar, '#').c_str(),
                   std::string(20 - bar, ' ').c_str(), percent, written, flags.count);
    }
  }
  if (show_progress && written > 0) std::fprintf(stderr, "\n");
  grpc::Status status = reader->Finish();
  absl::Status sealed = absl::OkStatus();
  if (recipients && written > 0) sealed = WriteSealed(*recipients, sealed_plaintext, fd);
  const bool flushed = sealed.ok() && std::fflush(csv) == 0 && ::fsync(fd) == 0;
  std::fclose(csv);
  if (written == 0) ::unlink(path.c_str());
  if (replayed) {
    return session.Failed(absl::StrCat(
        "request_id ", request.request_id(), " already issued batch ", batch_id,
        "; its PINs were shown once and are not shown again (void the batch if that file is "
        "lost)"));
  }
  if (!status.ok() || !flushed || written != flags.count) {
    const int exit_code = status.ok() ? kExitFailed : session.CallFailed(status);
    if (!flushed) {
      session.Failed(absl::StrCat("writing ", path, " failed",
                                  sealed.ok() ? "" : ": " + std::string(sealed.message())));
    }
    if (!batch_id.empty()) {
      session.Failed(absl::StrCat("only ", written, " of ", flags.count, " codes of batch ",
                                  batch_id, " reached ", path,
                                  "; void the batch (giftctl codes void --batch_id=", batch_id,
                                  " --reason=incomplete) and issue again"));
    }
    return exit_code;
  }
  if (session.json()) {
    nlohmann::ordered_json out;
    out["batch_id"] = batch_id;
    out["issued"] = written;
    out["file"] = path;
    out["encrypted_to"] = recipients ? recipients->fingerprints : std::vector<std::string>{};
    out["request_id"] = request.request_id();
    std::printf("%s\n", DumpJson(out).c_str());
  } else {
    PrintFields(
        {{"batch_id", batch_id},
         {"issued", absl::StrCat(Count(written, "code", "codes"), " of ", Money(request.amount()),
                                 ", ", request.region(), ", state ISSUED")},
         {"file", recipients ? absl::StrCat(path, " (mode 0600: serial,pin encrypted to ",
                                            absl::StrJoin(recipients->fingerprints, ", "), ")")
                             : absl::StrCat(path, " (mode 0600: serial,pin in plain text)")},
         {"request_id", request.request_id()}});
  }
  return kExitOk;
}

int CodesActivate(const Session& session, const SelectFlags& flags) {
  if (AnyLooksLikeAPin(flags.serials)) return session.UsageError("codes activate", kLooksLikeAPin);
  if (std::string e = SelectionError(flags); !e.empty()) {
    return session.UsageError("codes activate", e);
  }
  v1::ActivateCodesRequest request;
  request.set_batch_id(flags.batch_id);
  for (const std::string& serial : flags.serials) request.add_serials(serial);
  request.set_request_id(RequestIdOr(flags.request_id, "giftctl-activate"));
  v1::ActivateCodesResponse response;
  grpc::Status status = Vault(session)->ActivateCodes(session.Call().get(), request, &response);
  return BulkAnswer(session, status, response, "activated", "ACTIVE", "voided, redeemed or expired",
                    response.activated_count(), response.unchanged_count(),
                    response.skipped_count());
}

namespace {

// The selection flags' usage error for `cmd`, if any: a PIN where a serial
// goes, or not exactly one of --batch_id and serials.
std::optional<int> SelectionUsageError(const Session& session, const std::string& cmd,
                                       const SelectFlags& flags) {
  if (AnyLooksLikeAPin(flags.serials)) return session.UsageError(cmd, kLooksLikeAPin);
  if (std::string e = SelectionError(flags); !e.empty()) return session.UsageError(cmd, e);
  return std::nullopt;
}

// A void, block or unblock request of the selection and its reason.
template <typename Request>
Request ReasonedSelection(const SelectFlags& flags, const std::string& request_id_prefix) {
  Request request;
  request.set_batch_id(flags.batch_id);
  for (const std::string& serial : flags.serials) request.add_serials(serial);
  request.set_reason(flags.reason);
  request.set_request_id(RequestIdOr(flags.request_id, request_id_prefix));
  return request;
}

}  // namespace

int CodesVoid(const Session& session, const SelectFlags& flags) {
  if (auto usage = SelectionUsageError(session, "codes void", flags)) return *usage;
  auto request = ReasonedSelection<v1::VoidCodesRequest>(flags, "giftctl-void");
  v1::VoidCodesResponse response;
  grpc::Status status = Vault(session)->VoidCodes(session.Call().get(), request, &response);
  return BulkAnswer(session, status, response, "voided", "VOIDED", "redeeming or redeemed",
                    response.voided_count(), response.unchanged_count(), response.skipped_count());
}

int CodesBlock(const Session& session, const SelectFlags& flags) {
  if (auto usage = SelectionUsageError(session, "codes block", flags)) return *usage;
  auto request = ReasonedSelection<v1::BlockCodesRequest>(flags, "giftctl-block");
  v1::BlockCodesResponse response;
  grpc::Status status = Vault(session)->BlockCodes(session.Call().get(), request, &response);
  return BulkAnswer(session, status, response, "blocked", "BLOCKED",
                    "voided, expired, redeeming or redeemed", response.blocked_count(),
                    response.unchanged_count(), response.skipped_count());
}

int CodesUnblock(const Session& session, const SelectFlags& flags) {
  if (auto usage = SelectionUsageError(session, "codes unblock", flags)) return *usage;
  auto request = ReasonedSelection<v1::UnblockCodesRequest>(flags, "giftctl-unblock");
  v1::UnblockCodesResponse response;
  grpc::Status status = Vault(session)->UnblockCodes(session.Call().get(), request, &response);
  return BulkAnswer(session, status, response, "unblocked", "not blocked", "",
                    response.unblocked_count(), response.unchanged_count(), 0);
}

namespace {

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

}  // namespace

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
  return Answer(session, status, clawback, [&] {
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
  });
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
  return Answer(session, status, code, [&] {
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
  });
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

int CodesHistory(const Session& session, const OneIdFlags& flags) {
  if (AnyLooksLikeAPin({flags.id})) return session.UsageError("codes history", kLooksLikeAPin);
  v1::ListCodeChangesRequest request;
  request.set_serial(flags.id);
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
    PrintMore(absl::StrCat("codes history ", flags.id), response.next_page_token());
  });
}

int BatchesList(const Session& session, const PageFlags& flags) {
  v1::ListBatchesRequest request;
  SetPage(flags, request);
  v1::ListBatchesResponse response;
  grpc::Status status = Vault(session)->ListBatches(session.Call().get(), request, &response);
  return Answer(session, status, response, [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& b : response.batches()) {
      rows.push_back({b.batch_id(), absl::StrCat(b.code_count()), Money(b.amount()), b.region(),
                      Time(b.create_time()), Time(b.expire_time()), b.request_id()});
    }
    PrintTable({"BATCH_ID", "CODES", "AMOUNT", "REGION", "CREATED", "EXPIRES", "REQUEST_ID"}, rows);
    PrintMore("batches list", response.next_page_token());
  });
}

int AccountShow(const Session& session, const OneIdFlags& flags) {
  v1::GetAccountRequest request;
  request.set_account_id(flags.id);
  v1::Account account;
  grpc::Status status = Credit(session)->GetAccount(session.Call().get(), request, &account);
  return Answer(session, status, account, [&] {
    PrintFields({{"account_id", account.account_id()},
                 {"state", Short(v1::AccountState_Name(account.state()), "ACCOUNT_STATE_")},
                 {"country", account.country()},
                 {"currency_code", account.currency_code()},
                 {"billing_channel",
                  Short(v1::BillingChannel_Name(account.billing_channel()), "BILLING_CHANNEL_")},
                 {"balance", Money(account.balance())},
                 {"owed", Money(account.owed())},
                 {"create_time", Time(account.create_time())},
                 {"update_time", Time(account.update_time())}});
  });
}

namespace {

// RFC 3339, or a date meaning its UTC midnight.
bool ParseStatementTime(const std::string& text, google::protobuf::Timestamp* out) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error) &&
      !absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &error)) {
    return false;
  }
  protoconv::ToTimestamp(t, out);
  return true;
}

std::string EntryKindName(v1::LedgerEntryKind kind) {
  return Short(v1::LedgerEntryKind_Name(kind), "LEDGER_ENTRY_KIND_");
}

// A CSV field: quoted when it holds a comma, a quote or a line break.
std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\"\""}}), "\"");
}

}  // namespace

int AccountLedger(const Session& session, const OneIdFlags& flags) {
  v1::ListLedgerEntriesRequest request;
  request.set_account_id(flags.id);
  SetPage(flags.page, request);
  v1::ListLedgerEntriesResponse response;
  grpc::Status status =
      Credit(session)->ListLedgerEntries(session.Call().get(), request, &response);
  return Answer(session, status, response, [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : response.entries()) {
      rows.push_back({absl::StrCat(e.entry_id()), Time(e.create_time()), EntryKindName(e.kind()),
                      Or(e.reference()), Money(e.amount()), Money(e.balance_after()),
                      e.transfer_id()});
    }
    PrintTable({"ENTRY", "TIME", "KIND", "REFERENCE", "AMOUNT", "BALANCE", "TRANSFER"}, rows);
    PrintMore("account ledger " + flags.id, response.next_page_token());
  });
}

int AccountStatement(const Session& session, const StatementFlags& flags) {
  const std::string cmd = "account statement";
  v1::ListLedgerEntriesRequest request;
  request.set_account_id(flags.account_id);
  request.set_page_size(1000);
  if (!flags.from.empty() && !ParseStatementTime(flags.from, request.mutable_start_time())) {
    return session.UsageError(cmd, "--from wants RFC 3339 or YYYY-MM-DD, e.g. 2026-11-01");
  }
  if (!flags.to.empty() && !ParseStatementTime(flags.to, request.mutable_end_time())) {
    return session.UsageError(cmd, "--to wants RFC 3339 or YYYY-MM-DD, e.g. 2026-12-01");
  }
  // Said in the flags' names, before the service would say it in its fields'.
  if (request.has_start_time() && request.has_end_time() &&
      google::protobuf::util::TimeUtil::TimestampToNanoseconds(request.end_time()) <=
          google::protobuf::util::TimeUtil::TimestampToNanoseconds(request.start_time())) {
    return session.UsageError(cmd, "--to must be after --from");
  }
  // Every page of the range (newest first), then printed oldest first as a
  // statement reads. Paging by entry id stays stable while entries arrive.
  v1::ListLedgerEntriesResponse all;
  while (true) {
    v1::ListLedgerEntriesResponse page;
    grpc::Status status = Credit(session)->ListLedgerEntries(session.Call().get(), request, &page);
    if (!status.ok()) return session.CallFailed(status);
    for (const auto& e : page.entries()) *all.add_entries() = e;
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  std::reverse(all.mutable_entries()->begin(), all.mutable_entries()->end());
  if (session.json()) {
    std::printf("%s\n", ToJson(all).c_str());
    return kExitOk;
  }
  if (flags.csv) {
    std::printf("entry_id,time,kind,reference,currency,amount_minor,balance_after_minor\n");
    for (const auto& e : all.entries()) {
      std::printf(
          "%s\n",
          absl::StrJoin({absl::StrCat(e.entry_id()), Time(e.create_time()), EntryKindName(e.kind()),
                         CsvField(e.reference()), e.amount().currency_code(),
                         absl::StrCat(e.amount().amount_minor()),
                         e.has_balance_after() ? absl::StrCat(e.balance_after().amount_minor())
                                               : std::string()},
                        ",")
              .c_str());
    }
    return kExitOk;
  }
  // The balance the range opens with: after the last entry before it (0
  // before the account's first), so even an empty range says where it stands.
  v1::Money opening;
  {
    v1::ListLedgerEntriesRequest before;
    before.set_account_id(flags.account_id);
    before.set_page_size(1);
    if (request.has_start_time()) {
      *before.mutable_end_time() = request.start_time();
      v1::ListLedgerEntriesResponse last;
      grpc::Status status = Credit(session)->ListLedgerEntries(session.Call().get(), before, &last);
      if (!status.ok()) return session.CallFailed(status);
      if (last.entries_size() > 0) opening = last.entries(0).balance_after();
    }
    if (opening.currency_code().empty()) {
      v1::GetAccountRequest get;
      get.set_account_id(flags.account_id);
      v1::Account account;
      grpc::Status status = Credit(session)->GetAccount(session.Call().get(), get, &account);
      if (!status.ok()) return session.CallFailed(status);
      opening.set_currency_code(account.currency_code());
    }
  }
  v1::Money closing = opening;
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : all.entries()) {
    rows.push_back({Time(e.create_time()), EntryKindName(e.kind()), Or(e.reference()),
                    Money(e.amount()), Money(e.balance_after()), absl::StrCat(e.entry_id())});
    if (e.has_balance_after()) closing = e.balance_after();
  }
  std::printf("opening balance %s%s\n", Money(opening).c_str(),
              flags.from.empty() ? " (the account's start)" : (" at " + flags.from).c_str());
  if (!rows.empty()) PrintTable({"TIME", "KIND", "REFERENCE", "AMOUNT", "BALANCE", "ENTRY"}, rows);
  std::printf("closing balance %s%s, %s in the range\n", Money(closing).c_str(),
              flags.to.empty() ? " (now)" : (" at " + flags.to).c_str(),
              Count(all.entries_size(), "entry", "entries").c_str());
  return kExitOk;
}

int InvoiceShow(const Session& session, const OneIdFlags& flags) {
  v1::GetCreditApplicationRequest request;
  request.set_invoice_id(flags.id);
  v1::CreditApplication app;
  grpc::Status status = Billing(session)->GetCreditApplication(session.Call().get(), request, &app);
  return Answer(session, status, app, [&] {
    PrintFields({{"invoice_id", app.invoice_id()},
                 {"account_id", app.account_id()},
                 {"state",
                  Short(v1::CreditApplicationState_Name(app.state()), "CREDIT_APPLICATION_STATE_")},
                 {"amount_due", Money(app.amount_due())},
                 {"applied", Money(app.applied())},
                 {"amount_to_charge", Money(app.amount_to_charge())},
                 {"remaining_credit", Money(app.remaining_credit())},
                 {"next_invoice_covered", app.next_invoice_covered() ? "yes" : "no"},
                 {"create_time", Time(app.create_time())},
                 {"update_time", Time(app.update_time())}});
  });
}

// The audit's outcome for Prometheus, in the text format node_exporter's
// textfile collector reads (deploy/observability: GiftcardAuditViolations,
// GiftcardAuditNotRunning). Written to a temporary file and renamed over
// the old one, so a scrape never reads half of it.
absl::Status WriteAuditMetrics(const std::string& path, size_t violations) {
  const std::string text = absl::StrCat(
      "# HELP giftcard_audit_violations Violations of the books' invariants the last completed "
      "audit found.\n# TYPE giftcard_audit_violations gauge\ngiftcard_audit_violations ",
      violations,
      "\n# HELP giftcard_audit_completed_timestamp_seconds Unix time the last audit completed."
      "\n# TYPE giftcard_audit_completed_timestamp_seconds gauge\n"
      "giftcard_audit_completed_timestamp_seconds ",
      absl::ToUnixSeconds(absl::Now()), "\n");
  const std::string temporary = absl::StrCat(path, ".tmp.", getpid());
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("--metrics_file: cannot write ", temporary, ": ", std::strerror(errno)));
  }
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const int write_errno = errno;
  close(fd);
  if (!written || rename(temporary.c_str(), path.c_str()) != 0) {
    const int e = written ? errno : write_errno;
    unlink(temporary.c_str());
    return absl::FailedPreconditionError(
        absl::StrCat("--metrics_file: cannot write ", path, ": ", std::strerror(e)));
  }
  return absl::OkStatus();
}

int Audit(const Session& session, const AuditFlags& flags) {
  auto vault_stub = Vault(session);
  auto billing_stub = Billing(session);
  auto ledger_stub = Credit(session);
  absl::StatusOr<audit::AllFacts> facts =
      audit::ReadOverRpc({vault_stub.get(), billing_stub.get(), ledger_stub.get(),
                          [&session] { return session.Call(absl::Minutes(5)); }, flags.chunk_size});
  if (!facts.ok()) return session.CallFailed(errors::ToGrpcStatus(facts.status()));
  const audit::VaultFacts& vault = facts->vault;
  const audit::BillingFacts& billing = facts->billing;
  const audit::LedgerFacts& ledger = facts->ledger;
  const std::vector<audit::Violation> violations = audit::Check(vault, billing, ledger);
  if (session.json()) {
    nlohmann::ordered_json out;
    out["clean"] = violations.empty();
    out["redemptions"] = vault.redemptions.size();
    out["redeemed_codes"] = vault.redeemed_codes.size();
    out["applications"] = billing.applications.size();
    out["accounts"] = ledger.balances.size();
    out["transfers"] = ledger.transfers.size();
    out["violations"] = nlohmann::ordered_json::array();
    for (const auto& v : violations) {
      out["violations"].push_back({{"invariant", v.invariant}, {"detail", v.detail}});
    }
    std::printf("%s\n", DumpJson(out).c_str());
  } else {
    std::printf(
        "checked %zu redemptions, %zu redeemed codes, %zu credit applications, %zu "
        "accounts, %zu transfers\n",
        vault.redemptions.size(), vault.redeemed_codes.size(), billing.applications.size(),
        ledger.balances.size(), ledger.transfers.size());
    std::printf("%s", audit::Format(violations).c_str());
    std::printf(violations.empty() ? "audit: clean\n" : "audit: %zu violations\n",
                violations.size());
  }
  if (!flags.metrics_file.empty()) {
    if (absl::Status s = WriteAuditMetrics(flags.metrics_file, violations.size()); !s.ok()) {
      return session.Failed(std::string(s.message()));
    }
  }
  return violations.empty() ? kExitOk : kExitFailed;
}

int Health(const Session& session, const HealthFlags& flags) {
  absl::Duration wait = absl::ZeroDuration();
  if (!flags.wait.empty() && !absl::ParseDuration(flags.wait, &wait)) {
    return session.UsageError("health", "--wait wants a duration such as 30s");
  }
  const absl::Time deadline = absl::Now() + wait;
  int exit_code = kExitOk;
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for (const std::string& address : flags.addresses) {
    std::string state = CheckOnce(session, address, flags.service);
    while (state != "SERVING" && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(100));
      state = CheckOnce(session, address, flags.service);
    }
    const bool reachable = state == "SERVING" || state == "NOT_SERVING";
    const std::string service = reachable ? ServiceAt(session, address) : "";
    if (session.json()) {
      json[address] = {{"status", state}, {"service", service}};
    } else {
      std::printf(
          "%s: %s%s\n", address.c_str(), state.c_str(),
          service.empty() ? "" : absl::StrCat(" (", ShortServiceName(service), ")").c_str());
    }
    if (state != "SERVING") exit_code = kExitFailed;
  }
  if (session.json()) std::printf("%s\n", DumpJson(json).c_str());
  return exit_code;
}

namespace {

// A report's rows as a table (money formatted) or as CSV (minor units).
struct ReportTable {
  std::vector<std::string> header, csv_header;
  std::vector<std::vector<std::string>> rows, csv_rows;
};

int PrintReport(const ReportTable& t, bool csv) {
  if (csv) {
    std::printf("%s\n", absl::StrJoin(t.csv_header, ",").c_str());
    for (const auto& row : t.csv_rows) {
      std::vector<std::string> fields;
      for (const std::string& f : row) fields.push_back(CsvField(f));
      std::printf("%s\n", absl::StrJoin(fields, ",").c_str());
    }
  } else {
    PrintTable(t.header, t.rows);
  }
  return kExitOk;
}

}  // namespace

int ReportLiability(const Session& session, const ReportFlags& flags) {
  v1::CreditLiability credit;
  grpc::Status status = Credit(session)->GetCreditLiability(
      session.Call().get(), v1::GetCreditLiabilityRequest(), &credit);
  if (!status.ok()) return session.CallFailed(status);
  v1::CodeLiability codes;
  status =
      Vault(session)->GetCodeLiability(session.Call().get(), v1::GetCodeLiabilityRequest(), &codes);
  if (!status.ok()) return session.CallFailed(status);
  // Per currency: the credit accounts hold plus the codes sold and not yet
  // redeemed (held ones included); REDEEMING codes are shown, not added:
  // their credit may already be on an account.
  struct Line {
    v1::CreditLiability::Currency credit;
    v1::CodeLiability::Currency codes;
  };
  std::map<std::string, Line> lines;
  for (const auto& c : credit.currencies()) lines[c.currency_code()].credit = c;
  for (const auto& c : codes.currencies()) lines[c.currency_code()].codes = c;
  auto minor = [](const v1::Money& m) { return m.amount_minor(); };
  if (session.json()) {
    nlohmann::ordered_json out;
    out["credit"] = nlohmann::ordered_json::parse(ToJson(credit));
    out["codes"] = nlohmann::ordered_json::parse(ToJson(codes));
    out["total"] = nlohmann::ordered_json::array();
    for (const auto& [cur, l] : lines) {
      out["total"].push_back(
          {{"currency_code", cur},
           {"amount_minor", absl::StrCat(minor(l.credit.balance()) + minor(l.codes.active_value()) +
                                         minor(l.codes.held_value()))}});
    }
    std::printf("%s\n", DumpJson(out).c_str());
    return kExitOk;
  }
  // The table: counts first, then the amounts, TOTAL last and the sum of
  // the amounts before it; codes in flight are a line of their own below.
  ReportTable t;
  t.header = {"CURRENCY",      "ACCOUNTS",      "ACTIVE_CODES", "HELD_CODES",
              "CREDIT_AMOUNT", "ACTIVE_AMOUNT", "HELD_AMOUNT",  "TOTAL"};
  t.csv_header = {"currency",           "account_credit_minor", "accounts",
                  "active_codes_minor", "active_codes",         "held_codes_minor",
                  "held_codes",         "total_minor",          "redeeming_minor"};
  std::vector<std::string> in_flight;
  for (const auto& [cur, l] : lines) {
    const int64_t total =
        minor(l.credit.balance()) + minor(l.codes.active_value()) + minor(l.codes.held_value());
    auto money = [&cur](int64_t m) { return money::ToString({cur, m}); };
    t.rows.push_back({cur, absl::StrCat(l.credit.accounts_with_credit()),
                      absl::StrCat(l.codes.active_count()), absl::StrCat(l.codes.held_count()),
                      money(minor(l.credit.balance())), money(minor(l.codes.active_value())),
                      money(minor(l.codes.held_value())), money(total)});
    if (l.codes.redeeming_count() > 0) {
      in_flight.push_back(absl::StrCat("in flight, not in TOTAL: ", l.codes.redeeming_count(), " ",
                                       l.codes.redeeming_count() == 1 ? "code" : "codes",
                                       " REDEEMING, ", money(minor(l.codes.redeeming_value())),
                                       " (their credit may already be on an account)"));
    }
    t.csv_rows.push_back(
        {cur, absl::StrCat(minor(l.credit.balance())),
         absl::StrCat(l.credit.accounts_with_credit()), absl::StrCat(minor(l.codes.active_value())),
         absl::StrCat(l.codes.active_count()), absl::StrCat(minor(l.codes.held_value())),
         absl::StrCat(l.codes.held_count()), absl::StrCat(total),
         absl::StrCat(minor(l.codes.redeeming_value()))});
  }
  PrintReport(t, flags.csv);
  if (!flags.csv) {
    for (const std::string& line : in_flight) std::printf("%s\n", line.c_str());
  }
  return kExitOk;
}

int ReportBreakage(const Session& session, const ReportFlags& flags) {
  v1::BreakageReport report;
  grpc::Status status = Vault(session)->GetBreakageReport(session.Call().get(),
                                                          v1::GetBreakageReportRequest(), &report);
  if (!status.ok()) return session.CallFailed(status);
  if (session.json()) {
    std::printf("%s\n", ToJson(report).c_str());
    return kExitOk;
  }
  ReportTable t;
  t.header = {"MONTH", "BATCH_ID", "KIND", "CODES", "VALUE"};
  t.csv_header = {"month", "batch_id", "kind", "codes", "currency", "value_minor"};
  for (const auto& r : report.rows()) {
    const std::string kind = Short(v1::BreakageKind_Name(r.kind()), "BREAKAGE_KIND_");
    t.rows.push_back(
        {r.month(), r.batch_id(), kind, absl::StrCat(r.code_count()), Money(r.value())});
    t.csv_rows.push_back({r.month(), r.batch_id(), kind, absl::StrCat(r.code_count()),
                          r.value().currency_code(), absl::StrCat(r.value().amount_minor())});
  }
  return PrintReport(t, flags.csv);
}

int ReportDormant(const Session& session, const ReportFlags& flags) {
  if (flags.days < 1) return session.UsageError("report dormant", "--days is at least 1");
  v1::ListDormantAccountsRequest request;
  request.set_days(flags.days);
  request.set_page_size(1000);
  v1::ListDormantAccountsResponse all;
  while (true) {
    v1::ListDormantAccountsResponse page;
    grpc::Status status =
        Credit(session)->ListDormantAccounts(session.Call().get(), request, &page);
    if (!status.ok()) return session.CallFailed(status);
    for (const auto& a : page.accounts()) *all.add_accounts() = a;
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (session.json()) {
    std::printf("%s\n", ToJson(all).c_str());
    return kExitOk;
  }
  ReportTable t;
  t.header = {"ACCOUNT_ID", "COUNTRY", "BALANCE", "LAST_ENTRY"};
  t.csv_header = {"account_id", "country", "currency", "balance_minor", "last_entry_time"};
  for (const auto& a : all.accounts()) {
    t.rows.push_back({a.account_id(), a.country(), Money(a.balance()), Time(a.last_entry_time())});
    t.csv_rows.push_back({a.account_id(), a.country(), a.balance().currency_code(),
                          absl::StrCat(a.balance().amount_minor()), Time(a.last_entry_time())});
  }
  return PrintReport(t, flags.csv);
}

namespace {

// "17 2026-12-04T12:00:00Z code.redeemed serial=GC… account=… amount=25.00 EUR":
// the fields an event carries, those it leaves empty left out.
std::string EventLine(const v1::Event& e) {
  std::string out = absl::StrCat(e.event_id(), " ", Time(e.event_time()), " ", e.type());
  for (const auto& [key, value] : std::vector<std::pair<const char*, std::string>>{
           {"serial", e.serial()},
           {"batch", e.batch_id()},
           {"account", e.account_id()},
           {"amount", e.has_amount() ? Money(e.amount()) : ""},
           {"balance", e.has_balance() ? Money(e.balance()) : ""},
           {"invoice", e.invoice_id()},
           {"redemption", e.redemption_id()},
           {"transfer", e.transfer_id()},
           {"request", e.request_id()}}) {
    if (!value.empty()) absl::StrAppend(&out, " ", key, "=", value);
  }
  return out;
}

std::optional<Service> ServiceNamed(const std::string& name) {
  if (name == "code-vault") return Service::kCodeVault;
  if (name == "account-credit") return Service::kAccountCredit;
  if (name == "billing") return Service::kBilling;
  return std::nullopt;
}

// One WatchEvents stream of the chosen service.
std::unique_ptr<grpc::ClientReader<v1::Event>> OpenWatch(const Session& session, Service service,
                                                         grpc::ClientContext* context,
                                                         const v1::WatchEventsRequest& request) {
  switch (service) {
    case Service::kCodeVault:
      return Vault(session)->WatchEvents(context, request);
    case Service::kAccountCredit:
      return Credit(session)->WatchEvents(context, request);
    case Service::kBilling:
      break;
  }
  return Billing(session)->WatchEvents(context, request);
}

}  // namespace

int Events(const Session& session, const EventsFlags& flags) {
  const std::string cmd = flags.follow ? "events follow" : "events list";
  const std::optional<Service> service = ServiceNamed(flags.service);
  if (!service) {
    return session.UsageError(cmd, "--service is code-vault, account-credit or billing");
  }
  if (AnyLooksLikeAPin({flags.serial, flags.account_id})) {
    return session.UsageError(cmd, kLooksLikeAPin);
  }
  v1::WatchEventsRequest request;
  request.set_after_event_id(flags.after);
  request.set_stream_epoch(flags.stream_epoch);
  for (const auto& t : flags.types) request.add_types(t);
  request.set_serial(flags.serial);
  request.set_account_id(flags.account_id);
  request.set_stop_when_caught_up(!flags.follow);
  nlohmann::ordered_json listed = nlohmann::ordered_json::array();
  int printed = 0;
  absl::Duration backoff = absl::Milliseconds(200);
  if (flags.follow) {
    // Said once, on stderr (stdout stays the events): a follower prints
    // nothing until an event comes, which reads as hanging otherwise.
    std::fprintf(stderr,
                 "giftctl: following %s's events after id %lld%s; each is printed as it "
                 "comes (Ctrl-C stops)\n",
                 flags.service.c_str(), static_cast<long long>(flags.after),
                 flags.after == 0 ? " (from the oldest kept)" : "");
  }
  while (true) {
    // A follower reconnects for as long as it runs; each stream lasts a day.
    auto context = session.Call(flags.follow ? absl::Hours(24) : absl::Minutes(1));
    auto reader = OpenWatch(session, *service, context.get(), request);
    v1::Event e;
    while (reader->Read(&e)) {
      backoff = absl::Milliseconds(200);
      request.set_after_event_id(e.event_id());  // Resume after it, in its stream.
      request.set_stream_epoch(e.stream_epoch());
      if (session.json() && !flags.follow) {
        listed.push_back(nlohmann::ordered_json::parse(ToJson(e)));
      } else {
        std::printf("%s\n", session.json() ? ToJson(e).c_str() : EventLine(e).c_str());
        std::fflush(stdout);
      }
      if (flags.count > 0 && ++printed == flags.count) {
        context->TryCancel();
        reader->Finish();
        return kExitOk;
      }
    }
    const grpc::Status status = reader->Finish();
    if (const absl::Status pruned = errors::FromGrpcStatus(status);
        errors::ReasonOf(pruned) == errors::reason::kEventsPruned) {
      // Said in plain words: what is lost, and where reading can go on.
      int64_t oldest = 0;
      (void)absl::SimpleAtoi(errors::MetadataOf(pruned, "oldest_event_id").value_or(""), &oldest);
      return session.Failed(absl::StrCat(
          "events after ", request.after_event_id(),
          " are gone: the service prunes events older than its --event_retention, and the "
          "oldest it still keeps is ",
          oldest, "; the ones between were never read here. To read on from what is kept: giftctl ",
          cmd, " --service=", flags.service, " --after=", std::max<int64_t>(oldest - 1, 0)));
    }
    if (const absl::Status restored = errors::FromGrpcStatus(status);
        errors::ReasonOf(restored) == errors::reason::kEventStreamRestored) {
      const std::string last = errors::MetadataOf(restored, "last_event_id").value_or("0");
      return session.Failed(absl::StrCat(
          "the service's database was restored to an earlier point: events read here after id ",
          last,
          " did not survive it (new events reuse their ids). To read on in the restored "
          "stream: giftctl ",
          cmd, " --service=", flags.service, " --after=", last,
          " --stream_epoch=", errors::MetadataOf(restored, "stream_epoch").value_or("")));
    }
    if (!flags.follow) {
      if (!status.ok()) return session.CallFailed(status);
      if (session.json()) std::printf("%s\n", DumpJson(listed).c_str());
      return kExitOk;
    }
    // A follower outlives restarts and failovers: it resumes after the last
    // event it printed. What a retry cannot mend ends it.
    const grpc::StatusCode code = status.error_code();
    if (code != grpc::StatusCode::UNAVAILABLE && code != grpc::StatusCode::DEADLINE_EXCEEDED &&
        code != grpc::StatusCode::RESOURCE_EXHAUSTED) {
      return session.CallFailed(status);
    }
    std::fprintf(stderr, "giftctl: %s; resuming after event %lld\n", status.error_message().c_str(),
                 static_cast<long long>(request.after_event_id()));
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

}  // namespace giftcard::giftctl

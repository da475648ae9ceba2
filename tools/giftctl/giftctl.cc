// giftctl: the admin and support CLI. It talks only to the services' gRPC
// APIs, never to their databases. 'giftctl --help' lists the commands.
//
// Output: human tables on stdout by default, one JSON document with --json.
// Failures: one line on stderr, "giftctl: CODE REASON: message", exit 1.
// Usage errors, and INVALID_ARGUMENT from a service, exit 2. The caller's token comes from
// --token_file, GIFTCTL_TOKEN_FILE or GIFTCTL_TOKEN (in that order); addresses from flags or the
// local stack's env file (CODE_VAULT_ADDR, ACCOUNT_CREDIT_ADDR, BILLING_ADDR).
#include <fcntl.h>
#include <google/protobuf/util/json_util.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "audit/audit.h"
#include "audit/wire.h"
#include "cli.h"
#include "codes/codes.h"
#include "common/tool_common.h"
#include "config/files.h"
#include "giftcard/v1/account_credit.grpc.pb.h"
#include "giftcard/v1/billing.grpc.pb.h"
#include "giftcard/v1/code_vault.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "log/log.h"
#include "money/money.h"
#include "protoconv/protoconv.h"
#include "server/client.h"

namespace giftcard::giftctl {
namespace {

namespace v1 = ::giftcard::v1;

// ---- Plumbing shared by the commands ----------------------------------------

int UsageError(const std::string& command, const std::string& message) {
  std::fprintf(stderr, "giftctl %s: %s (try 'giftctl %s --help')\n", command.c_str(),
               message.c_str(), command.c_str());
  return kExitUsage;
}

// A refused call exits 1, except a bad argument: the server's
// INVALID_ARGUMENT is the same kind of mistake as a usage error, and exits 2.
int CallFailed(const grpc::Status& status) {
  std::fprintf(stderr, "giftctl: %s\n", tools::Describe(status).c_str());
  return status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? kExitUsage : kExitFailed;
}

// "1 code", "2 codes".
std::string Codes(int64_t n) { return absl::StrCat(n, n == 1 ? " code" : " codes"); }

// The caller's token: --token_file, else $GIFTCTL_TOKEN_FILE, else $GIFTCTL_TOKEN.
// Empty when none is given (the service then answers UNAUTHENTICATED).
std::string Token(const Invocation& in) {
  std::string file = in.Get("token_file");
  if (file.empty() && std::getenv("GIFTCTL_TOKEN_FILE") != nullptr) {
    file = std::getenv("GIFTCTL_TOKEN_FILE");
  }
  if (!file.empty()) {
    std::optional<std::string> token = config::ReadFile(file);
    if (!token) {
      std::fprintf(stderr, "giftctl: cannot read token file %s\n", file.c_str());
      std::exit(kExitUsage);
    }
    return std::string(absl::StripAsciiWhitespace(*token));
  }
  const char* token = std::getenv("GIFTCTL_TOKEN");
  return token == nullptr ? "" : token;
}

std::string Address(const Invocation& in, const std::string& flag, const char* env) {
  std::string address = in.Get(flag);
  if (address.empty() && std::getenv(env) != nullptr) address = std::getenv(env);
  if (address.empty()) {
    std::fprintf(stderr,
                 "giftctl: no address for %s: pass --%s or set %s (deploy/local/stack.sh's env "
                 "file sets it)\n",
                 flag.c_str(), flag.c_str(), env);
    std::exit(kExitUsage);
  }
  return address;
}

absl::Duration Timeout(const Invocation& in, absl::Duration fallback) {
  absl::Duration timeout = fallback;
  if (in.Has("timeout") && !absl::ParseDuration(in.Get("timeout"), &timeout)) {
    std::fprintf(stderr, "giftctl: --timeout wants a duration such as 10s\n");
    std::exit(kExitUsage);
  }
  return timeout;
}

std::unique_ptr<grpc::ClientContext> Call(const Invocation& in,
                                          absl::Duration fallback = absl::Seconds(10)) {
  auto context = std::make_unique<grpc::ClientContext>();
  server::PrepareContext(*context, Token(in), Timeout(in, fallback));
  return context;
}

auto Vault(const Invocation& in) {
  return v1::CodeVault::NewStub(server::MakeChannel(Address(in, "code_vault", "CODE_VAULT_ADDR")));
}
auto Credit(const Invocation& in) {
  return v1::AccountCredit::NewStub(
      server::MakeChannel(Address(in, "account_credit", "ACCOUNT_CREDIT_ADDR")));
}
auto Billing(const Invocation& in) {
  return v1::Billing::NewStub(server::MakeChannel(Address(in, "billing", "BILLING_ADDR")));
}

bool Json(const Invocation& in) { return in.Has("json"); }

// One JSON document; text that is not UTF-8 is replaced, never passed on.
std::string DumpJson(const nlohmann::ordered_json& json) {
  return json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// A message as JSON with the proto field names (snake_case), every field shown.
std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

std::string Money(const v1::Money& m) {
  if (m.currency_code().empty()) return "-";
  return money::ToString(protoconv::FromProto(m));
}

std::string Time(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", protoconv::FromTimestamp(t), absl::UTCTimeZone());
}

std::string Or(const std::string& s) { return s.empty() ? "-" : s; }

// "key   value" lines for one object.
void PrintFields(const std::vector<std::pair<std::string, std::string>>& fields) {
  size_t width = 0;
  for (const auto& [k, v] : fields) width = std::max(width, k.size());
  for (const auto& [k, v] : fields)
    std::printf("%-*s  %s\n", static_cast<int>(width), k.c_str(), v.c_str());
}

// A table with a header row; columns as wide as their widest cell.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < width.size(); ++i)
      width[i] = std::max(width[i], row[i].size());
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      absl::StrAppend(&line, i == 0 ? "" : "  ", row[i],
                      i + 1 == row.size() ? "" : std::string(width[i] - row[i].size(), ' '));
    }
    std::printf("%s\n", line.c_str());
  };
  print_row(header);
  for (const auto& row : rows) print_row(row);
}

// A decimal amount ("25", "25.5", "25.00") in minor units of `currency`.
absl::StatusOr<int64_t> ParseAmount(const std::string& text, const std::string& currency) {
  auto exponent = money::MinorUnitExponent(currency);
  if (!exponent) return absl::InvalidArgumentError("--currency is not an ISO-4217 code");
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

// The end of every command but issue and audit: the failed call's line, the
// response as JSON, or the human form.
int Answer(const Invocation& in, const grpc::Status& status,
           const google::protobuf::Message& response, const std::function<void()>& print_human) {
  if (!status.ok()) return CallFailed(status);
  if (Json(in)) {
    std::printf("%s\n", ToJson(response).c_str());
  } else {
    print_human();
  }
  return kExitOk;
}

// --page_size and --page_token into a list request; false on a bad size.
template <typename Request>
bool SetPage(const Invocation& in, Request& request) {
  int page_size = 0;
  if (in.Has("page_size") && !absl::SimpleAtoi(in.Get("page_size"), &page_size)) return false;
  request.set_page_size(page_size);
  request.set_page_token(in.Get("page_token"));
  return true;
}

void PrintMore(const std::string& next_page_token) {
  if (!next_page_token.empty()) std::printf("more: --page_token=%s\n", next_page_token.c_str());
}

// ---- codes -----------------------------------------------------------------

// Tables show an enum value without its enum's prefix (ACTIVE, not
// CODE_STATE_ACTIVE); --json keeps the full proto names.
std::string Short(const std::string& name, absl::string_view prefix) {
  absl::string_view out = name;
  absl::ConsumePrefix(&out, prefix);
  return std::string(out);
}

std::string StateName(v1::CodeState state) {
  return Short(v1::CodeState_Name(state), "CODE_STATE_");
}

int CodesIssue(const Invocation& in) {
  const std::string cmd = "codes issue";
  for (const char* required : {"count", "amount", "currency", "region", "out"}) {
    if (!in.Has(required)) return UsageError(cmd, absl::StrCat("--", required, " is required"));
  }
  int count = 0;
  if (!absl::SimpleAtoi(in.Get("count"), &count)) return UsageError(cmd, "--count wants a number");
  auto amount = ParseAmount(in.Get("amount"), in.Get("currency"));
  if (!amount.ok()) return UsageError(cmd, std::string(amount.status().message()));

  v1::IssueCodesRequest request;
  request.set_count(count);
  request.mutable_amount()->set_currency_code(in.Get("currency"));
  request.mutable_amount()->set_amount_minor(*amount);
  request.set_region(in.Get("region"));
  request.set_request_id(in.Get("request_id", NewRequestId("giftctl-issue")));
  if (in.Has("expire_time")) {
    absl::Time expire;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, in.Get("expire_time"), &expire, &error)) {
      return UsageError(cmd, "--expire_time wants RFC 3339, e.g. 2027-12-31T00:00:00Z");
    }
    protoconv::ToTimestamp(expire, request.mutable_expire_time());
  }

  // The PINs exist nowhere else: the file is created for the owner only, and
  // an existing file is never replaced.
  const std::string path = in.Get("out");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::fprintf(stderr, "giftctl: cannot create %s: %s%s\n", path.c_str(), std::strerror(errno),
                 errno == EEXIST ? " (refusing to overwrite it)" : "");
    return kExitFailed;
  }
  ::fchmod(fd, 0600);  // Whatever the umask.
  std::FILE* csv = ::fdopen(fd, "w");
  std::fprintf(csv, "serial,pin\n");

  auto context = Call(in, absl::Minutes(10));
  auto reader = Vault(in)->IssueCodes(context.get(), request);
  // Frames redrawn with \r only make sense on a terminal.
  const bool show_progress = (count >= 1000 || in.Has("progress")) && isatty(STDERR_FILENO);
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
    std::fprintf(csv, "%s,%s\n", code.serial().c_str(), code.code().c_str());
    ++written;
    const int percent = static_cast<int>(100LL * written / count);
    if (show_progress && percent != shown_percent) {
      shown_percent = percent;
      const int bar = percent / 5;
      std::fprintf(stderr, "\rissuing [%s%s] %3d%% %d/%d", std::string(bar, '#').c_str(),
                   std::string(20 - bar, ' ').c_str(), percent, written, count);
    }
  }
  if (show_progress && written > 0) std::fprintf(stderr, "\n");
  grpc::Status status = reader->Finish();
  const bool flushed = std::fflush(csv) == 0 && ::fsync(fd) == 0;
  std::fclose(csv);
  if (written == 0) ::unlink(path.c_str());
  if (replayed) {
    std::fprintf(stderr,
                 "giftctl: request_id %s already issued batch %s; its PINs were shown once and "
                 "are not shown again (void the batch if that file is lost)\n",
                 request.request_id().c_str(), batch_id.c_str());
    return kExitFailed;
  }
  if (!status.ok() || !flushed || written != count) {
    const int exit_code = status.ok() ? kExitFailed : CallFailed(status);
    if (!flushed) std::fprintf(stderr, "giftctl: writing %s failed\n", path.c_str());
    if (!batch_id.empty()) {
      std::fprintf(stderr,
                   "giftctl: only %d of %d codes of batch %s reached %s; void the batch "
                   "(giftctl codes void --batch_id=%s --reason=incomplete) and issue again\n",
                   written, count, batch_id.c_str(), path.c_str(), batch_id.c_str());
    }
    return exit_code;
  }
  if (Json(in)) {
    nlohmann::ordered_json out;
    out["batch_id"] = batch_id;
    out["issued"] = written;
    out["file"] = path;
    out["request_id"] = request.request_id();
    std::printf("%s\n", DumpJson(out).c_str());
  } else {
    PrintFields({{"batch_id", batch_id},
                 {"issued", absl::StrCat(written, " codes of ", Money(request.amount()), ", ",
                                         request.region(), ", state ISSUED")},
                 {"file", absl::StrCat(path, " (mode 0600: serial,pin)")},
                 {"request_id", request.request_id()}});
  }
  return kExitOk;
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

// Fills batch_id or serials of an Activate/Void request; a usage error if
// neither or both were given.
template <typename Request>
bool SelectCodes(const Invocation& in, Request& request) {
  const bool by_batch = in.Has("batch_id");
  if (by_batch == !in.args().empty()) return false;
  request.set_batch_id(in.Get("batch_id"));
  for (const std::string& serial : in.args()) request.add_serials(serial);
  return true;
}

int CodesActivate(const Invocation& in) {
  v1::ActivateCodesRequest request;
  if (AnyLooksLikeAPin(in.args())) return UsageError("codes activate", kLooksLikeAPin);
  if (!SelectCodes(in, request)) {
    return UsageError("codes activate", in.Has("batch_id") ? "give --batch_id or serials, not both"
                                                           : "give --batch_id or serials");
  }
  request.set_request_id(in.Get("request_id", NewRequestId("giftctl-activate")));
  v1::ActivateCodesResponse response;
  grpc::Status status = Vault(in)->ActivateCodes(Call(in).get(), request, &response);
  return Answer(in, status, response,
                [&] { std::printf("activated %s\n", Codes(response.activated_count()).c_str()); });
}

int CodesVoid(const Invocation& in) {
  v1::VoidCodesRequest request;
  if (AnyLooksLikeAPin(in.args())) return UsageError("codes void", kLooksLikeAPin);
  if (!SelectCodes(in, request))
    return UsageError("codes void", in.Has("batch_id") ? "give --batch_id or serials, not both"
                                                       : "give --batch_id or serials");
  if (!in.Has("reason")) return UsageError("codes void", "--reason is required");
  request.set_reason(in.Get("reason"));
  request.set_request_id(in.Get("request_id", NewRequestId("giftctl-void")));
  v1::VoidCodesResponse response;
  grpc::Status status = Vault(in)->VoidCodes(Call(in).get(), request, &response);
  return Answer(in, status, response,
                [&] { std::printf("voided %s\n", Codes(response.voided_count()).c_str()); });
}

int CodesStatus(const Invocation& in) {
  v1::GetCodeStatusRequest request;
  if (in.Has("pin_stdin") == (in.args().size() == 1) || in.args().size() > 1) {
    return UsageError("codes status", "give one SERIAL, or --pin_stdin and the PIN on stdin");
  }
  if (in.Has("pin_stdin")) {
    // Read from stdin so the PIN stays out of shell history and `ps`.
    std::string pin;
    std::getline(std::cin, pin);
    request.set_code(std::string(absl::StripAsciiWhitespace(pin)));
  } else {
    if (AnyLooksLikeAPin(in.args())) return UsageError("codes status", kLooksLikeAPin);
    request.set_serial(in.args()[0]);
  }
  v1::CodeStatus code;
  grpc::Status status = Vault(in)->GetCodeStatus(Call(in).get(), request, &code);
  return Answer(in, status, code, [&] {
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
                 {"expire_time", Time(code.expire_time())},
                 {"redeemed_by_account_id", Or(code.redeemed_by_account_id())},
                 {"redemption_id", Or(code.redemption_id())}});
  });
}

int CodesList(const Invocation& in) {
  v1::ListCodesRequest request;
  request.set_batch_id(in.Get("batch_id"));
  if (in.Has("state")) {
    v1::CodeState state;
    const std::string name = absl::AsciiStrToUpper(in.Get("state"));
    if (!v1::CodeState_Parse(name, &state) && !v1::CodeState_Parse("CODE_STATE_" + name, &state)) {
      return UsageError("codes list",
                        "--state is one of ISSUED, ACTIVE, REDEEMING, REDEEMED, "
                        "VOIDED, EXPIRED");
    }
    request.set_state(state);
  }
  if (!SetPage(in, request)) return UsageError("codes list", "--page_size wants a number");
  v1::ListCodesResponse response;
  grpc::Status status = Vault(in)->ListCodes(Call(in).get(), request, &response);
  return Answer(in, status, response, [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : response.codes()) {
      rows.push_back({c.serial(), StateName(c.state()), Money(c.amount()), c.region(),
                      c.pin_last4(), Or(c.redeemed_by_account_id())});
    }
    PrintTable({"SERIAL", "STATE", "AMOUNT", "REGION", "LAST4", "REDEEMED_BY"}, rows);
    PrintMore(response.next_page_token());
  });
}

// ---- account and invoice ---------------------------------------------------

int AccountShow(const Invocation& in) {
  if (in.args().size() != 1) return UsageError("account show", "give one ACCOUNT_ID");
  v1::GetAccountRequest request;
  request.set_account_id(in.args()[0]);
  v1::Account account;
  grpc::Status status = Credit(in)->GetAccount(Call(in).get(), request, &account);
  return Answer(in, status, account, [&] {
    PrintFields({{"account_id", account.account_id()},
                 {"state", Short(v1::AccountState_Name(account.state()), "ACCOUNT_STATE_")},
                 {"country", account.country()},
                 {"currency_code", account.currency_code()},
                 {"billing_channel",
                  Short(v1::BillingChannel_Name(account.billing_channel()), "BILLING_CHANNEL_")},
                 {"balance", Money(account.balance())},
                 {"create_time", Time(account.create_time())},
                 {"update_time", Time(account.update_time())}});
  });
}

int AccountLedger(const Invocation& in) {
  if (in.args().size() != 1) return UsageError("account ledger", "give one ACCOUNT_ID");
  v1::ListLedgerEntriesRequest request;
  request.set_account_id(in.args()[0]);
  if (!SetPage(in, request)) return UsageError("account ledger", "--page_size wants a number");
  v1::ListLedgerEntriesResponse response;
  grpc::Status status = Credit(in)->ListLedgerEntries(Call(in).get(), request, &response);
  return Answer(in, status, response, [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : response.entries()) {
      rows.push_back(
          {absl::StrCat(e.entry_id()), Time(e.create_time()), Money(e.amount()), e.transfer_id()});
    }
    PrintTable({"ENTRY", "TIME", "AMOUNT", "TRANSFER"}, rows);
    PrintMore(response.next_page_token());
  });
}

int InvoiceShow(const Invocation& in) {
  if (in.args().size() != 1) return UsageError("invoice show", "give one INVOICE_ID");
  v1::GetCreditApplicationRequest request;
  request.set_invoice_id(in.args()[0]);
  v1::CreditApplication app;
  grpc::Status status = Billing(in)->GetCreditApplication(Call(in).get(), request, &app);
  return Answer(in, status, app, [&] {
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

// ---- audit -----------------------------------------------------------------

int Audit(const Invocation& in) {
  int chunk_size = 0;
  if (in.Has("chunk_size") && !absl::SimpleAtoi(in.Get("chunk_size"), &chunk_size)) {
    return UsageError("audit", "--chunk_size wants a number");
  }
  auto vault_stub = Vault(in);
  auto billing_stub = Billing(in);
  auto ledger_stub = Credit(in);
  absl::StatusOr<audit::AllFacts> facts =
      audit::ReadOverRpc({vault_stub.get(), billing_stub.get(), ledger_stub.get(),
                          [&in] { return Call(in, absl::Minutes(5)); }, chunk_size});
  if (!facts.ok()) return CallFailed(errors::ToGrpcStatus(facts.status()));
  const audit::VaultFacts& vault = facts->vault;
  const audit::BillingFacts& billing = facts->billing;
  const audit::LedgerFacts& ledger = facts->ledger;
  const std::vector<audit::Violation> violations = audit::Check(vault, billing, ledger);
  if (Json(in)) {
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
  return violations.empty() ? kExitOk : kExitFailed;
}

// ---- health ----------------------------------------------------------------

// One Health/Check of the server as a whole; "SERVING", "NOT_SERVING" or an error.
std::string CheckOnce(const std::string& address, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(server::MakeChannel(address));
  grpc::ClientContext context;
  server::PrepareContext(context, "", absl::Seconds(2));
  grpc::health::v1::HealthCheckResponse response;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) return tools::Describe(status);
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

int Health(const Invocation& in) {
  if (in.args().empty()) return UsageError("health", "give at least one ADDR");
  absl::Duration wait = absl::ZeroDuration();
  if (in.Has("wait") && !absl::ParseDuration(in.Get("wait"), &wait)) {
    return UsageError("health", "--wait wants a duration such as 30s");
  }
  const absl::Time deadline = absl::Now() + wait;
  int exit_code = kExitOk;
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for (const std::string& address : in.args()) {
    std::string state = CheckOnce(address, in.Get("service"));
    while (state != "SERVING" && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(100));
      state = CheckOnce(address, in.Get("service"));
    }
    if (Json(in)) {
      json[address] = state;
    } else {
      std::printf("%s: %s\n", address.c_str(), state.c_str());
    }
    if (state != "SERVING") exit_code = kExitFailed;
  }
  if (Json(in)) std::printf("%s\n", DumpJson(json).c_str());
  return exit_code;
}

Cli MakeCli() {
  const FlagSpec request_id{"request_id",
                            "idempotency key; a retry with the same one does nothing twice "
                            "(default: a new random one)"};
  const FlagSpec batch_id{"batch_id", "every code of this batch (instead of SERIAL...)"};
  const FlagSpec page_size{"page_size", "rows per page (server default when 0)"};
  const FlagSpec page_token{"page_token", "the page to show, from the previous page's 'more:'"};
  return Cli(
      {{"json", "print one JSON document instead of a table", true},
       {"token_file",
        "file holding the caller's bearer token (else $GIFTCTL_TOKEN_FILE, "
        "else $GIFTCTL_TOKEN)"},
       {"timeout", "deadline of each call, e.g. 10s"},
       {"code_vault", "code-vault host:port (default $CODE_VAULT_ADDR)"},
       {"account_credit", "account-credit host:port (default $ACCOUNT_CREDIT_ADDR)"},
       {"billing", "billing host:port (default $BILLING_ADDR)"}},
      {
          {"codes issue",
           "",
           "issue a batch of new codes (state ISSUED) and write serial,PIN to a new CSV file",
           "The file is created with mode 0600 and never overwritten: it holds the only copy of\n"
           "the PINs. A progress bar goes to stderr for 1,000 codes or more.",
           {{"count", "how many codes (1 to 100,000)"},
            {"amount", "value of each code, e.g. 25.00"},
            {"currency", "ISO-4217 code, e.g. EUR"},
            {"region", "ISO-3166 country where the codes may be redeemed, e.g. DE"},
            {"out", "the CSV file to create"},
            {"expire_time", "optional RFC 3339 time after which unredeemed codes expire"},
            {"progress", "show the progress bar for small batches too", true},
            request_id},
           CodesIssue},
          {"codes activate",
           "[SERIAL...]",
           "activate sold codes (ISSUED → ACTIVE)",
           "",
           {batch_id, request_id},
           CodesActivate},
          {"codes void",
           "[SERIAL...]",
           "void codes that are not redeemed (→ VOIDED)",
           "",
           {batch_id, {"reason", "why (kept in the code's history)"}, request_id},
           CodesVoid},
          {"codes status",
           "[SERIAL]",
           "what happened to a card: state, times, who redeemed it",
           "Give the serial printed on the card, or --pin_stdin and type the PIN (or redirect\n"
           "it from a file) so that it stays out of shell history and the process list.",
           {{"pin_stdin", "read the PIN from stdin instead of a serial", true}},
           CodesStatus},
          {"codes list",
           "",
           "list codes of a batch or in a state, a page at a time",
           "",
           {batch_id,
            {"state", "ISSUED, ACTIVE, REDEEMING, REDEEMED, VOIDED or EXPIRED"},
            page_size,
            page_token},
           CodesList},
          {"account show",
           "ACCOUNT_ID",
           "an account: country, currency, channel, balance",
           "",
           {},
           AccountShow},
          {"account ledger",
           "ACCOUNT_ID",
           "an account's ledger entries, newest first",
           "",
           {page_size, page_token},
           AccountLedger},
          {"invoice show", "INVOICE_ID", "the credit applied to an invoice", "", {}, InvoiceShow},
          {"audit",
           "",
           "check every invariant of the books across the three services",
           "Exit code 0 when the books are clean, 1 on any violation (each printed).",
           {{"chunk_size", "rows per streamed message (default 1,000)"}},
           Audit},
          {"health",
           "ADDR...",
           "grpc.health.v1 check of each address",
           "",
           {{"wait", "keep asking until SERVING or this much time has passed, e.g. 30s"},
            {"service",
             "health service name: \"\" (default) is readiness, giftcard.liveness "
             "liveness"}},
           Health},
      });
}

}  // namespace
}  // namespace giftcard::giftctl

int main(int argc, char** argv) { return giftcard::giftctl::MakeCli().Main(argc, argv); }

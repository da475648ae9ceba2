// giftctl codes issue: a batch of new codes, their PINs written once to a
// new file encrypted to the card printer's key (or in clear when asked).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "calls.h"
#include "money/money.h"
#include "output.h"
#include "protoconv/protoconv.h"
#include "sealed_file.h"

namespace giftcard::giftctl {
namespace {

constexpr char kCommand[] = "codes issue";

struct IssueFlags {
  int count = 0;
  std::string amount;
  std::string currency;
  std::string region;
  std::string out;
  // OpenPGP keys (fingerprints, ideally) the file is encrypted to.
  std::vector<std::string> recipients;
  bool plaintext = false;  // Write the PINs in clear instead: asked for explicitly.
  std::string expire_time;
  bool progress = false;
  std::string request_id;
};

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

// The request the flags ask for, or the usage error's message.
absl::StatusOr<v1::IssueCodesRequest> IssueRequest(const IssueFlags& flags) {
  // Codes of currencies and countries in either case, alike: eur is EUR.
  const std::string currency = absl::AsciiStrToUpper(flags.currency);
  const std::string region = absl::AsciiStrToUpper(flags.region);
  auto amount = ParseAmount(flags.amount, currency);
  if (!amount.ok()) return amount.status();
  if (region.size() != 2 || !absl::ascii_isalpha(static_cast<unsigned char>(region[0])) ||
      !absl::ascii_isalpha(static_cast<unsigned char>(region[1]))) {
    return absl::InvalidArgumentError("--region must be an ISO 3166 country code such as DE");
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
      return absl::InvalidArgumentError("--expire_time wants RFC 3339, e.g. 2027-12-31T00:00:00Z");
    }
    protoconv::ToTimestamp(expire, request.mutable_expire_time());
  }
  return request;
}

// Whom the file is encrypted to: none with --plaintext, which must be said.
absl::StatusOr<std::optional<Recipients>> RecipientsOf(const IssueFlags& flags) {
  // The PINs exist nowhere else. They travel to the printer encrypted to its
  // OpenPGP key, held in memory until then; plain text only when asked.
  if (flags.recipients.empty() == !flags.plaintext) {
    return absl::InvalidArgumentError(
        flags.plaintext
            ? "give --recipient or --plaintext, not both"
            : "give --recipient=<the printer's OpenPGP key fingerprint> (the file is encrypted "
              "to it) or --plaintext (the PINs in clear; keep that file off shared disks)");
  }
  if (flags.recipients.empty()) return std::nullopt;
  absl::StatusOr<Recipients> found = FindRecipients(flags.recipients);
  if (!found.ok()) return found.status();
  return std::optional<Recipients>(*std::move(found));
}

// The PIN file, created for its owner only; an existing file is never
// replaced. The descriptor, or -1 and the exit code of the failure it
// printed.
int CreatePinFile(const Session& session, const std::string& path, int* exit_code) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    *exit_code = session.UsageError(
        kCommand,
        absl::StrCat("--out=", path, " is a directory: give the path of a new file, e.g. ",
                     absl::StripSuffix(path, "/"), "/batch.csv"));
    return -1;
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    *exit_code = session.Failed(absl::StrCat("cannot create ", path, ": ", std::strerror(errno),
                                             errno == EEXIST ? " (refusing to overwrite it)" : ""));
    return -1;
  }
  ::fchmod(fd, 0600);  // Whatever the umask.
  return fd;
}

// One issuance's stream of codes into the file (or into memory, on its way
// to encryption), with a progress bar on a terminal.
class PinWriter {
 public:
  PinWriter(const IssueFlags& flags, bool sealed, int fd)
      : flags_(flags), sealed_(sealed), fd_(fd), csv_(::fdopen(fd, "w")) {
    Emit("serial,pin\n");
  }
  ~PinWriter() { ::explicit_bzero(plaintext_.data(), plaintext_.size()); }

  // Reads every code of the call; the call's status.
  grpc::Status ReadAll(const Session& session, const v1::IssueCodesRequest& request) {
    auto context = session.Call(absl::Minutes(10));
    auto reader = Vault(session)->IssueCodes(context.get(), request);
    // Frames redrawn with \r only make sense on a terminal.
    const bool progress = (flags_.count >= 1000 || flags_.progress) && isatty(STDERR_FILENO);
    v1::IssuedCode code;
    while (reader->Read(&code)) {
      batch_id_ = code.batch_id();
      if (code.code().empty()) {
        replayed_ = true;  // A replay of an earlier request: PINs are shown once only.
        continue;
      }
      Emit(absl::StrCat(code.serial(), ",", code.code(), "\n"));
      ++written_;
      if (progress) ShowProgress();
    }
    if (progress && written_ > 0) std::fprintf(stderr, "\n");
    return reader->Finish();
  }

  // Encrypts (when sealed), flushes and syncs the file, and closes it; an
  // empty file is removed. False when the file may be incomplete.
  bool Close(const Recipients* recipients, const std::string& path, std::string* why) {
    absl::Status sealed = absl::OkStatus();
    if (recipients != nullptr && written_ > 0) sealed = WriteSealed(*recipients, plaintext_, fd_);
    const bool flushed = sealed.ok() && std::fflush(csv_) == 0 && ::fsync(fd_) == 0;
    std::fclose(csv_);
    if (written_ == 0) ::unlink(path.c_str());
    if (!sealed.ok()) *why = std::string(sealed.message());
    return flushed;
  }

  const std::string& batch_id() const { return batch_id_; }
  int written() const { return written_; }
  bool replayed() const { return replayed_; }

 private:
  void Emit(const std::string& line) {
    if (sealed_) {
      plaintext_ += line;
    } else {
      std::fputs(line.c_str(), csv_);
    }
  }
  void ShowProgress() {
    const int percent = static_cast<int>(100LL * written_ / flags_.count);
    if (percent == shown_percent_) return;
    shown_percent_ = percent;
    const int bar = percent / 5;
    std::fprintf(stderr, "\rissuing [%s%s] %3d%% %d/%d", std::string(bar, '#').c_str(),
                 std::string(20 - bar, ' ').c_str(), percent, written_, flags_.count);
  }

  const IssueFlags& flags_;
  const bool sealed_;
  const int fd_;
  std::FILE* csv_;
  std::string plaintext_;  // The CSV on its way to encryption; wiped.
  std::string batch_id_;
  int written_ = 0;
  int shown_percent_ = -1;
  bool replayed_ = false;
};

void PrintIssued(const Session& session, const v1::IssueCodesRequest& request,
                 const PinWriter& pins, const std::string& path,
                 const std::optional<Recipients>& recipients) {
  if (session.json()) {
    nlohmann::ordered_json out;
    out["batch_id"] = pins.batch_id();
    out["issued"] = pins.written();
    out["file"] = path;
    out["encrypted_to"] = recipients ? recipients->fingerprints : std::vector<std::string>{};
    out["request_id"] = request.request_id();
    std::printf("%s\n", DumpJson(out).c_str());
    return;
  }
  PrintFields(
      {{"batch_id", pins.batch_id()},
       {"issued", absl::StrCat(Count(pins.written(), "code", "codes"), " of ",
                               Money(request.amount()), ", ", request.region(), ", state ISSUED")},
       {"file", recipients ? absl::StrCat(path, " (mode 0600: serial,pin encrypted to ",
                                          absl::StrJoin(recipients->fingerprints, ", "), ")")
                           : absl::StrCat(path, " (mode 0600: serial,pin in plain text)")},
       {"request_id", request.request_id()}});
}

int CodesIssue(const Session& session, const IssueFlags& flags) {
  absl::StatusOr<v1::IssueCodesRequest> request = IssueRequest(flags);
  if (!request.ok()) return session.UsageError(kCommand, std::string(request.status().message()));
  absl::StatusOr<std::optional<Recipients>> recipients = RecipientsOf(flags);
  if (!recipients.ok()) {
    return session.UsageError(kCommand, std::string(recipients.status().message()));
  }
  const std::string& path = flags.out;
  int exit_code = kExitFailed;
  const int fd = CreatePinFile(session, path, &exit_code);
  if (fd < 0) return exit_code;
  PinWriter pins(flags, recipients->has_value(), fd);
  const grpc::Status status = pins.ReadAll(session, *request);
  std::string why;
  const bool flushed = pins.Close(*recipients ? &**recipients : nullptr, path, &why);
  if (pins.replayed()) {
    return session.Failed(absl::StrCat(
        "request_id ", request->request_id(), " already issued batch ", pins.batch_id(),
        "; its PINs were shown once and are not shown again (void the batch if that file is "
        "lost)"));
  }
  if (status.ok() && flushed && pins.written() == flags.count) {
    PrintIssued(session, *request, pins, path, *recipients);
    return kExitOk;
  }
  exit_code = status.ok() ? kExitFailed : session.CallFailed(status);
  if (!flushed)
    session.Failed(absl::StrCat("writing ", path, " failed", why.empty() ? "" : ": " + why));
  if (!pins.batch_id().empty()) {
    session.Failed(absl::StrCat("only ", pins.written(), " of ", flags.count, " codes of batch ",
                                pins.batch_id(), " reached ", path,
                                "; void the batch (giftctl codes void --batch_id=", pins.batch_id(),
                                " --reason=incomplete) and issue again"));
  }
  return exit_code;
}

}  // namespace

void AddCodesIssueCommand(CommandLine& cli, CLI::App* codes) {
  IssueFlags& issue = cli.NewFlags<IssueFlags>();
  const Session& session = cli.session();
  CLI::App* c = cli.Command(codes, "issue",
                            "issue a batch of new codes (state ISSUED) and write serial,PIN to a "
                            "new file, encrypted to the printer's key",
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
}

}  // namespace giftcard::giftctl

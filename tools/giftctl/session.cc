#include "session.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "codes/codes.h"
#include "common/tool_common.h"
#include "config/files.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "output.h"
#include "server/client.h"

namespace giftcard::giftctl {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// Refuses a TLS file that cannot be read or holds no PEM block here, with
// the variable's name, rather than as a handshake failure later.
void CheckPemFile(const Session& session, const char* env, const char* what,
                  const char* pem_label) {
  const std::string path = Env(env);
  if (path.empty()) return;
  std::optional<std::string> text = config::ReadFile(path);
  if (!text) {
    std::exit(
        session.Failed(absl::StrCat(env, "=", path, ": cannot read it (", what, ")"), kExitUsage));
  }
  if (!absl::StrContains(*text, absl::StrCat(pem_label, "-----"))) {
    std::exit(session.Failed(
        absl::StrCat(env, "=", path, ": holds no PEM ", pem_label, " (", what, ")"), kExitUsage));
  }
}

// A PIN typed where giftctl takes none (an extra argument, a command name, a
// flag's value) must not be repeated on the screen or in a log that keeps
// stderr: every run of symbols that reads as a PIN is replaced.
std::string RedactPins(const std::string& message) {
  std::string out;
  bool redacted = false;
  size_t i = 0;
  while (i < message.size()) {
    const auto symbol = [&](size_t at) {
      return absl::ascii_isalnum(static_cast<unsigned char>(message[at])) || message[at] == '-';
    };
    if (!symbol(i)) {
      out += message[i++];
      continue;
    }
    size_t end = i;
    while (end < message.size() && symbol(end)) ++end;
    const std::string word = message.substr(i, end - i);
    if (codes::Normalize(word).ok()) {
      out += "[PIN]";
      redacted = true;
    } else {
      out += word;
    }
    i = end;
  }
  if (redacted) {
    absl::StrAppend(&out,
                    "; [PIN] looks like a PIN: giftctl takes one only on stdin "
                    "(codes status --pin_stdin)");
  }
  return out;
}

}  // namespace

std::string Session::Token() const {
  // CLI11 fills token_file from GIFTCTL_TOKEN_FILE when the flag is absent.
  if (!globals_.token_file.empty()) {
    std::optional<std::string> token = config::ReadFile(globals_.token_file);
    if (!token) {
      // Why, in the OS's words: missing, not ours to read, a directory.
      std::string why = "cannot be read";
      const int fd = ::open(globals_.token_file.c_str(), O_RDONLY);
      if (fd < 0) {
        why = std::strerror(errno);
      } else {
        char byte;
        if (::read(fd, &byte, 1) < 0) why = std::strerror(errno);
        ::close(fd);
      }
      std::exit(Failed(absl::StrCat("cannot read token file ", globals_.token_file, ": ", why,
                                    " (--token_file or GIFTCTL_TOKEN_FILE names it)"),
                       kExitUsage));
    }
    const std::string stripped(absl::StripAsciiWhitespace(*token));
    if (stripped.empty()) {
      struct stat st;
      const bool directory = ::stat(globals_.token_file.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
      std::exit(Failed(absl::StrCat("cannot read token file ", globals_.token_file, ": ",
                                    directory ? "Is a directory" : "it is empty",
                                    " (--token_file or GIFTCTL_TOKEN_FILE names it)"),
                       kExitUsage));
    }
    return stripped;
  }
  return Env(kTokenEnv);
}

std::unique_ptr<grpc::ClientContext> Session::Call(absl::Duration fallback) const {
  absl::Duration timeout = fallback;
  if (!globals_.timeout.empty() && !absl::ParseDuration(globals_.timeout, &timeout)) {
    std::exit(Failed("--timeout wants a duration such as 10s", kExitUsage));
  }
  auto context = std::make_unique<grpc::ClientContext>();
  server::PrepareContext(*context, Token(), timeout);
  return context;
}

std::shared_ptr<grpc::Channel> Session::Channel(Service service) const {
  struct Where {
    const std::string& address;
    const char* flag;
    const char* env;
  };
  const Where where = service == Service::kCodeVault
                          ? Where{globals_.code_vault, "code_vault", "CODE_VAULT_ADDR"}
                      : service == Service::kAccountCredit
                          ? Where{globals_.account_credit, "account_credit", "ACCOUNT_CREDIT_ADDR"}
                          : Where{globals_.billing, "billing", "BILLING_ADDR"};
  if (where.address.empty()) {
    std::exit(
        Failed(absl::StrCat("no address for ", where.flag, ": pass --", where.flag, " or set ",
                            where.env, " (deploy/local/stack.sh's env file sets it)"),
               kExitUsage));
  }
  CheckPemFile(*this, kTlsCaEnv, "the CA of the services' certificates", "CERTIFICATE");
  CheckPemFile(*this, kTlsCertEnv, "this caller's certificate, for mutual TLS", "CERTIFICATE");
  CheckPemFile(*this, kTlsKeyEnv, "this caller's private key, for mutual TLS", "PRIVATE KEY");
  if (Env(kTlsCertEnv).empty() != Env(kTlsKeyEnv).empty()) {
    std::exit(Failed(
        absl::StrCat("set both ", kTlsCertEnv, " and ", kTlsKeyEnv, " (mutual TLS), or neither"),
        kExitUsage));
  }
  return server::MakeChannel(where.address);
}

int Session::CallFailed(const grpc::Status& status) const {
  const int exit_code =
      status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? kExitUsage : kExitFailed;
  const std::string hint = HintFor(status);
  if (json()) {
    const absl::Status error = errors::FromGrpcStatus(status);
    nlohmann::ordered_json out;
    out["code"] = tools::CodeName(status.error_code());
    out["reason"] = errors::ReasonOf(error);
    out["message"] = status.error_message();
    out["metadata"] = nlohmann::ordered_json::object();
    for (const auto& [key, value] : errors::MetadataOf(error)) out["metadata"][key] = value;
    const auto violations = errors::FieldViolationsOf(error);
    if (!violations.empty()) {
      out["field_violations"] = nlohmann::ordered_json::array();
      for (const auto& [field, description] : violations) {
        out["field_violations"].push_back({{"field", field}, {"description", description}});
      }
    }
    if (!hint.empty()) out["hint"] = hint;
    out["exit_code"] = exit_code;
    std::fprintf(stderr, "%s\n", DumpJson({{"error", out}}).c_str());
  } else {
    std::fprintf(stderr, "giftctl: %s\n", tools::Describe(status).c_str());
    if (!hint.empty()) std::fprintf(stderr, "giftctl: hint: %s\n", hint.c_str());
  }
  return exit_code;
}

std::string Session::HintFor(const grpc::Status& status) const {
  if (status.error_code() == grpc::StatusCode::UNAUTHENTICATED && Token().empty()) {
    return "no token was sent: set --token_file=FILE, GIFTCTL_TOKEN_FILE=FILE or GIFTCTL_TOKEN "
           "(the local stack's env file sets GIFTCTL_TOKEN_FILE)";
  }
  std::string hint = TlsHint(status, Env(kTlsCaEnv), !Env(kTlsCertEnv).empty());
  if (hint.empty()) hint = NoAnswerHint(status);
  return hint;
}

int Session::UsageError(const std::string& command, const std::string& raw_message) const {
  const std::string message = RedactPins(raw_message);
  const std::string where = command.empty() ? "giftctl" : "giftctl " + command;
  if (json()) {
    nlohmann::ordered_json out;
    out["code"] = "USAGE";
    out["message"] = message;
    out["help"] = where + " --help";
    out["exit_code"] = kExitUsage;
    std::fprintf(stderr, "%s\n", DumpJson({{"error", out}}).c_str());
  } else {
    std::fprintf(stderr, "%s: %s (try '%s --help')\n", where.c_str(), message.c_str(),
                 where.c_str());
  }
  return kExitUsage;
}

int Session::Failed(const std::string& raw_message, int exit_code) const {
  const std::string message = RedactPins(raw_message);
  if (json()) {
    nlohmann::ordered_json out;
    out["code"] = exit_code == kExitUsage ? "USAGE" : "FAILED";
    out["message"] = message;
    out["exit_code"] = exit_code;
    std::fprintf(stderr, "%s\n", DumpJson({{"error", out}}).c_str());
  } else {
    std::fprintf(stderr, "giftctl: %s\n", message.c_str());
  }
  return exit_code;
}

std::string NoAnswerHint(const grpc::Status& status) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return "";
  const std::string& m = status.error_message();
  if (!absl::StrContains(m, "Connection refused") &&
      !absl::StrContains(m, "connections to all backends failing") &&
      !absl::StrContains(m, "ailed to connect")) {
    return "";
  }
  return "nothing answers at that address: the stack may be down, or have moved to new ports "
         "(each 'deploy/local/stack.sh up' picks new ones). Check 'deploy/local/stack.sh "
         "status', then source its env file again (. /tmp/giftcard-stack/env) or pass the "
         "address flags";
}

std::string TlsHint(const grpc::Status& status, const std::string& ca_file, bool has_client_cert) {
  if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return "";
  const std::string& m = status.error_message();
  const bool closed = absl::StrContains(m, "Socket closed") ||
                      absl::StrContains(m, "Connection reset") ||
                      absl::StrContains(m, "End of TCP stream");
  const bool handshake = absl::StrContains(m, "andshake") || absl::StrContains(m, "SSL") ||
                         absl::StrContains(m, "ssl") || absl::StrContains(m, "certificate");
  if (ca_file.empty()) {
    if (!closed && !handshake) return "";
    return absl::StrCat(
        "the service closed a plaintext connection: it probably serves TLS. Set ", kTlsCaEnv,
        " to the CA file that signed its certificate, and ", kTlsCertEnv, " and ", kTlsKeyEnv,
        " to this caller's certificate and key if it wants mutual TLS (the local stack's env "
        "file sets all three when started with GIFTCARD_TLS=1)");
  }
  if (absl::StrContains(m, "WRONG_VERSION_NUMBER") || absl::StrContains(m, "wrong version")) {
    return absl::StrCat("the service does not seem to speak TLS: unset ", kTlsCaEnv,
                        " to call it in plaintext");
  }
  if (absl::StrContains(m, "CERTIFICATE_VERIFY_FAILED") ||
      absl::StrContains(m, "certificate verify failed")) {
    return absl::StrCat("the service's certificate is not signed by the CA in ", kTlsCaEnv, "=",
                        ca_file, ", or does not name the address called");
  }
  if (!closed && !handshake) return "";
  if (!has_client_cert) {
    return absl::StrCat("the TLS handshake failed; if the service wants mutual TLS, set ",
                        kTlsCertEnv, " and ", kTlsKeyEnv, " to this caller's certificate and key");
  }
  return absl::StrCat("the TLS handshake failed: check that ", kTlsCaEnv, "=", ca_file,
                      " signed the service's certificate and the service's CA signed ",
                      kTlsCertEnv);
}

}  // namespace giftcard::giftctl

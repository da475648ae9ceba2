// What every giftctl command shares: the global flags, the caller's token,
// channels to the three services, and how a failure is reported (one line,
// or one JSON object under --json, on stderr) with its exit code.
#ifndef GIFTCARD_TOOLS_GIFTCTL_SESSION_H_
#define GIFTCARD_TOOLS_GIFTCTL_SESSION_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace giftcard::giftctl {

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;  // A call failed, or the audit found violations.
inline constexpr int kExitUsage = 2;   // A usage error, or INVALID_ARGUMENT from a service.

// The environment giftctl reads besides its flags' own (listed in --help).
inline constexpr char kTokenEnv[] = "GIFTCTL_TOKEN";
inline constexpr char kTokenFileEnv[] = "GIFTCTL_TOKEN_FILE";
inline constexpr char kTlsCaEnv[] = "GIFTCARD_TLS_CA";
inline constexpr char kTlsCertEnv[] = "GIFTCARD_TLS_CERT";
inline constexpr char kTlsKeyEnv[] = "GIFTCARD_TLS_KEY";

enum class Service { kCodeVault, kAccountCredit, kBilling };

// The global flags, taken before or after the command.
struct Globals {
  bool json = false;
  std::string token_file;  // Else $GIFTCTL_TOKEN_FILE (CLI11 reads it), else $GIFTCTL_TOKEN.
  std::string timeout;     // A duration such as 10s; empty: the command's default.
  std::string code_vault;  // host:port; else $CODE_VAULT_ADDR (CLI11 reads it).
  std::string account_credit;
  std::string billing;
};

class Session {
 public:
  explicit Session(const Globals& globals) : globals_(globals) {}

  bool json() const { return globals_.json; }

  // A context with the caller's token and the call's deadline (--timeout,
  // else `fallback`). Exits 2 on an unreadable token file or a bad --timeout.
  std::unique_ptr<grpc::ClientContext> Call(absl::Duration fallback = absl::Seconds(10)) const;

  // A channel to the service, with TLS when GIFTCARD_TLS_CA is set. Exits 2
  // when its address is not given, or a TLS file cannot be read or is no
  // PEM.
  std::shared_ptr<grpc::Channel> Channel(Service service) const;

  // Prints the failed call ("giftctl: NOT_FOUND ACCOUNT_NOT_FOUND: message",
  // with a hint where one helps) and returns its exit code: 2 for
  // INVALID_ARGUMENT, else 1.
  int CallFailed(const grpc::Status& status) const;

  // What to do about a failed call, "" when nothing helps: a token that was
  // not sent, TLS settings (TlsHint, with this caller's GIFTCARD_TLS_*), an
  // address where nothing answers (NoAnswerHint).
  std::string HintFor(const grpc::Status& status) const;

  // Prints a usage error of `command` and returns 2.
  int UsageError(const std::string& command, const std::string& message) const;

  // Prints a local failure (a file that cannot be written) and returns `exit_code`.
  int Failed(const std::string& message, int exit_code = kExitFailed) const;

 private:
  std::string Token() const;

  const Globals& globals_;
};

// What a TLS problem looks like from the client side and which variable to
// set: "" when `status` shows none. `ca_file` is $GIFTCARD_TLS_CA.
std::string TlsHint(const grpc::Status& status, const std::string& ca_file, bool has_client_cert);
// What to do when nothing answers at an address ("" for other failures).
std::string NoAnswerHint(const grpc::Status& status);

}  // namespace giftcard::giftctl

#endif  // GIFTCARD_TOOLS_GIFTCTL_SESSION_H_

// The three services started in dependency order on fresh databases, the
// test principals' tokens, and the helpers over their stubs.
#ifndef GIFTCARD_TESTS_SUPPORT_SUITE_H_
#define GIFTCARD_TESTS_SUPPORT_SUITE_H_

#include <grpcpp/grpcpp.h>

#include <array>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "giftcard/v1/account_credit.grpc.pb.h"
#include "giftcard/v1/billing.grpc.pb.h"
#include "giftcard/v1/code_vault.grpc.pb.h"
#include "support/process.h"
#include "support/servers.h"
#include "support/sql.h"

namespace giftcard::testing {

// A name unique to this process and call, safe as an id and a database name.
std::string UniqueName(const std::string& prefix);

// A client address no other test (nor an earlier run against the same
// Redis, which keeps counting a client's failed attempts) has used: four
// octets in 198.18.0.0/15, the range set aside for benchmarks.
std::array<int, 4> UniqueIpv4Octets();
std::string UniqueIpv4();

// A PIN that passes its check symbol but was never issued, formatted.
std::string UnknownPin();

// Which Postgres the services use, and extra flags per service.
struct SuiteOptions {
  int pg_port = 0;     // 0: the fixture's Postgres.
  int redis_port = 0;  // 0: the fixture's Redis.
  // A directory made by deploy/local/certs.sh: every service then serves
  // mutual TLS, code-vault and billing call account-credit with their own
  // certificates (and no token), and the stubs use the "tools" certificate.
  std::string tls_dir = "";
  // Databases of the services' own (a Patroni cluster's multi-host DSNs,
  // say): used as they are. Empty: a fresh database in pg_port's Postgres.
  std::string account_credit_dsn = "";
  std::string code_vault_dsn = "";
  std::string billing_dsn = "";
  // "host:port,…" of Redis Sentinels: code-vault finds its Redis through
  // them (redis_port is then unused).
  std::string redis_sentinels = "";
  std::vector<std::string> account_credit_args = {};
  std::vector<std::string> code_vault_args = {};
  std::vector<std::string> billing_args = {};
};

// The pepper the test code-vaults hash PINs with (32 bytes as hex).
inline constexpr char kTestPepper[] =
    "test1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

// Bearer tokens of the test principals.
inline constexpr char kStorefrontToken[] = "test-storefront";
inline constexpr char kBillingSystemToken[] = "test-billing-system";
inline constexpr char kAdminToken[] = "test-admin";
inline constexpr char kSupportToken[] = "test-support";
inline constexpr char kCodeVaultToken[] = "test-code-vault";
inline constexpr char kBillingToken[] = "test-billing";

// A tokens file (hashes only) naming every test principal's token; the
// services of a Suite read it.
std::string TestTokensFile();

// Writes a tokens file at `path` (created or replaced) naming the test tokens
// of `principals` only (e.g. all but "code-vault", to revoke it). Returns `path`.
std::string WriteTokensFile(const std::string& path, const std::vector<std::string>& principals);

// Every test principal's name.
std::vector<std::string> AllTestPrincipals();

// A fresh path under the test log directory.
std::string TempPath(const std::string& prefix);

// The three services, started in dependency order on fresh databases.
class Suite {
 public:
  explicit Suite(SuiteOptions options = {});

  std::string account_credit_addr, code_vault_addr, billing_addr;
  std::string account_credit_dsn, code_vault_dsn, billing_dsn;
  // The client address Redeem sends: one per suite, so that suites sharing
  // the fixture's Redis never share an attempt limit.
  std::string client_ip;
  std::unique_ptr<Process> account_credit, code_vault, billing;
  std::unique_ptr<v1::AccountCredit::Stub> credit_stub;
  std::unique_ptr<v1::CodeVault::Stub> vault_stub;
  std::unique_ptr<v1::Billing::Stub> billing_stub;

  // Helpers over the stubs; each asserts nothing and returns the status.
  grpc::Status UpsertAccount(const std::string& account_id, const std::string& country,
                             const std::string& currency, v1::BillingChannel channel,
                             v1::Account* out = nullptr);
  // Issues `count` codes (ISSUED: printed, not sold) with `request_id` (""
  // picks a unique one); returns their PINs and serials.
  std::vector<v1::IssuedCode> IssueCodes(int count, int64_t amount_minor,
                                         const std::string& currency, const std::string& region,
                                         const std::string& request_id = "");
  // Issues and activates `count` codes; returns their PINs and serials.
  std::vector<v1::IssuedCode> IssueActiveCodes(int count, int64_t amount_minor,
                                               const std::string& currency,
                                               const std::string& region);
  // A DE/EUR account holding `amount_minor` of gift credit, redeemed
  // through the vault.
  std::string FundedAccount(int64_t amount_minor);
  // From the suite's client address, or `from_client_ip` when given. The
  // vault answers once the completion is sent, before it commits
  // (--answer_before_completion); Redeem then waits, at most 5 s, until the
  // redemption reads COMPLETED in the database, so a test that reads the
  // rows next reads them settled. RedeemAnswer returns with the answer.
  grpc::Status Redeem(const std::string& code, const std::string& account_id,
                      const std::string& request_id, v1::Redemption* out = nullptr,
                      const std::string& from_client_ip = "");
  grpc::Status RedeemAnswer(const std::string& code, const std::string& account_id,
                            const std::string& request_id, v1::Redemption* out = nullptr,
                            const std::string& from_client_ip = "");
  grpc::Status GetAccount(const std::string& account_id, v1::Account* out);
  // As support: what support sees of the code with this serial.
  grpc::Status GetCodeStatus(const std::string& serial, v1::CodeStatus* out);
  // Billing answers once the debit is durable and the mark is sent, before
  // it commits (--answer_before_mark); ApplyCredit then waits, at most 5 s,
  // until the application reads settled in the database, as Redeem does.
  // ApplyCreditAnswer returns with the answer.
  grpc::Status ApplyCredit(const std::string& invoice_id, const std::string& account_id,
                           int64_t amount_due_minor, const std::string& currency,
                           v1::CreditApplication* out);
  grpc::Status ApplyCreditAnswer(const std::string& invoice_id, const std::string& account_id,
                                 int64_t amount_due_minor, const std::string& currency,
                                 v1::CreditApplication* out);
  grpc::Status ReverseCredit(const std::string& invoice_id, v1::CreditApplication* out);

  // The ledger audit over the three databases: "" when every invariant holds,
  // else one line per violation.
  std::string AuditReport();

  // "db.table=md5 …" of the whole contents of every table of the three
  // databases (found in the catalog, so new tables are covered): equal
  // before and after means nothing was written, updated or deleted.
  std::string ContentsDigest();

  // Replaces account-credit (SIGKILL if it still runs) with a new process on
  // the same address and database, started with `args`; credit_stub is a new
  // stub, since the old channel backs off from the dead process. Plaintext
  // suites only.
  void RestartAccountCredit(const std::vector<std::string>& args = {});

  // Starts one service binary; waits for its port file.
  static std::unique_ptr<Process> StartService(const std::string& name,
                                               const std::vector<std::string>& args,
                                               const std::map<std::string, std::string>& env,
                                               std::string* address);
};

// "CODE_VAULT_ADDR=… ACCOUNT_CREDIT_ADDR=… BILLING_ADDR=… " for a command line
// of a tool that talks to `suite`.
std::string AddressesEnv(const Suite& suite);

// A client context with a deadline and `authorization: Bearer <token>`.
std::unique_ptr<grpc::ClientContext> Context(const std::string& token,
                                             absl::Duration timeout = absl::Seconds(10));

// The ErrorInfo reason of a failed call.
std::string ReasonOf(const grpc::Status& status);

}  // namespace giftcard::testing

#endif  // GIFTCARD_TESTS_SUPPORT_SUITE_H_

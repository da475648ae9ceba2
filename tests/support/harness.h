// Integration-test harness: real service processes on ephemeral loopback
// ports, each test with its own databases in the fixture's Postgres (or a
// private cluster for tests that stop Postgres), clients with bearer tokens.
#ifndef GIFTCARD_TESTS_SUPPORT_HARNESS_H_
#define GIFTCARD_TESTS_SUPPORT_HARNESS_H_

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "giftcard/v1/account_credit.grpc.pb.h"
#include "giftcard/v1/billing.grpc.pb.h"
#include "giftcard/v1/code_vault.grpc.pb.h"

namespace giftcard::testing {

// The fixture's servers (tests/fixtures/servers.sh), from $GIFTCARD_TEST_ENV.
struct TestServers {
  int pg_port = 0;
  int redis_port = 0;
  static const TestServers& Get();
};

// A name unique to this process and call, safe as an id and a database name.
std::string UniqueName(const std::string& prefix);

// A client address no other test (nor an earlier run against the same
// Redis, which keeps counting a client's failed attempts) has used: four
// octets in 198.18.0.0/15, the range set aside for benchmarks.
std::array<int, 4> UniqueIpv4Octets();
std::string UniqueIpv4();

// Creates a fresh database on 127.0.0.1:pg_port and returns its DSN.
std::string CreateDatabase(int pg_port, const std::string& prefix);

// Runs one SQL query on `dsn` and returns the first column of each row.
std::vector<std::string> QueryColumn(const std::string& dsn, const std::string& sql);

// The one value `sql` returns on `dsn`, or "(N rows)" when it returns N != 1
// rows (so a poll never indexes an empty result).
std::string QueryValue(const std::string& dsn, const std::string& sql);

// Matches a result set whose every element equals `value` and that has at
// least one (Each alone passes on none).
inline auto AllEqual(const std::string& value) {
  return ::testing::AllOf(::testing::Not(::testing::IsEmpty()),
                          ::testing::Each(::testing::Eq(value)));
}

// Runs SQL statements on `dsn`: "" when they succeeded, else the error.
std::string ExecSql(const std::string& dsn, const std::string& sql);

// Path of a service binary ("account-credit", "code-vault", "billing").
std::string BinaryOf(const std::string& name);

// A PIN that passes its check symbol but was never issued, formatted.
std::string UnknownPin();

// A child process (a service binary) with its output in a log file.
class Process {
 public:
  Process(const std::string& binary, const std::vector<std::string>& args,
          const std::map<std::string, std::string>& env, const std::string& log_path);
  ~Process();  // SIGKILL if still running.
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void Signal(int sig);
  // The exit code once the process ended within `timeout`; -1 for a signal death.
  std::optional<int> WaitExit(absl::Duration timeout);
  bool Running();
  // How it ended ("exited with code 1", "killed by signal 11 (Segmentation
  // fault)"), or "running".
  std::string HowItEnded();
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  std::string Log() const;
  // The log once the lines the process still buffers are written: what a
  // check for something absent from it (a PIN) must read.
  std::string SettledLog() const;

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
  std::string log_path_;
};

// A private Postgres cluster, for tests that stop and restart it.
class PgCluster {
 public:
  PgCluster();
  ~PgCluster();
  int port() const { return port_; }
  void Stop(const std::string& mode = "fast");
  void Restart();
  // While it lives, the postmaster and every backend are SIGSTOPped: a
  // database that stops answering while its sockets stay open (a stall, not
  // a crash). Thaw() or the end of its scope sends SIGCONT; declare it after
  // anything whose destructor talks to this database.
  class Frozen {
   public:
    explicit Frozen(PgCluster& pg) : pg_(&pg) { pg_->SignalAll("STOP"); }
    ~Frozen() { Thaw(); }
    Frozen(const Frozen&) = delete;
    Frozen& operator=(const Frozen&) = delete;
    void Thaw() {
      if (pg_ != nullptr) pg_->SignalAll("CONT");
      pg_ = nullptr;
    }

   private:
    PgCluster* pg_;
  };

 private:
  void SignalAll(const char* signal);
  std::string dir_;
  int port_ = 0;
};

// A private Redis, for tests that stop and restart it (on the same port).
class RedisServer {
 public:
  RedisServer();
  ~RedisServer();
  int port() const { return port_; }
  // It listens on this Unix socket too.
  std::string socket_path() const { return dir_ + "/redis.sock"; }
  void Stop();
  void Restart();

 private:
  std::string dir_;
  int port_ = 0;
};

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

// Holds a row lock in its own transaction on `dsn` until Release() or
// destruction: `sql` is a SELECT … FOR UPDATE.
class RowLock {
 public:
  RowLock(const std::string& dsn, const std::string& sql);
  ~RowLock();
  void Release();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Backends of the database behind `dsn` waiting for a lock now.
int LockWaiters(const std::string& dsn);

// Polls LockWaiters(dsn) until it is at least `n` or `timeout` passes.
bool WaitForLockWaiters(const std::string& dsn, int n, absl::Duration timeout);

// The value of the unlabelled series `name` in a /metrics scrape, or -1.
double MetricValue(const std::string& scrape, const std::string& name);

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
  // From the suite's client address, or `from_client_ip` when given.
  grpc::Status Redeem(const std::string& code, const std::string& account_id,
                      const std::string& request_id, v1::Redemption* out = nullptr,
                      const std::string& from_client_ip = "");
  grpc::Status GetAccount(const std::string& account_id, v1::Account* out);
  // As support: what support sees of the code with this serial.
  grpc::Status GetCodeStatus(const std::string& serial, v1::CodeStatus* out);
  grpc::Status ApplyCredit(const std::string& invoice_id, const std::string& account_id,
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

// giftcard-gateway in front of a suite's three services, its HTTP API on an
// ephemeral loopback port.
struct GatewayProcess {
  std::unique_ptr<Process> process;
  int http_port = 0;
};
GatewayProcess StartGateway(const Suite& suite, const std::vector<std::string>& args = {});

// One HTTP exchange with a gateway: `token` (if any) as a bearer token.
struct HttpAnswer {
  int status = -1;  // -1: no answer.
  std::string body;
  std::multimap<std::string, std::string> headers;
  std::string Header(const std::string& name) const;
};
HttpAnswer HttpCall(int port, const std::string& method, const std::string& target,
                    const std::string& token, const std::string& body = "",
                    const std::multimap<std::string, std::string>& extra_headers = {});

// GET /metrics of a service started by Suite::StartService (each serves its
// metrics on an ephemeral port written next to its log).
std::string ScrapeMetrics(const Process& service);

// What a command run under /bin/sh printed and how it exited.
struct ShellRun {
  int exit_code = -1;
  std::string out, err;
};

// Runs `command` under /bin/sh with stdout and stderr captured apart.
ShellRun RunCommand(const std::string& command);

// "CODE_VAULT_ADDR=… ACCOUNT_CREDIT_ADDR=… BILLING_ADDR=… " for a command line
// of a tool that talks to `suite`.
std::string AddressesEnv(const Suite& suite);

// A client context with a deadline and `authorization: Bearer <token>`.
std::unique_ptr<grpc::ClientContext> Context(const std::string& token,
                                             absl::Duration timeout = absl::Seconds(10));

// The ErrorInfo reason of a failed call.
std::string ReasonOf(const grpc::Status& status);

// grpc.health.v1 Check of the whole server: "SERVING", "NOT_SERVING" or the error code.
// `service` "" is the whole server (readiness); "giftcard.liveness" stays
// SERVING while the process runs.
std::string HealthOf(const std::string& address, const std::string& service = "");

// Polls `HealthOf(address)` until it equals `want` or `timeout` passes.
bool WaitForHealth(const std::string& address, const std::string& want, absl::Duration timeout);

// WaitForHealth for each of the suite's three services, each failure named.
void ExpectHealthOfAll(const Suite& suite, const std::string& want, absl::Duration timeout);

// Makes throwaway TLS material (deploy/local/certs.sh) in a new directory.
std::string MakeCerts(const std::string& ca_name);

// Path of the fixture script library (deploy/local/servers.sh).
std::string ServersScript();

}  // namespace giftcard::testing

#endif  // GIFTCARD_TESTS_SUPPORT_HARNESS_H_

#include "support/harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "audit/audit.h"
#include "audit/wire.h"
#include "auth/authorizer.h"
#include "codes/codes.h"
#include "config/files.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/client.h"

namespace giftcard::testing {
namespace {

// Missing files (a port file not written yet) read as empty.
std::string ReadFile(const std::string& path) { return config::ReadFile(path).value_or(""); }

std::map<std::string, std::string> ParseEnvFile(const std::string& path) {
  std::map<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(ReadFile(path), '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    out[kv.first] = kv.second;
  }
  return out;
}

std::string LogDir() {
  const std::string dir = absl::StrCat(GIFTCARD_BUILD_DIR, "/test-logs");
  mkdir(dir.c_str(), 0755);
  return dir;
}

std::string RunShell(const std::string& script) {
  FILE* p = popen(script.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[256];
  while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  const int rc = pclose(p);
  if (rc != 0) ADD_FAILURE() << "shell failed (" << rc << "): " << script << "\n" << out;
  return std::string(absl::StripAsciiWhitespace(out));
}

}  // namespace

std::string BinaryOf(const std::string& name) {
  if (name == "account-credit")
    return absl::StrCat(GIFTCARD_BUILD_DIR, "/services/account_credit/account-credit");
  if (name == "code-vault")
    return absl::StrCat(GIFTCARD_BUILD_DIR, "/services/code_vault/code-vault");
  return absl::StrCat(GIFTCARD_BUILD_DIR, "/services/billing/billing");
}

const TestServers& TestServers::Get() {
  static const TestServers* servers = [] {
    auto* s = new TestServers;
    const char* path = std::getenv("GIFTCARD_TEST_ENV");
    if (path == nullptr) {
      std::fprintf(stderr, "GIFTCARD_TEST_ENV is not set: run integration tests through ctest\n");
      std::abort();
    }
    auto env = ParseEnvFile(path);
    if (!absl::SimpleAtoi(env["PG_PORT"], &s->pg_port) ||
        !absl::SimpleAtoi(env["REDIS_PORT"], &s->redis_port)) {
      std::fprintf(stderr, "cannot read the test servers from %s\n", path);
      std::abort();
    }
    return s;
  }();
  return *servers;
}

std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return absl::StrCat(prefix, "_", getpid(), "_", absl::ToUnixMicros(absl::Now()) % 1000000000, "_",
                      counter.fetch_add(1));
}

std::string CreateDatabase(int pg_port, const std::string& prefix) {
  const std::string base = absl::StrCat("host=127.0.0.1 port=", pg_port, " user=postgres");
  const std::string name = UniqueName(prefix);
  pqxx::connection conn(base + " dbname=postgres");
  pqxx::nontransaction tx(conn);
  tx.exec("CREATE DATABASE " + conn.quote_name(name));
  return base + " dbname=" + name;
}

std::vector<std::string> QueryColumn(const std::string& dsn, const std::string& sql) {
  pqxx::connection conn(dsn);
  pqxx::work tx(conn);
  std::vector<std::string> out;
  for (const auto& row : tx.exec(sql)) out.push_back(row[0].is_null() ? "NULL" : row[0].c_str());
  return out;
}

Process::Process(const std::string& binary, const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env, const std::string& log_path)
    : log_path_(log_path) {
  std::vector<std::string> argv_storage = {binary};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) env_storage.push_back(*e);
  for (const auto& [k, v] : env) env_storage.push_back(k + "=" + v);
  pid_ = fork();
  if (pid_ == 0) {
    const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    std::vector<char*> argv, envp;
    for (auto& a : argv_storage) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
    execve(binary.c_str(), argv.data(), envp.data());
    _exit(127);
  }
}

Process::~Process() {
  if (Running()) {
    kill(pid_, SIGKILL);
    WaitExit(absl::Seconds(10));
  }
}

void Process::Signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

bool Process::Running() {
  if (reaped_) return false;
  if (waitpid(pid_, &status_, WNOHANG) == pid_) reaped_ = true;
  return !reaped_;
}

std::optional<int> Process::WaitExit(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (Running()) {
    if (absl::Now() > deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
}

std::string Process::Log() const { return ReadFile(log_path_); }

std::string MakeCerts(const std::string& ca_name) {
  char tmpl[] = "/tmp/giftcard-certs.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  RunShell(
      absl::StrCat("bash ", GIFTCARD_SOURCE_DIR, "/deploy/local/certs.sh ", dir, " ", ca_name));
  return dir;
}

std::string QueryValue(const std::string& dsn, const std::string& sql) {
  const std::vector<std::string> rows = QueryColumn(dsn, sql);
  return rows.size() == 1 ? rows[0] : absl::StrCat("(", rows.size(), " rows)");
}

std::string UnknownPin() { return codes::Format(codes::GeneratePin()); }

std::string ExecSql(const std::string& dsn, const std::string& sql) {
  try {
    pqxx::connection conn(dsn);
    pqxx::nontransaction tx(conn);
    tx.exec(sql);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

void ExpectHealthOfAll(const Suite& suite, const std::string& want, absl::Duration timeout) {
  for (const std::string& address :
       {suite.account_credit_addr, suite.code_vault_addr, suite.billing_addr}) {
    EXPECT_TRUE(WaitForHealth(address, want, timeout)) << address << " never " << want;
  }
}

std::string ServersScript() {
  return absl::StrCat(GIFTCARD_SOURCE_DIR, "/deploy/local/servers.sh");
}

PgCluster::PgCluster() {
  char tmpl[] = "/tmp/giftcard-pgtest.XXXXXX";
  dir_ = mkdtemp(tmpl);
  const std::string out = RunShell(
      absl::StrCat("bash -c 'source ", ServersScript(), " && giftcard_pg_start ", dir_, "' 2>&1"));
  if (!absl::SimpleAtoi(out, &port_)) ADD_FAILURE() << "private postgres did not start: " << out;
}

PgCluster::~PgCluster() {
  Stop("immediate");
  RunShell("rm -rf " + dir_);
}

void PgCluster::Stop(const std::string& mode) {
  RunShell(absl::StrCat("bash -c 'source ", ServersScript(), " && giftcard_pg_stop ", dir_, " ",
                        mode, "'"));
}

void PgCluster::SignalAll(const char* signal) {
  // The postmaster's pid is the first line of postmaster.pid; its children
  // are the backends and auxiliary processes.
  RunShell(absl::StrCat("pid=$(head -1 ", dir_, "/data/postmaster.pid) && kill -", signal,
                        " $pid $(pgrep -P $pid)"));
}

void PgCluster::Restart() {
  RunShell(
      absl::StrCat("bash -c 'source ", ServersScript(), " && giftcard_pg_restart ", dir_, "'"));
}

RedisServer::RedisServer() {
  char tmpl[] = "/tmp/giftcard-redistest.XXXXXX";
  dir_ = mkdtemp(tmpl);
  const std::string out = RunShell(absl::StrCat("bash -c 'source ", ServersScript(),
                                                " && giftcard_redis_start ", dir_, "' 2>&1"));
  if (!absl::SimpleAtoi(out, &port_)) ADD_FAILURE() << "private redis did not start: " << out;
}

RedisServer::~RedisServer() {
  Stop();
  RunShell("rm -rf " + dir_);
}

void RedisServer::Stop() {
  RunShell(
      absl::StrCat("bash -c 'source ", ServersScript(), " && giftcard_redis_stop ", dir_, "'"));
}

void RedisServer::Restart() {
  RunShell(absl::StrCat("bash -c 'source ", ServersScript(), " && GIFTCARD_REDIS_PORT=", port_,
                        " giftcard_redis_start ", dir_, "' >/dev/null"));
}

std::string TestTokensFile() {
  static const std::string* path = [] {
    auto* p = new std::string(absl::StrCat(LogDir(), "/tokens-", getpid()));
    std::ofstream out(*p);
    for (const auto& [principal, token] :
         std::vector<std::pair<std::string, std::string>>{{"storefront", kStorefrontToken},
                                                          {"billing-system", kBillingSystemToken},
                                                          {"admin", kAdminToken},
                                                          {"support", kSupportToken},
                                                          {"code-vault", kCodeVaultToken},
                                                          {"billing", kBillingToken}}) {
      out << principal << " " << auth::TokenHash(token) << "\n";
    }
    return p;
  }();
  return *path;
}

std::unique_ptr<Process> Suite::StartService(const std::string& name,
                                             const std::vector<std::string>& args,
                                             const std::map<std::string, std::string>& env,
                                             std::string* address) {
  const std::string tag = UniqueName(name);
  const std::string port_file = absl::StrCat(LogDir(), "/", tag, ".port");
  std::vector<std::string> all_args = {
      "--listen=127.0.0.1:0",
      "--port_file=" + port_file,
      "--metrics_listen=127.0.0.1:0",
      "--metrics_port_file=" + absl::StrCat(LogDir(), "/", tag, ".metrics-port"),
      "--shutdown_grace=10s",
      "--tokens_file=" + TestTokensFile()};
  all_args.insert(all_args.end(), args.begin(), args.end());
  auto process = std::make_unique<Process>(BinaryOf(name), all_args, env,
                                           absl::StrCat(LogDir(), "/", tag, ".log"));
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  int port = 0;
  while (absl::Now() < deadline && process->Running()) {
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(port_file)), &port) && port > 0) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  if (port <= 0) {
    ADD_FAILURE() << name << " did not start; log:\n" << process->Log();
  }
  *address = absl::StrCat("127.0.0.1:", port);
  return process;
}

Suite::Suite(SuiteOptions options) {
  // The fixture's Redis counts failed attempts per client address across
  // every test of the run: each suite is its own client.
  static std::atomic<int> suites{0};
  const int n = suites.fetch_add(1);
  client_ip =
      absl::StrCat("127.", getpid() % 250 + 1, ".", (getpid() / 250) % 250 + 1, ".", n % 250 + 1);
  const int pg_port = options.pg_port != 0 ? options.pg_port : TestServers::Get().pg_port;
  account_credit_dsn = CreateDatabase(pg_port, "account_credit");
  code_vault_dsn = CreateDatabase(pg_port, "code_vault");
  billing_dsn = CreateDatabase(pg_port, "billing");

  const std::string& tls = options.tls_dir;
  // With TLS, every service serves mutual TLS; peers present their own certificates.
  auto with_tls = [&](std::vector<std::string> args) {
    if (!tls.empty()) {
      args.push_back("--tls_cert_file=" + tls + "/server.crt");
      args.push_back("--tls_key_file=" + tls + "/server.key");
      args.push_back("--tls_client_ca_file=" + tls + "/ca.crt");
    }
    return args;
  };
  auto peer = [&](const std::string& self, const std::string& token) {
    std::map<std::string, std::string> env = {
        {"GIFTCARD_ACCOUNT_CREDIT_ADDRESS", account_credit_addr}};
    if (tls.empty()) {
      env["GIFTCARD_ACCOUNT_CREDIT_TOKEN"] = token;
    } else {
      env["GIFTCARD_PEER_TLS_CA"] = tls + "/ca.crt";
      env["GIFTCARD_PEER_TLS_CERT"] = tls + "/" + self + ".crt";
      env["GIFTCARD_PEER_TLS_KEY"] = tls + "/" + self + ".key";
    }
    return env;
  };
  account_credit = StartService("account-credit", with_tls(options.account_credit_args),
                                {{"GIFTCARD_PG_DSN", account_credit_dsn}}, &account_credit_addr);
  auto vault_env = peer("code-vault", kCodeVaultToken);
  vault_env["GIFTCARD_PG_DSN"] = code_vault_dsn;
  vault_env["GIFTCARD_PEPPER_KEYS"] = kTestPepper;
  vault_env["GIFTCARD_REDIS_ADDRESS"] = absl::StrCat(
      "127.0.0.1:", options.redis_port != 0 ? options.redis_port : TestServers::Get().redis_port);
  code_vault =
      StartService("code-vault", with_tls(options.code_vault_args), vault_env, &code_vault_addr);
  auto billing_env = peer("billing", kBillingToken);
  billing_env["GIFTCARD_PG_DSN"] = billing_dsn;
  billing = StartService("billing", with_tls(options.billing_args), billing_env, &billing_addr);
  const server::ClientTls client_tls =
      tls.empty() ? server::ClientTls{}
                  : server::ClientTls{tls + "/ca.crt", tls + "/tools.crt", tls + "/tools.key"};
  credit_stub = v1::AccountCredit::NewStub(server::MakeChannel(account_credit_addr, client_tls));
  vault_stub = v1::CodeVault::NewStub(server::MakeChannel(code_vault_addr, client_tls));
  billing_stub = v1::Billing::NewStub(server::MakeChannel(billing_addr, client_tls));
}

grpc::Status Suite::UpsertAccount(const std::string& account_id, const std::string& country,
                                  const std::string& currency, v1::BillingChannel channel,
                                  v1::Account* out) {
  v1::UpsertAccountRequest request;
  request.mutable_account()->set_account_id(account_id);
  request.mutable_account()->set_country(country);
  request.mutable_account()->set_currency_code(currency);
  request.mutable_account()->set_billing_channel(channel);
  v1::Account account;
  return credit_stub->UpsertAccount(Context(kStorefrontToken).get(), request,
                                    out != nullptr ? out : &account);
}

std::vector<v1::IssuedCode> Suite::IssueActiveCodes(int count, int64_t amount_minor,
                                                    const std::string& currency,
                                                    const std::string& region) {
  v1::IssueCodesRequest issue;
  issue.set_count(count);
  issue.mutable_amount()->set_currency_code(currency);
  issue.mutable_amount()->set_amount_minor(amount_minor);
  issue.set_region(region);
  issue.set_request_id(UniqueName("batch"));
  std::vector<v1::IssuedCode> codes;
  auto ctx = Context(kAdminToken);
  auto reader = vault_stub->IssueCodes(ctx.get(), issue);
  v1::IssuedCode code;
  while (reader->Read(&code)) codes.push_back(code);
  grpc::Status s = reader->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
  if (codes.empty()) return codes;
  v1::ActivateCodesRequest activate;
  activate.set_batch_id(codes[0].batch_id());
  activate.set_request_id(UniqueName("activate"));
  v1::ActivateCodesResponse activated;
  s = vault_stub->ActivateCodes(Context(kAdminToken).get(), activate, &activated);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(activated.activated_count(), count);
  return codes;
}

grpc::Status Suite::Redeem(const std::string& code, const std::string& account_id,
                           const std::string& request_id, v1::Redemption* out) {
  v1::RedeemCodeRequest request;
  request.set_code(code);
  request.set_account_id(account_id);
  request.set_request_id(request_id);
  request.set_client_ip(client_ip);
  v1::Redemption redemption;
  return vault_stub->RedeemCode(Context(kStorefrontToken).get(), request,
                                out != nullptr ? out : &redemption);
}

grpc::Status Suite::GetAccount(const std::string& account_id, v1::Account* out) {
  v1::GetAccountRequest request;
  request.set_account_id(account_id);
  return credit_stub->GetAccount(Context(kStorefrontToken).get(), request, out);
}

grpc::Status Suite::ApplyCredit(const std::string& invoice_id, const std::string& account_id,
                                int64_t amount_due_minor, const std::string& currency,
                                v1::CreditApplication* out) {
  v1::ApplyCreditRequest request;
  request.set_invoice_id(invoice_id);
  request.set_account_id(account_id);
  request.mutable_amount_due()->set_currency_code(currency);
  request.mutable_amount_due()->set_amount_minor(amount_due_minor);
  return billing_stub->ApplyCredit(Context(kBillingSystemToken).get(), request, out);
}

grpc::Status Suite::ReverseCredit(const std::string& invoice_id, v1::CreditApplication* out) {
  v1::ReverseCreditRequest request;
  request.set_invoice_id(invoice_id);
  request.set_reason("refund");
  return billing_stub->ReverseCredit(Context(kBillingSystemToken).get(), request, out);
}

std::string Suite::ContentsDigest() {
  std::vector<std::string> digests;
  for (const auto& [db, dsn] :
       std::vector<std::pair<std::string, std::string>>{{"account_credit", account_credit_dsn},
                                                        {"code_vault", code_vault_dsn},
                                                        {"billing", billing_dsn}}) {
    const std::vector<std::string> tables =
        QueryColumn(dsn, "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
    EXPECT_FALSE(tables.empty()) << db;
    for (const auto& table : tables) {
      digests.push_back(absl::StrCat(
          db, ".", table, "=",
          QueryColumn(dsn, absl::StrCat("SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY "
                                        "x::text), '')) FROM ",
                                        table, " x"))
              .at(0)));
    }
  }
  return absl::StrJoin(digests, " ");
}

std::vector<std::string> AllTestPrincipals() {
  return {"storefront", "billing-system", "admin", "support", "code-vault", "billing"};
}

std::string WriteTokensFile(const std::string& path, const std::vector<std::string>& principals) {
  const std::map<std::string, std::string> tokens = {
      {"storefront", kStorefrontToken}, {"billing-system", kBillingSystemToken},
      {"admin", kAdminToken},           {"support", kSupportToken},
      {"code-vault", kCodeVaultToken},  {"billing", kBillingToken}};
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    for (const auto& p : principals) out << p << " " << auth::TokenHash(tokens.at(p)) << "\n";
  }
  std::rename(tmp.c_str(), path.c_str());  // A reloading service never sees half a file.
  return path;
}

std::string TempPath(const std::string& prefix) {
  return absl::StrCat(LogDir(), "/", UniqueName(prefix));
}

struct RowLock::Impl {
  pqxx::connection conn;
  std::unique_ptr<pqxx::work> tx;
  explicit Impl(const std::string& dsn) : conn(dsn) {}
};

RowLock::RowLock(const std::string& dsn, const std::string& sql)
    : impl_(std::make_unique<Impl>(dsn)) {
  impl_->tx = std::make_unique<pqxx::work>(impl_->conn);
  const pqxx::result locked = impl_->tx->exec(sql);
  EXPECT_FALSE(locked.empty()) << "nothing locked by " << sql;
}

RowLock::~RowLock() { Release(); }

void RowLock::Release() {
  if (impl_->tx) {
    impl_->tx->abort();
    impl_->tx.reset();
  }
}

int LockWaiters(const std::string& dsn) {
  return std::stoi(QueryColumn(dsn,
                               "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                               "current_database() AND wait_event_type = 'Lock'")
                       .at(0));
}

bool WaitForLockWaiters(const std::string& dsn, int n, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (LockWaiters(dsn) >= n) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return LockWaiters(dsn) >= n;
}

double MetricValue(const std::string& scrape, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(scrape, '\n')) {
    if (!absl::ConsumePrefix(&line, name) || !absl::ConsumePrefix(&line, " ")) continue;
    double value = 0;
    if (absl::SimpleAtod(line, &value)) return value;
  }
  return -1;
}

std::string Suite::AuditReport() {
  // Over the services' ExportAuditFacts, as the admin: never their tables.
  auto violations = audit::AuditOverRpc({vault_stub.get(), billing_stub.get(), credit_stub.get(),
                                         [] { return Context(kAdminToken, absl::Minutes(2)); }});
  if (!violations.ok()) return "audit failed: " + violations.status().ToString();
  return audit::Format(*violations);
}

std::unique_ptr<grpc::ClientContext> Context(const std::string& token, absl::Duration timeout) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  server::PrepareContext(*ctx, token, timeout);
  return ctx;
}

std::string ReasonOf(const grpc::Status& status) {
  return errors::ReasonOf(errors::FromGrpcStatus(status));
}

std::string ScrapeMetrics(const Process& service) {
  const std::string port_file =
      absl::StrCat(absl::StripSuffix(service.log_path(), ".log"), ".metrics-port");
  int port = 0;
  for (int i = 0; i < 250 && port <= 0; ++i) {
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(port_file)), &port)) {
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  if (port <= 0) {
    ADD_FAILURE() << "no metrics port in " << port_file;
    return "";
  }
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  auto response = client.Get("/metrics");
  if (!response || response->status != 200) {
    ADD_FAILURE() << "GET /metrics on port " << port << " failed";
    return "";
  }
  return response->body;
}

ShellRun RunCommand(const std::string& command) {
  char err_path[] = "/tmp/giftcard-shell-err-XXXXXX";
  const int err_fd = mkstemp(err_path);
  ShellRun run;
  FILE* pipe = popen(absl::StrCat("(", command, ") 2>", err_path).c_str(), "r");
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) run.out.append(buffer, n);
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.err = ReadFile(err_path);
  close(err_fd);
  unlink(err_path);
  return run;
}

std::string AddressesEnv(const Suite& suite) {
  return absl::StrCat("CODE_VAULT_ADDR=", suite.code_vault_addr,
                      " ACCOUNT_CREDIT_ADDR=", suite.account_credit_addr,
                      " BILLING_ADDR=", suite.billing_addr, " ");
}

std::string HealthOf(const std::string& address, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(server::MakeChannel(address));
  grpc::health::v1::HealthCheckResponse response;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::Status s = stub->Check(Context("", absl::Seconds(2)).get(), request, &response);
  if (!s.ok()) return absl::StrCat("error ", s.error_code());
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

bool WaitForHealth(const std::string& address, const std::string& want, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (HealthOf(address) == want) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return HealthOf(address) == want;
}

}  // namespace giftcard::testing

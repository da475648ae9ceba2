// Test harness: The three services as a suite, their callers' tokens and stubs.
#include "support/suite.h"

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
#include <map>
#include <memory>
#include <pqxx/pqxx>
#include <sstream>

#include "absl/random/random.h"
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
#include "support/harness_internal.h"

namespace giftcard::testing {

using internal::LogDir;
using internal::ParseEnvFile;
using internal::ReadFile;
using internal::RunShell;

std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return absl::StrCat(prefix, "_", getpid(), "_", absl::ToUnixMicros(absl::Now()) % 1000000000, "_",
                      counter.fetch_add(1));
}

std::array<int, 4> UniqueIpv4Octets() {
  // A random start per process (runs against the same Redis differ), then
  // consecutive hosts (calls in this process never repeat one).
  constexpr uint32_t kHosts = 1u << 17;  // 198.18.0.0/15
  static const uint32_t start = absl::Uniform<uint32_t>(absl::BitGen(), 0, kHosts);
  static std::atomic<uint32_t> next{0};
  const uint32_t host = (start + next.fetch_add(1)) % kHosts;
  return {198, 18 + static_cast<int>(host >> 16), static_cast<int>((host >> 8) & 0xff),
          static_cast<int>(host & 0xff)};
}

std::string UniqueIpv4() { return absl::StrJoin(UniqueIpv4Octets(), "."); }

std::string UnknownPin() { return codes::Format(codes::GeneratePin()); }

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
    ADD_FAILURE() << name << " did not start (" << process->HowItEnded() << "); log:\n"
                  << process->Log();
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
  auto database = [&](const std::string& given, const std::string& prefix) {
    if (!given.empty()) return given;
    return CreateDatabase(options.pg_port != 0 ? options.pg_port : TestServers::Get().pg_port,
                          prefix);
  };
  account_credit_dsn = database(options.account_credit_dsn, "account_credit");
  code_vault_dsn = database(options.code_vault_dsn, "code_vault");
  billing_dsn = database(options.billing_dsn, "billing");

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
  if (!options.redis_sentinels.empty()) {
    vault_env["GIFTCARD_REDIS_SENTINELS"] = options.redis_sentinels;
  } else {
    vault_env["GIFTCARD_REDIS_ADDRESS"] = absl::StrCat(
        "127.0.0.1:", options.redis_port != 0 ? options.redis_port : TestServers::Get().redis_port);
  }
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

std::vector<v1::IssuedCode> Suite::IssueCodes(int count, int64_t amount_minor,
                                              const std::string& currency,
                                              const std::string& region,
                                              const std::string& request_id) {
  v1::IssueCodesRequest issue;
  issue.set_count(count);
  issue.mutable_amount()->set_currency_code(currency);
  issue.mutable_amount()->set_amount_minor(amount_minor);
  issue.set_region(region);
  issue.set_request_id(request_id.empty() ? UniqueName("batch") : request_id);
  std::vector<v1::IssuedCode> codes;
  auto ctx = Context(kAdminToken);
  auto reader = vault_stub->IssueCodes(ctx.get(), issue);
  v1::IssuedCode code;
  while (reader->Read(&code)) codes.push_back(code);
  grpc::Status s = reader->Finish();
  EXPECT_TRUE(s.ok()) << s.error_message();
  return codes;
}

std::vector<v1::IssuedCode> Suite::IssueActiveCodes(int count, int64_t amount_minor,
                                                    const std::string& currency,
                                                    const std::string& region) {
  std::vector<v1::IssuedCode> codes = IssueCodes(count, amount_minor, currency, region);
  if (codes.empty()) return codes;
  v1::ActivateCodesRequest activate;
  activate.set_batch_id(codes[0].batch_id());
  activate.set_request_id(UniqueName("activate"));
  v1::ActivateCodesResponse activated;
  grpc::Status s = vault_stub->ActivateCodes(Context(kAdminToken).get(), activate, &activated);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(activated.activated_count(), count);
  return codes;
}

std::string Suite::FundedAccount(int64_t amount_minor) {
  const std::string account = UniqueName("acct");
  EXPECT_TRUE(UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = IssueActiveCodes(1, amount_minor, "EUR", "DE");
  EXPECT_EQ(codes.size(), 1u);
  if (!codes.empty()) {
    EXPECT_TRUE(Redeem(codes[0].code(), account, "fund").ok());
  }
  return account;
}

namespace {

// Polls `count_sql` on `dsn` until it reads "1", at most 5 s: an answer given
// before its last write commits (the vault's completion, billing's mark)
// is then settled in the database for the test's next read. Each thread
// keeps its connection to each database between calls: a failover test
// checks a thousand answers, and a new connection to a Patroni cluster
// costs a backend per node tried (a connection each made that test time
// out).
void WaitUntilSettled(const std::string& dsn, const std::string& count_sql) {
  thread_local std::map<std::string, std::unique_ptr<pqxx::connection>> connections;
  std::unique_ptr<pqxx::connection>& conn = connections[dsn];
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline) {
    const bool fresh = conn == nullptr;
    try {
      if (fresh) conn = std::make_unique<pqxx::connection>(dsn);
      pqxx::nontransaction tx(*conn);
      if (tx.exec1(count_sql)[0].as<std::string>() == "1") return;
    } catch (const std::exception&) {
      conn.reset();
      // A kept connection may have outlived its server (a restart, a
      // failover): connect again. A new one failing means the database
      // is down in this test; nothing to wait for.
      if (fresh) return;
      continue;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

}  // namespace

grpc::Status Suite::Redeem(const std::string& code, const std::string& account_id,
                           const std::string& request_id, v1::Redemption* out,
                           const std::string& from_client_ip) {
  v1::Redemption redemption;
  grpc::Status s = RedeemAnswer(code, account_id, request_id, &redemption, from_client_ip);
  if (out != nullptr) *out = redemption;
  if (!s.ok() || redemption.state() != v1::REDEMPTION_STATE_COMPLETED) return s;
  WaitUntilSettled(code_vault_dsn,
                   absl::StrCat("SELECT count(*) FROM redemptions WHERE redemption_id = '",
                                redemption.redemption_id(), "' AND state = 'COMPLETED'"));
  return s;
}

grpc::Status Suite::RedeemAnswer(const std::string& code, const std::string& account_id,
                                 const std::string& request_id, v1::Redemption* out,
                                 const std::string& from_client_ip) {
  v1::RedeemCodeRequest request;
  request.set_code(code);
  request.set_account_id(account_id);
  request.set_request_id(request_id);
  request.set_client_ip(from_client_ip.empty() ? client_ip : from_client_ip);
  v1::Redemption redemption;
  return vault_stub->RedeemCode(Context(kStorefrontToken).get(), request,
                                out != nullptr ? out : &redemption);
}

grpc::Status Suite::GetAccount(const std::string& account_id, v1::Account* out) {
  v1::GetAccountRequest request;
  request.set_account_id(account_id);
  return credit_stub->GetAccount(Context(kStorefrontToken).get(), request, out);
}

grpc::Status Suite::GetCodeStatus(const std::string& serial, v1::CodeStatus* out) {
  v1::GetCodeStatusRequest request;
  request.set_serial(serial);
  return vault_stub->GetCodeStatus(Context(kSupportToken).get(), request, out);
}

grpc::Status Suite::ApplyCredit(const std::string& invoice_id, const std::string& account_id,
                                int64_t amount_due_minor, const std::string& currency,
                                v1::CreditApplication* out) {
  v1::CreditApplication app;
  grpc::Status s = ApplyCreditAnswer(invoice_id, account_id, amount_due_minor, currency, &app);
  if (out != nullptr) *out = app;
  if (!s.ok() || app.state() != v1::CREDIT_APPLICATION_STATE_APPLIED) return s;
  WaitUntilSettled(billing_dsn,
                   absl::StrCat("SELECT count(*) FROM credit_applications WHERE invoice_id = '",
                                invoice_id, "' AND state <> 'PENDING'"));
  return s;
}

grpc::Status Suite::ApplyCreditAnswer(const std::string& invoice_id, const std::string& account_id,
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

void Suite::RestartAccountCredit(const std::vector<std::string>& args) {
  account_credit->Signal(SIGKILL);
  account_credit->WaitExit(absl::Seconds(10));
  std::vector<std::string> all = {"--listen=" + account_credit_addr};
  all.insert(all.end(), args.begin(), args.end());
  std::string address;
  account_credit =
      StartService("account-credit", all, {{"GIFTCARD_PG_DSN", account_credit_dsn}}, &address);
  EXPECT_EQ(address, account_credit_addr) << "account-credit came back on another address";
  credit_stub = v1::AccountCredit::NewStub(server::MakeChannel(address));
}

std::string Suite::ContentsDigest() {
  const std::vector<std::pair<std::string, std::string>> databases = {
      {"account_credit", account_credit_dsn},
      {"code_vault", code_vault_dsn},
      {"billing", billing_dsn}};
  std::vector<std::string> digests;
  for (const auto& [db, dsn] : databases) {
    // One connection per database, and every table's digest in one query:
    // tests take this digest around every refused call.
    pqxx::connection conn(dsn);
    pqxx::nontransaction tx(conn);
    // The outbox relay moves events on its own schedule: let it drain what
    // earlier calls wrote, so only a change made since shows.
    const absl::Time give_up = absl::Now() + absl::Seconds(10);
    while (tx.exec1("SELECT count(*) FROM event_outbox")[0].as<int64_t>() != 0 &&
           absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    std::vector<std::string> parts;
    for (const auto& row :
         tx.exec("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")) {
      const std::string table = row[0].as<std::string>();
      parts.push_back(absl::StrCat("SELECT ", tx.quote(absl::StrCat(db, ".", table, "=")),
                                   " || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), "
                                   "'')) FROM ",
                                   tx.quote_name(table), " x"));
    }
    EXPECT_FALSE(parts.empty()) << db;
    if (parts.empty()) continue;
    for (const auto& row : tx.exec(absl::StrJoin(parts, " UNION ALL "))) {
      digests.push_back(row[0].as<std::string>());
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

std::string AddressesEnv(const Suite& suite) {
  return absl::StrCat("CODE_VAULT_ADDR=", suite.code_vault_addr,
                      " ACCOUNT_CREDIT_ADDR=", suite.account_credit_addr,
                      " BILLING_ADDR=", suite.billing_addr, " ");
}

}  // namespace giftcard::testing

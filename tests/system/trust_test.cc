// Callers and trust: every RPC as every principal, as no one and with a
// wrong token; mutual TLS with the right, a foreign and no certificate.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "auth/permissions.h"
#include "server/client.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::AnyOf;

// Valid, state-changing requests where the method changes state, so a
// refused caller that got through would show in the row counts.
class Caller {
 public:
  Caller(Suite& suite, std::string account, std::vector<v1::IssuedCode> codes)
      : suite_(suite), account_(std::move(account)), codes_(std::move(codes)) {}

  grpc::Status Call(const std::string& method, const std::string& token) {
    const std::string id = absl::StrCat("matrix-", ++n_);
    auto ctx = Context(token);
    const std::string name = method.substr(method.rfind('/') + 1);
    if (name == "ExportAuditFacts") {
      v1::ExportAuditFactsRequest r;
      if (absl::StartsWith(method, "/giftcard.v1.CodeVault/")) {
        return Drain<v1::VaultAuditFacts>(suite_.vault_stub->ExportAuditFacts(ctx.get(), r));
      }
      if (absl::StartsWith(method, "/giftcard.v1.AccountCredit/")) {
        return Drain<v1::LedgerAuditFacts>(suite_.credit_stub->ExportAuditFacts(ctx.get(), r));
      }
      return Drain<v1::BillingAuditFacts>(suite_.billing_stub->ExportAuditFacts(ctx.get(), r));
    }
    if (name == "WatchEvents") {
      v1::WatchEventsRequest r;
      r.set_stop_when_caught_up(true);
      if (absl::StartsWith(method, "/giftcard.v1.CodeVault/")) {
        return Drain<v1::Event>(suite_.vault_stub->WatchEvents(ctx.get(), r));
      }
      if (absl::StartsWith(method, "/giftcard.v1.AccountCredit/")) {
        return Drain<v1::Event>(suite_.credit_stub->WatchEvents(ctx.get(), r));
      }
      return Drain<v1::Event>(suite_.billing_stub->WatchEvents(ctx.get(), r));
    }
    if (name == "RedeemCode") {
      v1::RedeemCodeRequest r;
      r.set_code(codes_.at(n_ % codes_.size()).code());
      r.set_account_id(account_);
      r.set_request_id(id);
      v1::Redemption out;
      return suite_.vault_stub->RedeemCode(ctx.get(), r, &out);
    }
    if (name == "CheckCode") {
      v1::CheckCodeRequest r;
      r.set_code(codes_.at(0).code());
      r.set_client_ip("192.0.2.1");
      v1::CodeCheck out;
      return suite_.vault_stub->CheckCode(ctx.get(), r, &out);
    }
    if (name == "GetCodeStatus") {
      v1::GetCodeStatusRequest r;
      r.set_serial(codes_.at(0).serial());
      v1::CodeStatus out;
      return suite_.vault_stub->GetCodeStatus(ctx.get(), r, &out);
    }
    if (name == "IssueCodes") {
      v1::IssueCodesRequest r;
      r.set_count(1);
      r.mutable_amount()->set_currency_code("EUR");
      r.mutable_amount()->set_amount_minor(100);
      r.set_region("DE");
      r.set_request_id(id);
      return Drain<v1::IssuedCode>(suite_.vault_stub->IssueCodes(ctx.get(), r));
    }
    if (name == "ActivateCodes" || name == "VoidCodes") {
      if (name == "ActivateCodes") {
        v1::ActivateCodesRequest r;
        r.set_batch_id(codes_.at(0).batch_id());
        r.set_request_id(id);
        v1::ActivateCodesResponse out;
        return suite_.vault_stub->ActivateCodes(ctx.get(), r, &out);
      }
      v1::VoidCodesRequest r;
      r.add_serials(codes_.back().serial());
      r.set_reason("matrix");
      r.set_request_id(id);
      v1::VoidCodesResponse out;
      return suite_.vault_stub->VoidCodes(ctx.get(), r, &out);
    }
    if (name == "BlockCodes") {
      v1::BlockCodesRequest r;
      r.add_serials(codes_.back().serial());
      r.set_reason("matrix");
      r.set_request_id(id);
      v1::BlockCodesResponse out;
      return suite_.vault_stub->BlockCodes(ctx.get(), r, &out);
    }
    if (name == "UnblockCodes") {
      v1::UnblockCodesRequest r;
      r.add_serials(codes_.back().serial());
      r.set_reason("matrix");
      r.set_request_id(id);
      v1::UnblockCodesResponse out;
      return suite_.vault_stub->UnblockCodes(ctx.get(), r, &out);
    }
    if (name == "ReverseRedemption") {
      v1::ReverseRedemptionRequest r;
      r.set_serial(codes_.at(0).serial());  // Redeemed by the test's seed.
      r.set_reason("matrix");
      r.set_request_id(id);
      r.set_then_state(v1::CODE_STATE_BLOCKED);
      v1::Clawback out;
      return suite_.vault_stub->ReverseRedemption(ctx.get(), r, &out);
    }
    if (name == "ListCodeChanges") {
      v1::ListCodeChangesRequest r;
      r.set_serial(codes_.at(0).serial());
      v1::ListCodeChangesResponse out;
      return suite_.vault_stub->ListCodeChanges(ctx.get(), r, &out);
    }
    if (name == "GetCodeLiability") {
      v1::CodeLiability out;
      return suite_.vault_stub->GetCodeLiability(ctx.get(), v1::GetCodeLiabilityRequest(), &out);
    }
    if (name == "GetBreakageReport") {
      v1::BreakageReport out;
      return suite_.vault_stub->GetBreakageReport(ctx.get(), v1::GetBreakageReportRequest(), &out);
    }
    if (name == "GetCreditLiability") {
      v1::CreditLiability out;
      return suite_.credit_stub->GetCreditLiability(ctx.get(), v1::GetCreditLiabilityRequest(),
                                                    &out);
    }
    if (name == "ListDormantAccounts") {
      v1::ListDormantAccountsRequest r;
      r.set_days(30);
      v1::ListDormantAccountsResponse out;
      return suite_.credit_stub->ListDormantAccounts(ctx.get(), r, &out);
    }
    if (name == "ListCodes") {
      v1::ListCodesRequest r;
      r.set_batch_id(codes_.at(0).batch_id());
      v1::ListCodesResponse out;
      return suite_.vault_stub->ListCodes(ctx.get(), r, &out);
    }
    if (name == "GetCaller") {
      v1::Caller out;
      return suite_.vault_stub->GetCaller(ctx.get(), v1::GetCallerRequest(), &out);
    }
    if (name == "ListBatches") {
      v1::ListBatchesRequest r;
      v1::ListBatchesResponse out;
      return suite_.vault_stub->ListBatches(ctx.get(), r, &out);
    }
    if (name == "UpsertAccount") {
      v1::UpsertAccountRequest r;
      r.mutable_account()->set_account_id(id);
      r.mutable_account()->set_country("DE");
      r.mutable_account()->set_currency_code("EUR");
      r.mutable_account()->set_billing_channel(v1::BILLING_CHANNEL_DIRECT);
      v1::Account out;
      return suite_.credit_stub->UpsertAccount(ctx.get(), r, &out);
    }
    if (name == "GetAccount") {
      v1::GetAccountRequest r;
      r.set_account_id(account_);
      v1::Account out;
      return suite_.credit_stub->GetAccount(ctx.get(), r, &out);
    }
    if (name == "CreditAccount") {
      v1::CreditAccountRequest r;
      r.set_account_id(account_);
      r.mutable_amount()->set_currency_code("EUR");
      r.mutable_amount()->set_amount_minor(100);
      r.set_code_region("DE");
      r.set_request_id(id);
      v1::Transfer out;
      return suite_.credit_stub->CreditAccount(ctx.get(), r, &out);
    }
    if (name == "DebitAccount") {
      v1::DebitAccountRequest r;
      r.set_account_id(account_);
      r.mutable_max_amount()->set_currency_code("EUR");
      r.mutable_max_amount()->set_amount_minor(1);
      r.set_allow_partial(true);
      r.set_request_id(id);
      v1::Transfer out;
      return suite_.credit_stub->DebitAccount(ctx.get(), r, &out);
    }
    if (name == "BatchCreditAccounts") {
      v1::BatchCreditAccountsRequest r;
      v1::CreditAccountRequest* item = r.add_requests();
      item->set_account_id(account_);
      item->mutable_amount()->set_currency_code("EUR");
      item->mutable_amount()->set_amount_minor(100);
      item->set_code_region("DE");
      item->set_request_id(id);
      v1::BatchCreditAccountsResponse out;
      return suite_.credit_stub->BatchCreditAccounts(ctx.get(), r, &out);
    }
    if (name == "BatchDebitAccounts") {
      v1::BatchDebitAccountsRequest r;
      v1::DebitAccountRequest* item = r.add_requests();
      item->set_account_id(account_);
      item->mutable_max_amount()->set_currency_code("EUR");
      item->mutable_max_amount()->set_amount_minor(1);
      item->set_allow_partial(true);
      item->set_request_id(id);
      v1::BatchDebitAccountsResponse out;
      return suite_.credit_stub->BatchDebitAccounts(ctx.get(), r, &out);
    }
    if (name == "ReverseTransfer") {
      v1::ReverseTransferRequest r;
      r.set_transfer_id(
          QueryColumn(suite_.account_credit_dsn,
                      "SELECT transfer_id FROM transfers ORDER BY create_time LIMIT 1")
              .at(0));
      r.set_request_id(id);
      v1::Transfer out;
      return suite_.credit_stub->ReverseTransfer(ctx.get(), r, &out);
    }
    if (name == "ClawBackCredit") {
      v1::ClawBackCreditRequest r;
      r.set_transfer_id(QueryColumn(suite_.account_credit_dsn,
                                    "SELECT transfer_id FROM transfers WHERE kind = 'CREDIT' "
                                    "ORDER BY create_time LIMIT 1")
                            .at(0));
      r.set_request_id(id);
      v1::Transfer out;
      return suite_.credit_stub->ClawBackCredit(ctx.get(), r, &out);
    }
    if (name == "ListLedgerEntries") {
      v1::ListLedgerEntriesRequest r;
      r.set_account_id(account_);
      v1::ListLedgerEntriesResponse out;
      return suite_.credit_stub->ListLedgerEntries(ctx.get(), r, &out);
    }
    if (name == "ApplyCredit") {
      v1::ApplyCreditRequest r;
      r.set_invoice_id(id);
      r.set_account_id(account_);
      r.mutable_amount_due()->set_currency_code("EUR");
      r.mutable_amount_due()->set_amount_minor(1);
      v1::CreditApplication out;
      return suite_.billing_stub->ApplyCredit(ctx.get(), r, &out);
    }
    if (name == "ReverseCredit") {
      v1::ReverseCreditRequest r;
      r.set_invoice_id("matrix-invoice");
      v1::CreditApplication out;
      return suite_.billing_stub->ReverseCredit(ctx.get(), r, &out);
    }
    if (name == "GetCreditApplication") {
      v1::GetCreditApplicationRequest r;
      r.set_invoice_id("matrix-invoice");
      v1::CreditApplication out;
      return suite_.billing_stub->GetCreditApplication(ctx.get(), r, &out);
    }
    ADD_FAILURE() << "no call for " << method;
    return grpc::Status::CANCELLED;
  }

 private:
  template <typename Message>
  static grpc::Status Drain(std::unique_ptr<grpc::ClientReader<Message>> reader) {
    Message message;
    while (reader->Read(&message)) {
    }
    return reader->Finish();
  }

  Suite& suite_;
  const std::string account_;
  const std::vector<v1::IssuedCode> codes_;
  int n_ = 0;
};

std::string TokenOf(const std::string& principal) {
  if (principal == "storefront") return kStorefrontToken;
  if (principal == "billing-system") return kBillingSystemToken;
  if (principal == "admin") return kAdminToken;
  if (principal == "support") return kSupportToken;
  if (principal == "code-vault") return kCodeVaultToken;
  return kBillingToken;
}

TEST(TrustTest, EveryRpcAsEveryCallerOnlyTheAllowedCellsGetThrough) {
  Suite suite;
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(40, 5000, "EUR", "DE");
  ASSERT_EQ(codes.size(), 40u);
  ASSERT_TRUE(suite.Redeem(codes[0].code(), account, "seed").ok());
  v1::CreditApplication app;
  ASSERT_TRUE(suite.ApplyCredit("matrix-invoice", account, 100, "EUR", &app).ok());
  Caller caller(suite, account, codes);

  int allowed_cells = 0;
  for (const std::string& method : auth::AllMethods()) {
    // Refused callers first: nothing may change.
    const std::string before = suite.ContentsDigest();
    for (const std::string& token : {std::string(""), std::string("not-a-token")}) {
      grpc::Status s = caller.Call(method, token);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << method << " as '" << token << "'";
      EXPECT_EQ(ReasonOf(s), "CALLER_UNKNOWN") << method;
    }
    for (const std::string& principal : auth::AllPrincipals()) {
      if (auth::Allowed(principal, method)) continue;
      grpc::Status s = caller.Call(method, TokenOf(principal));
      EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
          << method << " as " << principal;
      EXPECT_EQ(ReasonOf(s), "METHOD_NOT_ALLOWED") << method << " as " << principal;
      // The refusal says what was refused and who may call it.
      EXPECT_NE(s.error_message().find(method), std::string::npos) << s.error_message();
      const std::vector<std::string> allowed = auth::PrincipalsAllowed(method);
      ASSERT_FALSE(allowed.empty()) << method;
      EXPECT_NE(s.error_message().find("it is for: " + absl::StrJoin(allowed, ", ")),
                std::string::npos)
          << s.error_message();
    }
    EXPECT_EQ(suite.ContentsDigest(), before)
        << "a refused call to " << method << " changed something";
    // Then the allowed ones get past authorization.
    for (const std::string& principal : auth::AllPrincipals()) {
      if (!auth::Allowed(principal, method)) continue;
      ++allowed_cells;
      grpc::Status s = caller.Call(method, TokenOf(principal));
      EXPECT_THAT(s.error_code(), ::testing::Not(AnyOf(grpc::StatusCode::UNAUTHENTICATED,
                                                       grpc::StatusCode::PERMISSION_DENIED)))
          << method << " as " << principal << ": " << s.error_message();
    }
  }
  // The cells of DESIGN.md's permissions table, plus the admin's three
  // ExportAuditFacts, ListBatches for admin and support, and the batch forms
  // of CreditAccount and DebitAccount for their services (docs/decisions.md),
  // the clawback's two calls (admin → vault → account-credit), and a code's
  // history for admin and support; the four report reads for admin and
  // support (DESIGN.md's "the reports"), and each service's WatchEvents for
  // admin and support; GetCaller for every principal.
  EXPECT_EQ(allowed_cells, 59);
  EXPECT_EQ(HealthOf(suite.account_credit_addr), "SERVING");  // Health needs no identity.
}

TEST(TrustTest, TokensFileIsReloadedOnSighup) {
  Suite suite;
  // A service reading its own copy of the tokens file; the admin's token is
  // then removed from the copy and the service told to reload it.
  const std::string tokens = TestTokensFile() + ".sighup";
  ASSERT_EQ(std::system(("cp " + TestTokensFile() + " " + tokens).c_str()), 0);
  std::string address;
  auto service = Suite::StartService("account-credit", {"--tokens_file=" + tokens},
                                     {{"GIFTCARD_PG_DSN", suite.account_credit_dsn}}, &address);
  auto stub = v1::AccountCredit::NewStub(server::MakeChannel(address, server::ClientTls{}));
  v1::GetAccountRequest r;
  r.set_account_id("nobody");
  v1::Account out;
  EXPECT_EQ(stub->GetAccount(Context(kAdminToken).get(), r, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_EQ(std::system(("grep -v '^admin ' " + TestTokensFile() + " > " + tokens).c_str()), 0);
  service->Signal(SIGHUP);
  grpc::Status s;
  for (int i = 0; i < 100; ++i) {
    s = stub->GetAccount(Context(kAdminToken).get(), r, &out);
    if (s.error_code() == grpc::StatusCode::UNAUTHENTICATED) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(service->Running());
}

TEST(TrustTest, MutualTlsAdmitsOnlyCertificatesOfItsCa) {
  const std::string certs = MakeCerts("giftcard-test-ca");
  const std::string foreign = MakeCerts("some-other-ca");
  Suite suite({.tls_dir = certs});
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());

  // The whole slice over mTLS: code-vault and billing prove who they are to
  // account-credit with their certificates alone.
  auto codes = suite.IssueActiveCodes(1, 2500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);
  v1::Redemption redemption;
  grpc::Status s = suite.Redeem(codes[0].code(), account, "tls", &redemption);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::CreditApplication app;
  s = suite.ApplyCredit("inv-tls", account, 1000, "EUR", &app);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(app.remaining_credit().amount_minor(), 1500);

  v1::GetAccountRequest get;
  get.set_account_id(account);
  v1::Account out;
  auto call = [&](const server::ClientTls& tls, const std::string& token) {
    auto stub = v1::AccountCredit::NewStub(server::MakeChannel(suite.account_credit_addr, tls));
    return stub->GetAccount(Context(token, absl::Seconds(5)).get(), get, &out);
  };
  EXPECT_TRUE(
      call({certs + "/ca.crt", certs + "/tools.crt", certs + "/tools.key"}, kStorefrontToken).ok());
  EXPECT_FALSE(call({certs + "/ca.crt", "", ""}, kStorefrontToken).ok());  // No certificate.
  EXPECT_FALSE(call({certs + "/ca.crt", foreign + "/storefront.crt", foreign + "/storefront.key"},
                    kStorefrontToken)
                   .ok());                                         // Another CA's certificate.
  EXPECT_FALSE(call(server::ClientTls{}, kStorefrontToken).ok());  // Plaintext.

  // The certificate names the caller: storefront may read accounts, not apply credit.
  const server::ClientTls storefront{certs + "/ca.crt", certs + "/storefront.crt",
                                     certs + "/storefront.key"};
  EXPECT_TRUE(call(storefront, "").ok());
  auto billing = v1::Billing::NewStub(server::MakeChannel(suite.billing_addr, storefront));
  v1::ApplyCreditRequest apply;
  apply.set_invoice_id("inv-storefront");
  apply.set_account_id(account);
  apply.mutable_amount_due()->set_currency_code("EUR");
  apply.mutable_amount_due()->set_amount_minor(100);
  s = billing->ApplyCredit(Context("").get(), apply, &app);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(ReasonOf(s), "METHOD_NOT_ALLOWED");
  EXPECT_EQ(suite.AuditReport(), "");
}

// Under mutual TLS only a DNS name or a
// spiffe://<trust domain>/<principal> URI names a principal — not an e-mail
// name, another URI or the common name, which any CA-issued certificate for
// some other purpose might carry.
TEST(TrustTest, OnlyADnsOrSpiffeNameInTheCertificateNamesAPrincipal) {
  const std::string certs = MakeCerts("giftcard-test-ca");
  // Client certificates from the same CA, each naming "admin" another way.
  auto make = [&](const std::string& name, const std::string& ext) {
    ShellRun run = RunCommand(
        absl::StrCat("cd ", certs,
                     " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                     "-keyout ",
                     name, ".key -out ", name,
                     ".csr -subj /CN=admin 2>&1 && "
                     "printf '",
                     ext, "\\nextendedKeyUsage=clientAuth' > ", name,
                     ".ext && "
                     "openssl x509 -req -in ",
                     name,
                     ".csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 "
                     "-out ",
                     name, ".crt -extfile ", name, ".ext 2>&1"));
    EXPECT_EQ(run.exit_code, 0) << run.out;
    return server::ClientTls{certs + "/ca.crt", certs + "/" + name + ".crt",
                             certs + "/" + name + ".key"};
  };
  Suite suite({.tls_dir = certs});
  v1::GetAccountRequest get;
  get.set_account_id("nobody");
  auto call = [&](const server::ClientTls& tls) {
    auto stub = v1::AccountCredit::NewStub(server::MakeChannel(suite.account_credit_addr, tls));
    v1::Account out;
    return stub->GetAccount(Context("", absl::Seconds(5)).get(), get, &out);
  };
  for (const auto& [name, ext] : std::vector<std::pair<std::string, std::string>>{
           {"by-email", "subjectAltName=email:admin"},
           {"by-uri", "subjectAltName=URI:https://admin"},
           {"by-cn-only", "basicConstraints=CA:FALSE"}}) {
    grpc::Status s = call(make(name, ext));
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << name;
    EXPECT_EQ(ReasonOf(s), "CALLER_UNKNOWN") << name;
  }
  // A DNS name or a SPIFFE id does: admin may read accounts (this one is unknown).
  for (const auto& [name, ext] : std::vector<std::pair<std::string, std::string>>{
           {"by-dns", "subjectAltName=DNS:admin"},
           {"by-spiffe", "subjectAltName=URI:spiffe://giftcard.test/admin"}}) {
    grpc::Status s = call(make(name, ext));
    EXPECT_EQ(ReasonOf(s), "ACCOUNT_NOT_FOUND") << name << ": " << s.error_message();
  }
}

}  // namespace
}  // namespace giftcard::testing

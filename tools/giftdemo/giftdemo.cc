// giftdemo: the storefront's and the billing system's side of the demo
// (scripts/demo.sh), against the local stack (source /tmp/giftcard-stack/env
// first): a customer redeems the first card of CARDS_CSV (written by
// `giftctl codes issue`), retries, another account tries the same card, then
// two invoices take the credit. Each step prints what it did and what came
// back; the exit code is non-zero when a step answers unexpectedly.
//
//   giftdemo CARDS_CSV ACCOUNT_ID INVOICE_PREFIX
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/tool_common.h"
#include "giftcard/v1/account_credit.grpc.pb.h"
#include "giftcard/v1/billing.grpc.pb.h"
#include "giftcard/v1/code_vault.grpc.pb.h"
#include "money/money.h"
#include "server/client.h"

namespace {

using namespace giftcard;

std::string Show(const v1::Money& m) {
  return money::ToString({m.currency_code(), m.amount_minor()});
}

// A PIN is a secret even in a demo: show only its last group.
std::string Masked(const std::string& pin) {
  return pin.size() >= 4 ? "XXXX-XXXX-XXXX-" + pin.substr(pin.size() - 4) : "";
}

int failures = 0;

// The demo's steps continue scripts/demo.sh's numbering.
void Step(int n, const std::string& what) { std::printf("\n[%d] %s\n", n, what.c_str()); }

void Expect(bool ok, const std::string& what) {
  std::printf("    %s %s\n", ok ? "ok:" : "UNEXPECTED:", what.c_str());
  if (!ok) ++failures;
}

class Demo {
 public:
  Demo()
      : vault_(v1::CodeVault::NewStub(server::MakeChannel(tools::RequireEnv("CODE_VAULT_ADDR")))),
        credit_(v1::AccountCredit::NewStub(
            server::MakeChannel(tools::RequireEnv("ACCOUNT_CREDIT_ADDR")))),
        billing_(v1::Billing::NewStub(server::MakeChannel(tools::RequireEnv("BILLING_ADDR")))),
        storefront_(tools::RequireEnv("GIFTCARD_TOKEN_STOREFRONT")),
        billing_system_(tools::RequireEnv("GIFTCARD_TOKEN_BILLING_SYSTEM")) {}

  int Run(const std::string& pin, const std::string& account_id,
          const std::string& invoice_prefix) {
    const std::string suffix = absl::StrCat(absl::ToUnixMicros(absl::Now()));

    Step(3, "Storefront: UpsertAccount " + account_id + " (DE, EUR, DIRECT)");
    v1::UpsertAccountRequest upsert;
    upsert.mutable_account()->set_account_id(account_id);
    upsert.mutable_account()->set_country("DE");
    upsert.mutable_account()->set_currency_code("EUR");
    upsert.mutable_account()->set_billing_channel(v1::BILLING_CHANNEL_DIRECT);
    v1::Account account;
    grpc::Status s = credit_->UpsertAccount(Ctx(storefront_).get(), upsert, &account);
    Expect(s.ok(),
           "account created, balance " + Show(account.balance()) + " / " + tools::Describe(s));

    Step(4, "Storefront: RedeemCode " + Masked(pin) +
                ", typed in lower case with spaces: the input is forgiving");
    std::string typed = pin;
    for (char& c : typed) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (char& c : typed)
      if (c == '-') c = ' ';
    v1::RedeemCodeRequest redeem;
    redeem.set_code(typed);
    redeem.set_account_id(account_id);
    redeem.set_request_id("demo-redeem-" + suffix);
    redeem.set_client_ip("127.0.0.1");
    v1::Redemption redemption;
    s = vault_->RedeemCode(Ctx(storefront_).get(), redeem, &redemption);
    Expect(s.ok() && redemption.state() == v1::REDEMPTION_STATE_COMPLETED,
           "redemption " + redemption.redemption_id() + " " +
               v1::RedemptionState_Name(redemption.state()) + ", credited " +
               Show(redemption.amount()) + ", balance " + Show(redemption.balance()) + " / " +
               tools::Describe(s));

    Step(5, "Storefront: the same RedeemCode again (a retry): same answer, no second credit");
    v1::Redemption replay;
    s = vault_->RedeemCode(Ctx(storefront_).get(), redeem, &replay);
    Expect(s.ok() && replay.redemption_id() == redemption.redemption_id(),
           "redemption " + replay.redemption_id() + ", balance " + Show(replay.balance()));

    Step(6, "Storefront: another account tries the same code");
    v1::UpsertAccountRequest other = upsert;
    other.mutable_account()->set_account_id(account_id + "-other");
    s = credit_->UpsertAccount(Ctx(storefront_).get(), other, &account);
    v1::RedeemCodeRequest steal = redeem;
    steal.set_account_id(account_id + "-other");
    s = vault_->RedeemCode(Ctx(storefront_).get(), steal, &replay);
    Expect(tools::ReasonOf(s) == "CODE_ALREADY_REDEEMED", tools::Describe(s));

    Step(7, "Storefront: GetAccount " + account_id);
    v1::GetAccountRequest get;
    get.set_account_id(account_id);
    s = credit_->GetAccount(Ctx(storefront_).get(), get, &account);
    Expect(s.ok() && account.balance().amount_minor() == 2500,
           "balance " + Show(account.balance()) + " / " + tools::Describe(s));

    Step(8, "Billing system: ApplyCredit invoice of 11.99 EUR");
    ApplyCredit(account_id, invoice_prefix + "-1", 1199);
    // Paid in full, and the 1.02 left cannot pay another: billing's
    // credit.low event (README: giftctl events follow --type=credit.low).
    Step(9,
         "Billing system: ApplyCredit 11.99 EUR again (paid in full, credit.low), then a third "
         "time (credit covers 1.02 of it)");
    ApplyCredit(account_id, invoice_prefix + "-2", 1199);
    ApplyCredit(account_id, invoice_prefix + "-3", 1199);
    return Done();
  }

 private:
  void ApplyCredit(const std::string& account_id, const std::string& invoice_id, int64_t due) {
    v1::ApplyCreditRequest apply;
    apply.set_invoice_id(invoice_id);
    apply.set_account_id(account_id);
    apply.mutable_amount_due()->set_currency_code("EUR");
    apply.mutable_amount_due()->set_amount_minor(due);
    v1::CreditApplication app;
    grpc::Status s = billing_->ApplyCredit(Ctx(billing_system_).get(), apply, &app);
    Expect(s.ok() && app.applied().amount_minor() + app.amount_to_charge().amount_minor() == due,
           "applied " + Show(app.applied()) + ", to charge " + Show(app.amount_to_charge()) +
               ", credit left " + Show(app.remaining_credit()) + ", next invoice covered: " +
               (app.next_invoice_covered() ? "yes" : "no") + " / " + tools::Describe(s));
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    server::PrepareContext(*ctx, token, absl::Seconds(10));
    return ctx;
  }

  int Done() {
    std::printf("\n%s\n", failures == 0
                              ? "giftdemo: the storefront and billing steps answered as expected"
                              : "giftdemo: some steps answered unexpectedly");
    return failures == 0 ? 0 : 1;
  }

  std::unique_ptr<v1::CodeVault::Stub> vault_;
  std::unique_ptr<v1::AccountCredit::Stub> credit_;
  std::unique_ptr<v1::Billing::Stub> billing_;
  const std::string storefront_, billing_system_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: giftdemo CARDS_CSV ACCOUNT_ID INVOICE_PREFIX\n");
    return 2;
  }
  // The first card of the file: line 2, after the "serial,pin" header.
  std::ifstream cards(argv[1]);
  std::string line;
  std::getline(cards, line);
  std::getline(cards, line);
  const size_t comma = line.find(',');
  if (comma == std::string::npos) {
    std::fprintf(stderr, "giftdemo: no card in %s\n", argv[1]);
    return 2;
  }
  return Demo().Run(line.substr(comma + 1), argv[2], argv[3]);
}

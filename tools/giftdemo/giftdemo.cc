// giftdemo: the redemption slice, step by step, against the local stack
// (source /tmp/giftcard-stack/env first). Each step prints what it did and
// what came back; the exit code is non-zero when a step answers unexpectedly.
#include <cstdio>
#include <cstdlib>
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
        billing_system_(tools::RequireEnv("GIFTCARD_TOKEN_BILLING_SYSTEM")),
        admin_(tools::RequireEnv("GIFTCARD_TOKEN_ADMIN")) {}

  int Run() {
    const std::string suffix = absl::StrCat(absl::ToUnixMicros(absl::Now()));
    const std::string account_id = "demo-" + suffix;

    Step(1, "Storefront: UpsertAccount " + account_id + " (DE, EUR, DIRECT)");
    v1::UpsertAccountRequest upsert;
    upsert.mutable_account()->set_account_id(account_id);
    upsert.mutable_account()->set_country("DE");
    upsert.mutable_account()->set_currency_code("EUR");
    upsert.mutable_account()->set_billing_channel(v1::DIRECT);
    v1::Account account;
    grpc::Status s = credit_->UpsertAccount(Ctx(storefront_).get(), upsert, &account);
    Expect(s.ok(),
           "account created, balance " + Show(account.balance()) + " / " + tools::Describe(s));

    Step(2, "Admin: IssueCodes 3 × 25.00 EUR for region DE");
    v1::IssueCodesRequest issue;
    issue.set_count(3);
    issue.mutable_amount()->set_currency_code("EUR");
    issue.mutable_amount()->set_amount_minor(2500);
    issue.set_region("DE");
    issue.set_request_id("demo-batch-" + suffix);
    std::vector<v1::IssuedCode> issued;
    {
      auto ctx = Ctx(admin_);
      auto reader = vault_->IssueCodes(ctx.get(), issue);
      v1::IssuedCode code;
      while (reader->Read(&code)) issued.push_back(code);
      s = reader->Finish();
    }
    Expect(s.ok() && issued.size() == 3,
           absl::StrCat(issued.size(), " codes streamed / ", tools::Describe(s)));
    if (issued.empty()) return Done();
    for (const auto& c : issued) {
      std::printf("    serial %s  PIN %s (printed on the card; shown masked here)\n",
                  c.serial().c_str(), Masked(c.code()).c_str());
    }

    Step(3, "Admin: ActivateCodes for batch " + issued[0].batch_id() + " (the cards were sold)");
    v1::ActivateCodesRequest activate;
    activate.set_batch_id(issued[0].batch_id());
    activate.set_request_id("demo-activate-" + suffix);
    v1::ActivateCodesResponse activated;
    s = vault_->ActivateCodes(Ctx(admin_).get(), activate, &activated);
    Expect(s.ok() && activated.activated_count() == 3,
           absl::StrCat(activated.activated_count(), " activated / ", tools::Describe(s)));

    Step(4, "Storefront: RedeemCode, typed in lower case with spaces: the input is forgiving");
    std::string typed = issued[0].code();
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
    Expect(s.ok() && redemption.state() == v1::COMPLETED,
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
    ApplyCredit(account_id, "demo-inv-1-" + suffix, 1199);
    Step(9, "Billing system: ApplyCredit invoice of 20.00 EUR (credit covers part of it)");
    ApplyCredit(account_id, "demo-inv-2-" + suffix, 2000);

    Step(10, "Admin: GetCodeStatus " + issued[0].serial());
    v1::GetCodeStatusRequest status_request;
    status_request.set_serial(issued[0].serial());
    v1::CodeStatus code_status;
    s = vault_->GetCodeStatus(Ctx(admin_).get(), status_request, &code_status);
    Expect(s.ok() && code_status.state() == v1::REDEEMED,
           v1::CodeState_Name(code_status.state()) + " by " + code_status.redeemed_by_account_id() +
               " at " +
               absl::FormatTime(absl::FromUnixSeconds(code_status.redeem_time().seconds())) +
               ", PIN ends " + code_status.pin_last4() + " / " + tools::Describe(s));
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
    std::printf("\n%s\n", failures == 0 ? "demo: every step answered as expected"
                                        : "demo: some steps answered unexpectedly");
    return failures == 0 ? 0 : 1;
  }

  std::unique_ptr<v1::CodeVault::Stub> vault_;
  std::unique_ptr<v1::AccountCredit::Stub> credit_;
  std::unique_ptr<v1::Billing::Stub> billing_;
  const std::string storefront_, billing_system_, admin_;
};

}  // namespace

int main() { return Demo().Run(); }

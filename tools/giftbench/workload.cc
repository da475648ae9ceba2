#include "giftbench/workload.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "codes/codes.h"
#include "common/tool_common.h"

namespace giftcard::bench {

bool Workload::Prepare(const std::string& scenario) {
  const std::string run = absl::StrCat(absl::ToUnixMicros(absl::Now()));
  for (int i = 0; i < options_.accounts; ++i) {
    accounts_.push_back(absl::StrCat("bench-", run, "-", i));
    v1::UpsertAccountRequest r;
    r.mutable_account()->set_account_id(accounts_.back());
    r.mutable_account()->set_country("DE");
    r.mutable_account()->set_currency_code("EUR");
    r.mutable_account()->set_billing_channel(v1::BILLING_CHANNEL_DIRECT);
    v1::Account out;
    grpc::Status s = credit_->UpsertAccount(Ctx(env_.storefront).get(), r, &out);
    if (!s.ok()) return Fail("UpsertAccount", s);
  }
  int codes = 0;
  int64_t value = 500;
  if (scenario == "redeem" || scenario == "mixed") codes = options_.codes;
  if (scenario == "code-status" || scenario == "check-code") codes = 1000;
  if (scenario == "apply-credit") {
    codes = static_cast<int>(accounts_.size());
    value = 100'000'000;  // A large credit per account, for many invoices.
  }
  for (int issued = 0; issued < codes;) {
    const int batch = std::min(10000, codes - issued);
    if (!Issue(batch, value, run + "-" + std::to_string(issued))) return false;
    issued += batch;
  }
  if (scenario == "apply-credit") {
    for (size_t i = 0; i < accounts_.size(); ++i) {
      v1::RedeemCodeRequest r;
      r.set_code(pins_[i]);
      r.set_account_id(accounts_[i]);
      r.set_client_ip("127.0.0.1");
      r.set_request_id("fund");
      v1::Redemption out;
      grpc::Status s = vault_->RedeemCode(Ctx(env_.storefront).get(), r, &out);
      if (!s.ok()) return Fail("RedeemCode (funding)", s);
    }
  }
  run_ = run;
  return true;
}

Call Workload::Make(const std::string& scenario, std::mt19937_64& rng) {
  if (scenario == "mixed") {
    static const char* kinds[] = {"redeem", "apply-credit", "apply-credit", "code-status",
                                  "check-code"};
    return Make(kinds[rng() % 5], rng);
  }
  const std::string& account = accounts_[rng() % accounts_.size()];
  if (scenario == "redeem") {
    const uint64_t i = next_pin_.fetch_add(1);
    if (i >= pins_.size()) return nullptr;  // Out of fresh codes.
    auto r = std::make_shared<v1::RedeemCodeRequest>();
    r->set_code(pins_[i]);
    r->set_account_id(account);
    r->set_request_id(absl::StrCat("bench-", i));
    r->set_client_ip(absl::StrCat("10.0.", i % 250, ".", (i / 250) % 250));
    return Unary<v1::RedeemCodeRequest, v1::Redemption>(
        r, env_.storefront, [this](auto* ctx, const auto& req, auto* cq) {
          return vault_->PrepareAsyncRedeemCode(ctx, req, cq);
        });
  }
  if (scenario == "invalid-flood") {
    auto r = std::make_shared<v1::RedeemCodeRequest>();
    r->set_code(codes::GeneratePin());  // Well-formed, never issued.
    r->set_account_id(absl::StrCat("flood-", rng() % 100000));
    r->set_request_id(absl::StrCat("flood-", rng()));
    r->set_client_ip(absl::StrCat("198.51.", rng() % 250, ".", rng() % 250));
    return Unary<v1::RedeemCodeRequest, v1::Redemption>(
        r, env_.storefront, [this](auto* ctx, const auto& req, auto* cq) {
          return vault_->PrepareAsyncRedeemCode(ctx, req, cq);
        });
  }
  if (scenario == "apply-credit") {
    auto r = std::make_shared<v1::ApplyCreditRequest>();
    r->set_invoice_id(absl::StrCat("bench-", run_, "-", next_invoice_.fetch_add(1)));
    r->set_account_id(accounts_[rng() % accounts_.size()]);
    r->mutable_amount_due()->set_currency_code("EUR");
    r->mutable_amount_due()->set_amount_minor(1199);
    return Unary<v1::ApplyCreditRequest, v1::CreditApplication>(
        r, env_.billing_system, [this](auto* ctx, const auto& req, auto* cq) {
          return billing_->PrepareAsyncApplyCredit(ctx, req, cq);
        });
  }
  if (scenario == "code-status") {
    auto r = std::make_shared<v1::GetCodeStatusRequest>();
    r->set_serial(serials_[rng() % serials_.size()]);
    return Unary<v1::GetCodeStatusRequest, v1::CodeStatus>(
        r, env_.admin, [this](auto* ctx, const auto& req, auto* cq) {
          return vault_->PrepareAsyncGetCodeStatus(ctx, req, cq);
        });
  }
  if (scenario == "check-code") {
    auto r = std::make_shared<v1::CheckCodeRequest>();
    r->set_code(pins_[rng() % pins_.size()]);
    r->set_client_ip(absl::StrCat("10.1.", rng() % 250, ".", rng() % 250));
    return Unary<v1::CheckCodeRequest, v1::CodeCheck>(
        r, env_.storefront, [this](auto* ctx, const auto& req, auto* cq) {
          return vault_->PrepareAsyncCheckCode(ctx, req, cq);
        });
  }
  // health: the gRPC floor of the same server.
  auto r = std::make_shared<grpc::health::v1::HealthCheckRequest>();
  return Unary<grpc::health::v1::HealthCheckRequest, grpc::health::v1::HealthCheckResponse>(
      r, "", [this](auto* ctx, const auto& req, auto* cq) {
        return health_->PrepareAsyncCheck(ctx, req, cq);
      });
}

bool Workload::Issue(int count, int64_t value, const std::string& tag) {
  v1::IssueCodesRequest r;
  r.set_count(count);
  r.mutable_amount()->set_currency_code("EUR");
  r.mutable_amount()->set_amount_minor(value);
  r.set_region("DE");
  r.set_request_id("bench-" + tag);
  auto ctx = Ctx(env_.admin);
  auto reader = vault_->IssueCodes(ctx.get(), r);
  v1::IssuedCode code;
  std::string batch;
  while (reader->Read(&code)) {
    pins_.push_back(code.code());
    serials_.push_back(code.serial());
    batch = code.batch_id();
  }
  grpc::Status s = reader->Finish();
  if (!s.ok()) return Fail("IssueCodes", s);
  v1::ActivateCodesRequest activate;
  activate.set_batch_id(batch);
  activate.set_request_id("bench-activate-" + tag);
  v1::ActivateCodesResponse out;
  s = vault_->ActivateCodes(Ctx(env_.admin).get(), activate, &out);
  return s.ok() || Fail("ActivateCodes", s);
}

bool Workload::Fail(const char* what, const grpc::Status& s) {
  std::fprintf(stderr, "giftbench: %s: %s\n", what, tools::Describe(s).c_str());
  return false;
}

}  // namespace giftcard::bench

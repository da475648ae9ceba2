// libFuzzer target: any bytes as a Billing request, through the domain with
// a store and a debit side that refuse everything.
#include <cstdint>
#include <string>

#include "giftcard/v1/billing.pb.h"
#include "services/billing/domain/billing_service.h"

namespace {

using namespace giftcard::billing;

absl::Status Down() { return absl::UnavailableError("fuzz: no storage"); }

class NoStore : public ApplicationStore {
 public:
  absl::StatusOr<CreditApplication> Start(const CreditApplication&) override { return Down(); }
  absl::StatusOr<CreditApplication> MarkApplied(const std::string&, const std::string&, int64_t,
                                                int64_t, absl::Time) override {
    return Down();
  }
  absl::Status DropPending(const std::string&) override { return Down(); }
  absl::StatusOr<CreditApplication> MarkReversalPending(const std::string&,
                                                        const std::string&) override {
    return Down();
  }
  absl::StatusOr<CreditApplication> MarkReversed(const std::string&, const std::string&,
                                                 int64_t) override {
    return Down();
  }
  absl::StatusOr<CreditApplication> CancelReversal(const std::string&) override { return Down(); }
  absl::StatusOr<std::vector<CreditApplication>> ClaimUnsettled(absl::Duration, int) override {
    return Down();
  }
  absl::StatusOr<CreditApplication> Get(const std::string&) override { return Down(); }
};

class NoDebit : public DebitGateway {
 public:
  absl::StatusOr<DebitResult> DebitUpTo(const std::string&, const giftcard::money::Money&,
                                        const std::string&, const std::string&,
                                        const std::string&) override {
    return Down();
  }
  absl::StatusOr<DebitResult> Reverse(const std::string&, const std::string&) override {
    return Down();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* store = new NoStore;
  static auto* debit = new NoDebit;
  static auto* service = new BillingService(*store, *debit);
  if (size == 0) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 3) {
    case 0: {
      giftcard::v1::ApplyCreditRequest r;
      if (!r.ParseFromString(bytes)) return 0;
      (void)service->ApplyCredit({r.invoice_id(),
                                  r.account_id(),
                                  {r.amount_due().currency_code(), r.amount_due().amount_minor()}});
      break;
    }
    case 1: {
      giftcard::v1::ReverseCreditRequest r;
      if (!r.ParseFromString(bytes)) return 0;
      (void)service->ReverseCredit(r.invoice_id(), r.reason());
      break;
    }
    default: {
      giftcard::v1::GetCreditApplicationRequest r;
      if (!r.ParseFromString(bytes)) return 0;
      (void)service->GetCreditApplication(r.invoice_id());
    }
  }
  return 0;
}

// libFuzzer target: any bytes as an AccountCredit request, through the
// domain with a store that refuses everything.
#include <cstdint>
#include <string>

#include "giftcard/v1/account_credit.pb.h"
#include "services/account_credit/domain/account_service.h"

namespace {

using namespace giftcard::account_credit;

class NoStore : public LedgerStore {
 public:
  absl::StatusOr<Account> UpsertAccount(const Account&, std::optional<bool>) override {
    return Down();
  }
  absl::StatusOr<Account> GetAccount(const std::string&) override { return Down(); }
  absl::StatusOr<Transfer> Post(const Posting& p) override {
    // Run the posting's rules on a plausible account, as storage would.
    Account a;
    a.account_id = p.account_id;
    a.country = "DE";
    a.currency_code = "EUR";
    a.billing_channel = BillingChannel::kDirect;
    a.balance_minor = 1000;
    Transfer original;
    original.kind = TransferKind::kCredit;
    original.amount = {"EUR", 500};
    (void)p.decide(PostingContext{a, p.reverses_transfer_id.empty() ? nullptr : &original});
    return Down();
  }
  absl::StatusOr<EntryPage> ListEntries(const std::string&, int64_t, int,
                                        const TimeRange&) override {
    return Down();
  }

 private:
  static absl::Status Down() { return absl::UnavailableError("fuzz: no storage"); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto* store = new NoStore;
  static auto* service = new AccountService(*store);
  if (size == 0) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 5) {
    case 0: {
      giftcard::v1::UpsertAccountRequest r;
      if (!r.ParseFromString(bytes)) return 0;
      Account a;
      a.account_id = r.account().account_id();
      a.country = r.account().country();
      a.currency_code = r.account().currency_code();
      a.billing_channel = static_cast<BillingChannel>(r.account().billing_channel() % 5);
      (void)service->UpsertAccount(a, std::nullopt);
      break;
    }
    case 1: {
      giftcard::v1::CreditAccountRequest r;
      if (!r.ParseFromString(bytes)) return 0;
      (void)service->CreditAccount({r.account_id(),
                                    {r.amount().currency_code(), r.amount().amount_minor()},
                                    r.code_region(),
                                    r.request_id(),
                                    r.reference()});
      break;
    }
    case 2: {
      giftcard::v1::DebitAccountRequest r;
      if (!r.ParseFromString(bytes)) return 0;
      (void)service->DebitAccount({r.account_id(),
                                   {r.max_amount().currency_code(), r.max_amount().amount_minor()},
                                   r.allow_partial(),
                                   r.request_id(),
                                   r.reference()});
      break;
    }
    case 3: {
      giftcard::v1::ReverseTransferRequest r;
      if (!r.ParseFromString(bytes)) return 0;
      (void)service->ReverseTransfer({r.transfer_id(), r.request_id()});
      break;
    }
    default: {
      giftcard::v1::ListLedgerEntriesRequest r;
      if (!r.ParseFromString(bytes)) return 0;
      (void)service->ListLedgerEntries({r.account_id(), r.page_size(), r.page_token()});
    }
  }
  return 0;
}

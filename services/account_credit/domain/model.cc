#include "domain/model.h"

namespace giftcard::account_credit {

const char* BillingChannelName(BillingChannel channel) {
  switch (channel) {
    case BillingChannel::kDirect:
      return "DIRECT";
    case BillingChannel::kAppStore:
      return "APP_STORE";
    case BillingChannel::kPlayStore:
      return "PLAY_STORE";
    case BillingChannel::kPartner:
      return "PARTNER";
    case BillingChannel::kUnspecified:
      break;
  }
  return "";
}

std::optional<BillingChannel> BillingChannelFromName(const std::string& name) {
  for (BillingChannel c : {BillingChannel::kDirect, BillingChannel::kAppStore,
                           BillingChannel::kPlayStore, BillingChannel::kPartner}) {
    if (name == BillingChannelName(c)) return c;
  }
  return std::nullopt;
}

std::string GiftFundingAccount(const std::string& currency_code) {
  return "gift-funding/" + currency_code;
}

std::string BillingRevenueAccount(const std::string& currency_code) {
  return "billing-revenue/" + currency_code;
}

}  // namespace giftcard::account_credit

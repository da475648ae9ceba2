#include "services/account_credit/domain/model.h"

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

std::string RepaymentRequestId(const std::string& credit_request_id) {
  // '/' is never in a caller's request id (validate::Id): no collision.
  return "owed-repayment/" + credit_request_id;
}

bool IsSystemAccount(const std::string& account_id) {
  for (const char* prefix : {"gift-funding/", "billing-revenue/"}) {
    const std::string p(prefix);
    if (account_id.size() == p.size() + 3 && account_id.compare(0, p.size(), p) == 0) {
      const std::string cur = account_id.substr(p.size());
      return money::MinorUnitExponent(cur).has_value();
    }
  }
  return false;
}

}  // namespace giftcard::account_credit

#include "domain/account_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "errors/macros.h"
#include "errors/status.h"
#include "validate/validate.h"

namespace giftcard::account_credit {
namespace {

constexpr size_t kMaxReferenceBytes = 256;

}  // namespace

absl::Status CheckGiftCreditEligibility(const Account& account, const std::string& currency_code,
                                        const std::string& code_region) {
  if (account.country != code_region) {
    return errors::Error(absl::StatusCode::kFailedPrecondition, errors::reason::kRegionMismatch,
                         "this card can only be redeemed in the country where it was sold",
                         {{"account_country", account.country}, {"code_region", code_region}});
  }
  if (account.currency_code != currency_code) {
    return errors::Error(
        absl::StatusCode::kFailedPrecondition, errors::reason::kCurrencyMismatch,
        "the card's currency is not the account's",
        {{"account_currency", account.currency_code}, {"code_currency", currency_code}});
  }
  if (account.billing_channel != BillingChannel::kDirect) {
    return errors::Error(absl::StatusCode::kFailedPrecondition, errors::reason::kThirdPartyBilling,
                         "accounts billed by a third party cannot take gift credit; switch to "
                         "direct billing first",
                         {{"billing_channel", BillingChannelName(account.billing_channel)}});
  }
  return absl::OkStatus();
}

absl::StatusOr<Account> AccountService::UpsertAccount(const Account& account) {
  GIFTCARD_RETURN_IF_ERROR(validate::Id("account.account_id", account.account_id));
  GIFTCARD_RETURN_IF_ERROR(validate::Country("account.country", account.country));
  GIFTCARD_RETURN_IF_ERROR(
      money::ValidateCurrencyCode("account.currency_code", account.currency_code));
  if (account.billing_channel == BillingChannel::kUnspecified) {
    return errors::InvalidField("account.billing_channel", "is required");
  }
  return store_.UpsertAccount(account);
}

absl::StatusOr<Account> AccountService::GetAccount(const std::string& account_id) {
  GIFTCARD_RETURN_IF_ERROR(validate::Id("account_id", account_id));
  return store_.GetAccount(account_id);
}

absl::StatusOr<Transfer> AccountService::CreditAccount(const CreditCommand& command) {
  GIFTCARD_RETURN_IF_ERROR(validate::Id("account_id", command.account_id));
  GIFTCARD_RETURN_IF_ERROR(money::ValidatePositive("amount", command.amount));
  GIFTCARD_RETURN_IF_ERROR(validate::Country("code_region", command.code_region));
  GIFTCARD_RETURN_IF_ERROR(validate::Id("request_id", command.request_id));
  GIFTCARD_RETURN_IF_ERROR(validate::Text("reference", command.reference, kMaxReferenceBytes));

  Posting posting;
  posting.kind = TransferKind::kCredit;
  posting.account_id = command.account_id;
  posting.counter_account_id = GiftFundingAccount(command.amount.currency_code);
  posting.currency_code = command.amount.currency_code;
  posting.request_id = command.request_id;
  posting.request_fingerprint =
      absl::StrCat("credit|", command.account_id, "|", command.amount.currency_code, "|",
                   command.amount.amount_minor, "|", command.code_region);
  posting.reference = command.reference;
  posting.direction = +1;
  const CreditCommand cmd = command;
  posting.decide = [cmd](const Account& account) -> absl::StatusOr<int64_t> {
    GIFTCARD_RETURN_IF_ERROR(
        CheckGiftCreditEligibility(account, cmd.amount.currency_code, cmd.code_region));
    auto new_balance = money::CheckedAdd(account.balance_minor, cmd.amount.amount_minor);
    if (!new_balance.ok() || *new_balance > money::kMaxAmountMinor * 1000) {
      return errors::Error(absl::StatusCode::kFailedPrecondition, "BALANCE_LIMIT",
                           "the account's balance would exceed its limit");
    }
    return cmd.amount.amount_minor;
  };
  return store_.Post(posting);
}

absl::StatusOr<Transfer> AccountService::DebitAccount(const DebitCommand& command) {
  GIFTCARD_RETURN_IF_ERROR(validate::Id("account_id", command.account_id));
  GIFTCARD_RETURN_IF_ERROR(money::ValidatePositive("max_amount", command.max_amount));
  GIFTCARD_RETURN_IF_ERROR(validate::Id("request_id", command.request_id));
  GIFTCARD_RETURN_IF_ERROR(validate::Text("reference", command.reference, kMaxReferenceBytes));

  Posting posting;
  posting.kind = TransferKind::kDebit;
  posting.account_id = command.account_id;
  posting.counter_account_id = BillingRevenueAccount(command.max_amount.currency_code);
  posting.currency_code = command.max_amount.currency_code;
  posting.request_id = command.request_id;
  posting.request_fingerprint = absl::StrCat(
      "debit|", command.account_id, "|", command.max_amount.currency_code, "|",
      command.max_amount.amount_minor, "|", command.allow_partial ? "partial" : "full");
  posting.reference = command.reference;
  posting.direction = -1;
  const DebitCommand cmd = command;
  posting.decide = [cmd](const Account& account) -> absl::StatusOr<int64_t> {
    if (account.currency_code != cmd.max_amount.currency_code) {
      return errors::Error(absl::StatusCode::kFailedPrecondition, errors::reason::kCurrencyMismatch,
                           "the amount's currency is not the account's",
                           {{"account_currency", account.currency_code}});
    }
    if (account.balance_minor >= cmd.max_amount.amount_minor) return cmd.max_amount.amount_minor;
    if (!cmd.allow_partial) {
      return errors::Error(absl::StatusCode::kFailedPrecondition,
                           errors::reason::kInsufficientCredit,
                           "the account's credit does not cover the amount");
    }
    return std::max<int64_t>(account.balance_minor, 0);
  };
  return store_.Post(posting);
}

}  // namespace giftcard::account_credit

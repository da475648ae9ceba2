// Domain types of account-credit. No gRPC, libpqxx or hiredis here.
#ifndef GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_MODEL_H_
#define GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_MODEL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "money/money.h"

namespace giftcard::account_credit {

enum class BillingChannel { kUnspecified, kDirect, kAppStore, kPlayStore, kPartner };

// "DIRECT" etc., as stored; "" for kUnspecified.
const char* BillingChannelName(BillingChannel channel);
std::optional<BillingChannel> BillingChannelFromName(const std::string& name);

struct Account {
  std::string account_id;
  std::string country;        // ISO-3166 alpha-2.
  std::string currency_code;  // ISO-4217.
  BillingChannel billing_channel = BillingChannel::kUnspecified;
  bool closed = false;  // A closed account takes no new gift credit.
  // Set once the account has a ledger entry: its currency is fixed from then on.
  bool currency_locked = false;
  int64_t balance_minor = 0;
  // What clawbacks could not take from the balance; later credits pay it
  // first, so it is only ever owed while the balance is 0.
  int64_t owed_minor = 0;
  absl::Time create_time;
  absl::Time update_time;
};

// kRepayment: the part of a credit that paid what the account owed, moved
// back to gift-funding in a transfer of its own (never asked for by a caller).
enum class TransferKind { kCredit, kDebit, kReversal, kRepayment };

// The request id of the repayment a credit's request id paid.
std::string RepaymentRequestId(const std::string& credit_request_id);

struct Transfer {
  std::string transfer_id;
  std::string request_id;
  TransferKind kind = TransferKind::kCredit;
  std::string account_id;
  std::string counter_account_id;  // The system account on the other side.
  money::Money amount;
  // The account's balance once the posting is done (after any repayment).
  int64_t balance_after_minor = 0;
  std::string reverses_transfer_id;
  std::string reference;  // As the caller gave it: the serial, the invoice id.
  // A clawback: the part of the credit the balance did not cover, now owed.
  int64_t owed_added_minor = 0;
  // A credit: the part of it that paid what the account owed.
  int64_t owed_repaid_minor = 0;
  absl::Time create_time;
};

// One side of a transfer, as booked on an account.
// What moved the money (the transfer's kind, as a statement names it).
enum class EntryKind { kRedemption, kInvoice, kInvoiceReversal, kClawback, kOwedRepayment };

struct LedgerEntry {
  int64_t entry_id = 0;
  std::string transfer_id;
  std::string account_id;
  money::Money amount;  // Signed.
  absl::Time create_time;
  EntryKind kind = EntryKind::kRedemption;
  std::string reference;  // The serial or the invoice id.
  // The account's balance right after the entry; none on system accounts.
  std::optional<int64_t> balance_after_minor;
};

// True for the system accounts of every currency (gift-funding/EUR, …).
bool IsSystemAccount(const std::string& account_id);

// System accounts, one per currency; they exist only as ledger entries.
std::string GiftFundingAccount(const std::string& currency_code);
std::string BillingRevenueAccount(const std::string& currency_code);

struct CreditCommand {
  std::string account_id;
  money::Money amount;
  std::string code_region;
  std::string request_id;
  std::string reference;
  // Logged by the call log only; checked, never stored. Optional, so an
  // aggregate initializer may leave it out.
  std::string traceparent{};
};

struct ReverseCommand {
  std::string transfer_id;
  std::string request_id;
};

struct DebitCommand {
  std::string account_id;
  money::Money max_amount;
  bool allow_partial = false;
  std::string request_id;
  std::string reference;
  // Logged by the call log only; checked, never stored. Optional, so an
  // aggregate initializer may leave it out.
  std::string traceparent{};
};

}  // namespace giftcard::account_credit

#endif  // GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_MODEL_H_

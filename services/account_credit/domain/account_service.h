// The rules of accounts and credit: validation, eligibility of gift credit
// (DESIGN.md "Eligibility") and how much a debit takes. Storage makes each
// posting atomic; this class decides what the posting is.
#ifndef GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_ACCOUNT_SERVICE_H_
#define GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_ACCOUNT_SERVICE_H_

#include <string>

#include "absl/status/statusor.h"
#include "domain/ledger_store.h"
#include "domain/model.h"

namespace giftcard::account_credit {

// Whether gift credit of `currency_code` sold in `code_region` may go to
// `account`: REGION_MISMATCH, CURRENCY_MISMATCH or THIRD_PARTY_BILLING
// (FAILED_PRECONDITION), each a definite refusal.
absl::Status CheckGiftCreditEligibility(const Account& account, const std::string& currency_code,
                                        const std::string& code_region);

class AccountService {
 public:
  explicit AccountService(LedgerStore& store) : store_(store) {}

  absl::StatusOr<Account> UpsertAccount(const Account& account);
  absl::StatusOr<Account> GetAccount(const std::string& account_id);
  absl::StatusOr<Transfer> CreditAccount(const CreditCommand& command);
  absl::StatusOr<Transfer> DebitAccount(const DebitCommand& command);

 private:
  LedgerStore& store_;
};

}  // namespace giftcard::account_credit

#endif  // GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_ACCOUNT_SERVICE_H_

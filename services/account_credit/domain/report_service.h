// Finance's reads of the ledger: the credit accounts
// hold (the liability), and accounts whose credit has not moved for a while
// (dormancy, for unclaimed-property rules). The figures are sums over the
// books, computed where the rows are (storage/pg_report_store.h); this class
// validates the question and pages the answer.
#ifndef GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_REPORT_SERVICE_H_
#define GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_REPORT_SERVICE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace giftcard::account_credit {

struct CurrencyCredit {
  std::string currency_code;
  int64_t balance_minor = 0;
  int64_t accounts_with_credit = 0;
};

struct CreditLiability {
  std::vector<CurrencyCredit> currencies;  // In currency order.
  absl::Time read_time;
};

struct DormantAccount {
  std::string account_id;
  std::string country;
  std::string currency_code;
  int64_t balance_minor = 0;
  absl::Time last_entry_time;
};

struct DormantPage {
  std::vector<DormantAccount> accounts;  // In account order.
  bool more = false;
};

// What the reports read; the Postgres implementation is
// storage/pg_report_store.h.
class ReportStore {
 public:
  virtual ~ReportStore() = default;
  virtual absl::StatusOr<CreditLiability> ReadCreditLiability() = 0;
  // Accounts after `after_account_id` holding credit whose last entry is
  // older than `days` days.
  virtual absl::StatusOr<DormantPage> ReadDormantAccounts(int days,
                                                          const std::string& after_account_id,
                                                          int limit) = 0;
};

struct DormantQuery {
  int days = 0;
  int page_size = 0;  // 0: the default.
  std::string page_token;
};

struct DormantResult {
  std::vector<DormantAccount> accounts;
  std::string next_page_token;
};

class ReportService {
 public:
  explicit ReportService(ReportStore& store) : store_(store) {}

  absl::StatusOr<CreditLiability> CreditLiabilityReport() { return store_.ReadCreditLiability(); }
  // INVALID_ARGUMENT for days outside 1 to 36500, a bad page size, or a
  // token from another query.
  absl::StatusOr<DormantResult> DormantAccounts(const DormantQuery& query);

 private:
  ReportStore& store_;
};

}  // namespace giftcard::account_credit

#endif  // GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_REPORT_SERVICE_H_

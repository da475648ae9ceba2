// ReportStore over account-credit's Postgres: each report one named
// statement in one read (a standby's when configured: finance's figures may
// lag the primary by a moment).
#ifndef GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_PG_REPORT_STORE_H_
#define GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_PG_REPORT_STORE_H_

#include <vector>

#include "pg/pool.h"
#include "services/account_credit/domain/report_service.h"

namespace giftcard::account_credit {

class PgReportStore : public ReportStore {
 public:
  explicit PgReportStore(pg::Pool& pool) : pool_(pool) {}

  // The statements it runs; the pool must prepare them.
  static std::vector<pg::Statement> Statements();

  absl::StatusOr<CreditLiability> ReadCreditLiability() override;
  absl::StatusOr<DormantPage> ReadDormantAccounts(int days, const std::string& after_account_id,
                                                  int limit) override;

 private:
  pg::Pool& pool_;
};

}  // namespace giftcard::account_credit

#endif  // GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_PG_REPORT_STORE_H_

// ReportStore over code-vault's Postgres: each report one named statement
// in one read (a standby's when configured).
#ifndef GIFTCARD_SERVICES_CODE_VAULT_STORAGE_PG_REPORT_STORE_H_
#define GIFTCARD_SERVICES_CODE_VAULT_STORAGE_PG_REPORT_STORE_H_

#include <vector>

#include "pg/pool.h"
#include "services/code_vault/domain/report_service.h"

namespace giftcard::code_vault {

class PgReportStore : public ReportStore {
 public:
  explicit PgReportStore(pg::Pool& pool) : pool_(pool) {}

  // The statements it runs; the pool must prepare them.
  static std::vector<pg::Statement> Statements();

  absl::StatusOr<CodeLiability> ReadCodeLiability() override;
  absl::StatusOr<BreakageReport> ReadBreakage() override;

 private:
  pg::Pool& pool_;
};

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_STORAGE_PG_REPORT_STORE_H_

// Finance's reads of the vault: the face value of sold,
// unredeemed codes (the vault's side of the liability) and breakage (sold
// codes that expired or were voided unredeemed), summed where the rows are
// (storage/pg_report_store.h).
#ifndef GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_REPORT_SERVICE_H_
#define GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_REPORT_SERVICE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace giftcard::code_vault {

struct CurrencyCodes {
  std::string currency_code;
  int64_t active_count = 0, active_minor = 0;
  int64_t held_count = 0, held_minor = 0;
  int64_t redeeming_count = 0, redeeming_minor = 0;
};

struct CodeLiability {
  std::vector<CurrencyCodes> currencies;  // In currency order.
  absl::Time read_time;
};

enum class BreakageKind { kExpired, kVoided };

struct BreakageRow {
  std::string batch_id;
  std::string month;  // YYYY-MM, UTC.
  BreakageKind kind = BreakageKind::kExpired;
  std::string currency_code;
  int64_t code_count = 0;
  int64_t value_minor = 0;
};

struct BreakageReport {
  std::vector<BreakageRow> rows;  // By month, batch, kind.
  absl::Time read_time;
};

// What the reports read; the Postgres implementation is
// storage/pg_report_store.h.
class ReportStore {
 public:
  virtual ~ReportStore() = default;
  virtual absl::StatusOr<CodeLiability> ReadCodeLiability() = 0;
  virtual absl::StatusOr<BreakageReport> ReadBreakage() = 0;
};

// The reports take no parameters yet: the service passes them through, the
// place for a period or a batch filter when finance asks for one.
class ReportService {
 public:
  explicit ReportService(ReportStore& store) : store_(store) {}
  absl::StatusOr<CodeLiability> CodeLiabilityReport() { return store_.ReadCodeLiability(); }
  absl::StatusOr<BreakageReport> Breakage() { return store_.ReadBreakage(); }

 private:
  ReportStore& store_;
};

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_REPORT_SERVICE_H_

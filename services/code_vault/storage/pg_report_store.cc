#include "services/code_vault/storage/pg_report_store.h"

#include "services/code_vault/storage/sql/statements.h"

namespace giftcard::code_vault {

std::vector<pg::Statement> PgReportStore::Statements() {
  return {sql::kReportCodeLiability, sql::kReportBreakage};
}

absl::StatusOr<CodeLiability> PgReportStore::ReadCodeLiability() {
  CodeLiability out;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    out = CodeLiability{};
    out.read_time = absl::Now();
    for (const auto& row : tx.exec_prepared(sql::kReportCodeLiability.name)) {
      out.currencies.push_back(
          {row["currency_code"].as<std::string>(), row["active_codes"].as<int64_t>(),
           row["active_minor"].as<int64_t>(), row["blocked_codes"].as<int64_t>(),
           row["blocked_minor"].as<int64_t>(), row["redeeming_codes"].as<int64_t>(),
           row["redeeming_minor"].as<int64_t>()});
      out.read_time = absl::FromUnixMicros(row["read_time_us"].as<int64_t>());
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<BreakageReport> PgReportStore::ReadBreakage() {
  BreakageReport out;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    out = BreakageReport{};
    out.read_time = absl::Now();
    for (const auto& row : tx.exec_prepared(sql::kReportBreakage.name)) {
      out.rows.push_back({row["batch_id"].as<std::string>(), row["month"].as<std::string>(),
                          row["kind"].as<std::string>() == "VOIDED" ? BreakageKind::kVoided
                                                                    : BreakageKind::kExpired,
                          row["currency_code"].as<std::string>(), row["codes"].as<int64_t>(),
                          row["amount_minor"].as<int64_t>()});
      out.read_time = absl::FromUnixMicros(row["read_time_us"].as<int64_t>());
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace giftcard::code_vault

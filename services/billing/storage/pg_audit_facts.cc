#include "services/billing/storage/pg_audit_facts.h"

#include "services/billing/storage/sql/statements.h"

namespace giftcard::billing {

std::vector<pg::Statement> AuditStatements() {
  return {sql::kAuditSnapshotTime, sql::kAuditApplications};
}

absl::StatusOr<audit::BillingFacts> ReadAuditFacts(pg::Pool& pool) {
  audit::BillingFacts f;
  absl::Status s = pool.ReadSnapshot([&](pqxx::transaction_base& tx) {
    f = audit::BillingFacts{};
    f.snapshot_time = absl::FromUnixMicros(
        tx.exec_prepared1(sql::kAuditSnapshotTime.name)["snapshot_time_us"].as<int64_t>());
    for (const auto& row : tx.exec_prepared(sql::kAuditApplications.name)) {
      f.applications.push_back(
          {row["invoice_id"].as<std::string>(), row["account_id"].as<std::string>(),
           row["state"].as<std::string>(), row["debit_transfer_id"].as<std::string>(),
           row["reversal_transfer_id"].as<std::string>(), row["applied_minor"].as<int64_t>()});
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return f;
}

}  // namespace giftcard::billing

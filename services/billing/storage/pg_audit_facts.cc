#include "services/billing/storage/pg_audit_facts.h"

namespace giftcard::billing {
namespace {

// The statements, each named once: the name prepares and executes it.
const pg::Statement kSnapshotTime{"bl_audit_snapshot_time", "SELECT " + pg::Micros("now()")};
const pg::Statement kApplications{
    "bl_audit_applications",
    "SELECT invoice_id, account_id, state, coalesce(debit_transfer_id, ''), "
    "coalesce(reversal_transfer_id, ''), coalesce(applied_minor, 0) FROM credit_applications"};

}  // namespace

std::vector<pg::Statement> AuditStatements() { return {kSnapshotTime, kApplications}; }

absl::StatusOr<audit::BillingFacts> ReadAuditFacts(pg::Pool& pool) {
  audit::BillingFacts f;
  absl::Status s = pool.ReadSnapshot([&](pqxx::transaction_base& tx) {
    f = audit::BillingFacts{};
    f.snapshot_time = absl::FromUnixMicros(tx.exec_prepared1(kSnapshotTime.name)[0].as<int64_t>());
    for (const auto& row : tx.exec_prepared(kApplications.name)) {
      f.applications.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                                row[2].as<std::string>(), row[3].as<std::string>(),
                                row[4].as<std::string>(), row[5].as<int64_t>()});
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return f;
}

}  // namespace giftcard::billing

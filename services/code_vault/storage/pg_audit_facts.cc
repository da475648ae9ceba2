#include "services/code_vault/storage/pg_audit_facts.h"

#include "services/code_vault/storage/sql/statements.h"

namespace giftcard::code_vault {

std::vector<pg::Statement> AuditStatements() {
  return {sql::kAuditSnapshotTime, sql::kAuditRedemptions, sql::kAuditRedeemedCodes,
          sql::kAuditClawbacks};
}

absl::StatusOr<audit::VaultFacts> ReadAuditFacts(pg::Pool& pool) {
  audit::VaultFacts f;
  absl::Status s = pool.ReadSnapshot([&](pqxx::transaction_base& tx) {
    f = audit::VaultFacts{};
    f.snapshot_time = absl::FromUnixMicros(
        tx.exec_prepared1(sql::kAuditSnapshotTime.name)["snapshot_time_us"].as<int64_t>());
    for (const auto& row : tx.exec_prepared(sql::kAuditRedemptions.name)) {
      f.redemptions.push_back({row["redemption_id"].as<std::string>(),
                               row["account_id"].as<std::string>(), row["state"].as<std::string>(),
                               row["currency_code"].as<std::string>(),
                               row["amount_minor"].as<int64_t>()});
    }
    for (const auto& row : tx.exec_prepared(sql::kAuditRedeemedCodes.name)) {
      f.redeemed_codes.push_back({row["serial"].as<std::string>(),
                                  row["redemption_id"].as<std::string>(),
                                  row["redeemed_by_account_id"].as<std::string>()});
    }
    for (const auto& row : tx.exec_prepared(sql::kAuditClawbacks.name)) {
      f.clawbacks.push_back(
          {row["clawback_id"].as<std::string>(), row["redemption_id"].as<std::string>(),
           row["state"].as<std::string>(), row["ledger_request_id"].as<std::string>(),
           row["currency_code"].as<std::string>(), row["clawed_back_minor"].as<int64_t>(),
           row["code_state"].as<std::string>()});
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return f;
}

}  // namespace giftcard::code_vault

#include "services/code_vault/storage/pg_audit_facts.h"

namespace giftcard::code_vault {
namespace {

// The statements, each named once: the name prepares and executes it.
const pg::Statement kSnapshotTime{"cv_audit_snapshot_time", "SELECT " + pg::Micros("now()")};
const pg::Statement kRedemptions{
    "cv_audit_redemptions",
    "SELECT redemption_id::text, account_id, state, currency_code, amount_minor "
    "FROM redemptions"};
const pg::Statement kRedeemedCodes{
    "cv_audit_redeemed_codes",
    "SELECT serial, coalesce(redemption_id::text, ''), coalesce(redeemed_by_account_id, '') "
    "FROM codes WHERE state = 'REDEEMED'"};
const pg::Statement kClawbacks{"cv_audit_clawbacks",
                               "SELECT k.clawback_id::text, k.redemption_id::text, k.state, "
                               "'vault:clawback:' || k.clawback_id::text, k.currency_code, "
                               "coalesce(k.clawed_back_minor, 0), coalesce(c.state, '') "
                               "FROM clawbacks k LEFT JOIN codes c ON c.code_hash = k.code_hash"};

}  // namespace

std::vector<pg::Statement> AuditStatements() {
  return {kSnapshotTime, kRedemptions, kRedeemedCodes, kClawbacks};
}

absl::StatusOr<audit::VaultFacts> ReadAuditFacts(pg::Pool& pool) {
  audit::VaultFacts f;
  absl::Status s = pool.ReadSnapshot([&](pqxx::transaction_base& tx) {
    f = audit::VaultFacts{};
    f.snapshot_time = absl::FromUnixMicros(tx.exec_prepared1(kSnapshotTime.name)[0].as<int64_t>());
    for (const auto& row : tx.exec_prepared(kRedemptions.name)) {
      f.redemptions.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                               row[2].as<std::string>(), row[3].as<std::string>(),
                               row[4].as<int64_t>()});
    }
    for (const auto& row : tx.exec_prepared(kRedeemedCodes.name)) {
      f.redeemed_codes.push_back(
          {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()});
    }
    for (const auto& row : tx.exec_prepared(kClawbacks.name)) {
      f.clawbacks.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                             row[2].as<std::string>(), row[3].as<std::string>(),
                             row[4].as<std::string>(), row[5].as<int64_t>(),
                             row[6].as<std::string>()});
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return f;
}

}  // namespace giftcard::code_vault

#include "services/account_credit/storage/pg_audit_facts.h"

#include "services/account_credit/storage/sql/statements.h"

namespace giftcard::account_credit {

std::vector<pg::Statement> AuditStatements() {
  return {sql::kAuditCurrencySums, sql::kAuditBalances, sql::kAuditTransfers};
}

absl::StatusOr<audit::LedgerFacts> ReadAuditFacts(pg::Pool& pool) {
  audit::LedgerFacts f;
  absl::Status s = pool.ReadSnapshot([&](pqxx::transaction_base& tx) {
    f = audit::LedgerFacts{};
    for (const auto& row : tx.exec_prepared(sql::kAuditCurrencySums.name)) {
      f.currency_sums[row["currency_code"].as<std::string>()] = row["sum_minor"].as<int64_t>();
    }
    for (const auto& row : tx.exec_prepared(sql::kAuditBalances.name)) {
      f.balances.push_back({row["account_id"].as<std::string>(), row["balance_minor"].as<int64_t>(),
                            row["entries_minor"].as<int64_t>(),
                            row["currency_code"].as<std::string>(),
                            row["foreign_entries"].as<int64_t>(), row["owed_minor"].as<int64_t>(),
                            row["transfers_owed_minor"].as<int64_t>()});
    }
    for (const auto& row : tx.exec_prepared(sql::kAuditTransfers.name)) {
      audit::LedgerFacts::Transfer t;
      t.transfer_id = row["transfer_id"].as<std::string>();
      t.request_id = row["request_id"].as<std::string>();
      t.kind = row["kind"].as<std::string>();
      t.account_id = row["account_id"].as<std::string>();
      t.currency_code = row["currency_code"].as<std::string>();
      t.reverses_transfer_id = row["reverses_transfer_id"].as<std::string>();
      t.amount_minor = row["amount_minor"].as<int64_t>();
      t.create_time = absl::FromUnixMicros(row["create_time_us"].as<int64_t>());
      t.entries = row["entries"].as<int>();
      t.entries_sum = row["entries_sum_minor"].as<int64_t>();
      t.customer_side = row["customer_side_minor"].as<int64_t>();
      t.owed_added_minor = row["owed_added_minor"].as<int64_t>();
      t.owed_repaid_minor = row["owed_repaid_minor"].as<int64_t>();
      f.transfers.push_back(std::move(t));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return f;
}

}  // namespace giftcard::account_credit

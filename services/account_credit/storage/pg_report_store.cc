#include "services/account_credit/storage/pg_report_store.h"

#include "services/account_credit/storage/sql/statements.h"

namespace giftcard::account_credit {

std::vector<pg::Statement> PgReportStore::Statements() {
  return {sql::kReportCreditLiability, sql::kReportDormantAccounts};
}

absl::StatusOr<CreditLiability> PgReportStore::ReadCreditLiability() {
  CreditLiability out;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    out = CreditLiability{};
    out.read_time = absl::Now();
    for (const auto& row : tx.exec_prepared(sql::kReportCreditLiability.name)) {
      out.currencies.push_back({row["currency_code"].as<std::string>(),
                                row["balance_minor"].as<int64_t>(), row["accounts"].as<int64_t>()});
      out.read_time = absl::FromUnixMicros(row["read_time_us"].as<int64_t>());
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<DormantPage> PgReportStore::ReadDormantAccounts(int days,
                                                               const std::string& after_account_id,
                                                               int limit) {
  DormantPage out;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    out = DormantPage{};
    for (const auto& row :
         tx.exec_prepared(sql::kReportDormantAccounts.name, after_account_id, days, limit + 1)) {
      if (static_cast<int>(out.accounts.size()) == limit) {
        out.more = true;
        break;
      }
      out.accounts.push_back({row["account_id"].as<std::string>(), row["country"].as<std::string>(),
                              row["currency_code"].as<std::string>(),
                              row["balance_minor"].as<int64_t>(),
                              absl::FromUnixMicros(row["last_entry_time_us"].as<int64_t>())});
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace giftcard::account_credit

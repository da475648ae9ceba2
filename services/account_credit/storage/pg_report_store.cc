#include "services/account_credit/storage/pg_report_store.h"

namespace giftcard::account_credit {
namespace {

const pg::Statement kCreditLiability{
    "ac_report_credit_liability",
    "SELECT currency_code, sum(balance_minor)::bigint, count(*) FILTER (WHERE balance_minor > "
    "0), " +
        pg::Micros("now()") +
        " FROM accounts GROUP BY currency_code HAVING sum(balance_minor) > 0 ORDER BY 1"};
// An account's last entry is its highest entry id (the primary key's
// order): one index probe per account holding credit.
const pg::Statement kDormantAccounts{
    "ac_report_dormant_accounts",
    "SELECT a.account_id, a.country, a.currency_code, a.balance_minor, " +
        pg::Micros("last.create_time") +
        " FROM accounts a"
        " JOIN LATERAL (SELECT create_time FROM ledger_entries e"
        "   WHERE e.account_id = a.account_id ORDER BY entry_id DESC LIMIT 1) last ON true"
        " WHERE a.balance_minor > 0 AND a.account_id > $1"
        "   AND last.create_time < now() - make_interval(days => $2)"
        " ORDER BY a.account_id LIMIT $3"};

}  // namespace

std::vector<pg::Statement> PgReportStore::Statements() {
  return {kCreditLiability, kDormantAccounts};
}

absl::StatusOr<CreditLiability> PgReportStore::ReadCreditLiability() {
  CreditLiability out;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    out = CreditLiability{};
    out.read_time = absl::Now();
    for (const auto& row : tx.exec_prepared(kCreditLiability.name)) {
      out.currencies.push_back(
          {row[0].as<std::string>(), row[1].as<int64_t>(), row[2].as<int64_t>()});
      out.read_time = absl::FromUnixMicros(row[3].as<int64_t>());
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
         tx.exec_prepared(kDormantAccounts.name, after_account_id, days, limit + 1)) {
      if (static_cast<int>(out.accounts.size()) == limit) {
        out.more = true;
        break;
      }
      out.accounts.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                              row[2].as<std::string>(), row[3].as<int64_t>(),
                              absl::FromUnixMicros(row[4].as<int64_t>())});
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace giftcard::account_credit

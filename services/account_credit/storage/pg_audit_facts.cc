#include "services/account_credit/storage/pg_audit_facts.h"

namespace giftcard::account_credit {
namespace {

// The statements, each named once: the name prepares and executes it.
const pg::Statement kCurrencySums{
    "ac_audit_currency_sums",
    "SELECT currency_code, sum(amount_minor) FROM ledger_entries GROUP BY 1"};
// A balance counts in its account's currency: entries in any other
// are counted apart, never added to it. The owed amount beside what its
// transfers added and repaid.
const pg::Statement kBalances{
    "ac_audit_balances",
    "SELECT a.account_id, a.balance_minor, "
    "coalesce(sum(e.amount_minor) FILTER (WHERE e.currency_code = a.currency_code), 0), "
    "a.currency_code, count(e.entry_id) FILTER (WHERE e.currency_code <> a.currency_code), "
    "a.owed_minor, (SELECT coalesce(sum(coalesce(t.owed_added_minor, 0) - t.owed_repaid_minor), "
    "0) FROM transfers t WHERE t.account_id = a.account_id) "
    "FROM accounts a LEFT JOIN ledger_entries e USING (account_id) GROUP BY 1, 2, 4"};
const pg::Statement kTransfers{
    "ac_audit_transfers",
    "SELECT t.transfer_id::text, t.request_id, t.kind, t.account_id, t.currency_code, "
    "coalesce(t.reverses_transfer_id::text, ''), t.amount_minor, " +
        pg::Micros("t.create_time") +
        ", count(e.entry_id), coalesce(sum(e.amount_minor), 0), "
        "coalesce(sum(e.amount_minor) FILTER (WHERE e.account_id = t.account_id), 0), "
        "coalesce(t.owed_added_minor, -1), t.owed_repaid_minor "
        "FROM transfers t LEFT JOIN ledger_entries e ON e.transfer_id = t.transfer_id "
        "GROUP BY t.request_id"};

}  // namespace

std::vector<pg::Statement> AuditStatements() { return {kCurrencySums, kBalances, kTransfers}; }

absl::StatusOr<audit::LedgerFacts> ReadAuditFacts(pg::Pool& pool) {
  audit::LedgerFacts f;
  absl::Status s = pool.ReadSnapshot([&](pqxx::transaction_base& tx) {
    f = audit::LedgerFacts{};
    for (const auto& row : tx.exec_prepared(kCurrencySums.name)) {
      f.currency_sums[row[0].as<std::string>()] = row[1].as<int64_t>();
    }
    for (const auto& row : tx.exec_prepared(kBalances.name)) {
      f.balances.push_back({row[0].as<std::string>(), row[1].as<int64_t>(), row[2].as<int64_t>(),
                            row[3].as<std::string>(), row[4].as<int64_t>(), row[5].as<int64_t>(),
                            row[6].as<int64_t>()});
    }
    for (const auto& row : tx.exec_prepared(kTransfers.name)) {
      audit::LedgerFacts::Transfer t;
      t.transfer_id = row[0].as<std::string>();
      t.request_id = row[1].as<std::string>();
      t.kind = row[2].as<std::string>();
      t.account_id = row[3].as<std::string>();
      t.currency_code = row[4].as<std::string>();
      t.reverses_transfer_id = row[5].as<std::string>();
      t.amount_minor = row[6].as<int64_t>();
      t.create_time = absl::FromUnixMicros(row[7].as<int64_t>());
      t.entries = row[8].as<int>();
      t.entries_sum = row[9].as<int64_t>();
      t.customer_side = row[10].as<int64_t>();
      t.owed_added_minor = row[11].as<int64_t>();
      t.owed_repaid_minor = row[12].as<int64_t>();
      f.transfers.push_back(std::move(t));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return f;
}

}  // namespace giftcard::account_credit

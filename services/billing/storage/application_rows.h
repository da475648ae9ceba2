// The credit application's statements (storage/sql/*.sql, as sql::k<Name>),
// shared by the blocking store (PgApplicationStore, on libpqxx) and the
// engine's (LoopApplicationStore, on pg::LoopClient), and a row to a
// CreditApplication for either kind of row (a pqxx::row, or a pg::TextRow
// of a pipelined result).
#ifndef GIFTCARD_SERVICES_BILLING_STORAGE_APPLICATION_ROWS_H_
#define GIFTCARD_SERVICES_BILLING_STORAGE_APPLICATION_ROWS_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "pg/pool.h"
#include "pg/text_row.h"
#include "services/billing/domain/model.h"
#include "services/billing/storage/sql/statements.h"

namespace giftcard::billing {

// A credit application of a row of the statements that return one (get,
// insert, mark_applied, ...: storage/sql/).
template <typename Row>
CreditApplication ApplicationFromRow(const Row& row) {
  const pg::NamedRow<Row> r(row);
  CreditApplication a;
  a.invoice_id = pg::Text(r["invoice_id"]);
  a.account_id = pg::Text(r["account_id"]);
  a.amount_due = {pg::Text(r["currency_code"]), pg::Int64(r["amount_due_minor"])};
  a.state = ApplicationStateFromName(pg::Text(r["state"])).value_or(ApplicationState::kPending);
  a.applied_minor = pg::Int64(r["applied_minor"]);
  a.remaining_credit_minor = pg::Int64(r["remaining_credit_minor"]);
  a.debit_transfer_id = pg::Text(r["debit_transfer_id"]);
  a.create_time = absl::FromUnixMicros(pg::Int64(r["create_time_us"]));
  a.reversal_transfer_id = pg::Text(r["reversal_transfer_id"]);
  a.update_time = absl::FromUnixMicros(pg::Int64(r["update_time_us"]));
  return a;
}

// The insert's parameters for a batch, an element of each per application
// (bl_insert_many's arrays; bl_insert takes the first of each).
struct InsertColumns {
  std::vector<std::string> ids, accounts, currencies, amounts;
};
inline InsertColumns InsertColumnsOf(const std::vector<CreditApplication>& batch) {
  InsertColumns c;
  for (const CreditApplication& a : batch) {
    c.ids.push_back(a.invoice_id);
    c.accounts.push_back(a.account_id);
    c.currencies.push_back(a.amount_due.currency_code);
    c.amounts.push_back(std::to_string(a.amount_due.amount_minor));
  }
  return c;
}

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_STORAGE_APPLICATION_ROWS_H_

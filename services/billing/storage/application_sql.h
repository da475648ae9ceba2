// The credit application's SQL, shared by the blocking store
// (PgApplicationStore, on libpqxx) and the engine's (LoopApplicationStore,
// on pg::LoopClient): the statements, and a row to a CreditApplication for
// either kind of row (a pqxx::row, or a pg::TextRow of a pipelined result).
#ifndef GIFTCARD_SERVICES_BILLING_STORAGE_APPLICATION_SQL_H_
#define GIFTCARD_SERVICES_BILLING_STORAGE_APPLICATION_SQL_H_

#include <string>

#include "absl/time/time.h"
#include "pg/pool.h"
#include "pg/text_row.h"
#include "services/billing/domain/model.h"

namespace giftcard::billing {

// The columns ApplicationFromRow reads.
const std::string& Columns();

template <typename Row>
CreditApplication ApplicationFromRow(const Row& row) {
  CreditApplication a;
  a.invoice_id = pg::Text(row[0]);
  a.account_id = pg::Text(row[1]);
  a.amount_due = {pg::Text(row[2]), pg::Int64(row[3])};
  a.state = ApplicationStateFromName(pg::Text(row[4])).value_or(ApplicationState::kPending);
  a.applied_minor = pg::Int64(row[5]);
  a.remaining_credit_minor = pg::Int64(row[6]);
  a.debit_transfer_id = pg::Text(row[7]);
  a.create_time = absl::FromUnixMicros(pg::Int64(row[8]));
  a.reversal_transfer_id = pg::Text(row[9]);
  a.update_time = absl::FromUnixMicros(pg::Int64(row[10]));
  return a;
}

// bl_insert, bl_insert_many, bl_get, bl_mark_applied, bl_mark_applied_many,
// bl_drop_pending, bl_mark_reversal_pending, bl_mark_reversed,
// bl_cancel_reversal, bl_claim_unsettled: see application_sql.cc.
extern const pg::Statement kInsert;
extern const pg::Statement kInsertMany;
extern const pg::Statement kGet;
extern const pg::Statement kMarkApplied;
extern const pg::Statement kMarkAppliedMany;
extern const pg::Statement kDropPending;
extern const pg::Statement kMarkReversalPending;
extern const pg::Statement kMarkReversed;
extern const pg::Statement kCancelReversal;
extern const pg::Statement kClaimUnsettled;

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_STORAGE_APPLICATION_SQL_H_

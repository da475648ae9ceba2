#include "services/billing/storage/application_sql.h"

#include "absl/strings/str_cat.h"

namespace giftcard::billing {

const std::string& Columns() {
  static const auto* cols = new std::string(
      absl::StrCat("invoice_id, account_id, currency_code, amount_due_minor, state, "
                   "coalesce(applied_minor, 0), coalesce(remaining_credit_minor, 0), "
                   "coalesce(debit_transfer_id, ''), ",
                   pg::Micros("create_time"), ", coalesce(reversal_transfer_id, ''), ",
                   pg::Micros("update_time")));
  return *cols;
}

// The statements, each named once: the name prepares and executes it.
const pg::Statement kInsert{
    "bl_insert",
    "INSERT INTO credit_applications (invoice_id, account_id, currency_code, amount_due_minor,"
    " state) VALUES ($1, $2, $3, $4, 'PENDING') ON CONFLICT (invoice_id) DO NOTHING"
    " RETURNING " +
        Columns()};
// bl_insert for a batch; the rows it inserted (an invoice known already,
// or twice in the batch, has none for its second).
const pg::Statement kInsertMany{
    "bl_insert_many",
    "INSERT INTO credit_applications (invoice_id, account_id, currency_code, amount_due_minor,"
    " state) SELECT i, a, c, m, 'PENDING' FROM unnest($1::text[], $2::text[], $3::text[],"
    " $4::bigint[]) WITH ORDINALITY AS q(i, a, c, m, ord) ORDER BY ord"
    " ON CONFLICT (invoice_id) DO NOTHING RETURNING " +
        Columns()};
const pg::Statement kGet{"bl_get",
                         "SELECT " + Columns() + " FROM credit_applications WHERE invoice_id = $1"};
// Each state change starts a new saga step: its retries start afresh.
const pg::Statement kMarkApplied{
    "bl_mark_applied",
    "UPDATE credit_applications SET state = 'APPLIED', debit_transfer_id = $2,"
    " applied_minor = $3, remaining_credit_minor = $4, update_time = now(),"
    " attempts = 0, next_attempt_time = now()"
    " WHERE invoice_id = $1 AND state = 'PENDING'"
    " RETURNING " +
        Columns()};
// bl_mark_applied for a batch; the rows it changed.
const pg::Statement kMarkAppliedMany{
    "bl_mark_applied_many",
    "UPDATE credit_applications c SET state = 'APPLIED', debit_transfer_id = q.t,"
    " applied_minor = q.applied, remaining_credit_minor = q.remaining, update_time = now(),"
    " attempts = 0, next_attempt_time = now()"
    " FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[])"
    "   AS q(i, t, applied, remaining)"
    " WHERE c.invoice_id = q.i AND c.state = 'PENDING'"
    " RETURNING " +
        Columns()};
const pg::Statement kDropPending{
    "bl_drop_pending",
    "DELETE FROM credit_applications WHERE invoice_id = $1 AND state = 'PENDING'"};
const pg::Statement kMarkReversalPending{
    "bl_mark_reversal_pending",
    "UPDATE credit_applications SET state = 'REVERSAL_PENDING', reverse_reason = $2,"
    " update_time = now(), attempts = 0, next_attempt_time = now()"
    " WHERE invoice_id = $1 AND state = 'APPLIED'"
    " RETURNING " +
        Columns()};
const pg::Statement kMarkReversed{
    "bl_mark_reversed",
    "UPDATE credit_applications SET state = 'REVERSED', reversal_transfer_id = nullif($2, ''),"
    " remaining_credit_minor = $3, update_time = now()"
    " WHERE invoice_id = $1 AND state = 'REVERSAL_PENDING'"
    " RETURNING " +
        Columns()};
const pg::Statement kCancelReversal{
    "bl_cancel_reversal",
    "UPDATE credit_applications SET state = 'APPLIED', update_time = now()"
    " WHERE invoice_id = $1 AND state = 'REVERSAL_PENDING'"
    " RETURNING " +
        Columns()};
// $1 min_age (ms), $2 limit, $3 the longest backoff (ms).
const pg::Statement kClaimUnsettled{
    "bl_claim_unsettled",
    "UPDATE credit_applications SET attempts = attempts + 1, next_attempt_time = now() + "
    " make_interval(secs => least($3::float8,"
    "   $1::float8 * power(2, least(attempts, 30))) / 1000) "
    "FROM (SELECT invoice_id AS i FROM credit_applications"
    " WHERE state IN ('PENDING', 'REVERSAL_PENDING') AND next_attempt_time <= now()"
    "   AND update_time < now() - make_interval(secs => $1::float8 / 1000)"
    " ORDER BY next_attempt_time LIMIT $2 FOR UPDATE SKIP LOCKED) due "
    "WHERE invoice_id = due.i RETURNING " +
        Columns() + ", attempts"};

}  // namespace giftcard::billing

#include "services/billing/storage/pg_application_store.h"

#include "absl/strings/str_cat.h"
#include "errors/status.h"

namespace giftcard::billing {
namespace {

const std::string& Columns() {
  static const auto* cols = new std::string(
      absl::StrCat("invoice_id, account_id, currency_code, amount_due_minor, state, "
                   "coalesce(applied_minor, 0), coalesce(remaining_credit_minor, 0), "
                   "coalesce(debit_transfer_id, ''), ",
                   pg::Micros("create_time"), ", coalesce(reversal_transfer_id, ''), ",
                   pg::Micros("update_time")));
  return *cols;
}

CreditApplication FromRow(const pqxx::row& row) {
  CreditApplication a;
  a.invoice_id = row[0].as<std::string>();
  a.account_id = row[1].as<std::string>();
  a.amount_due = {row[2].as<std::string>(), row[3].as<int64_t>()};
  a.state = ApplicationStateFromName(row[4].as<std::string>()).value_or(ApplicationState::kPending);
  a.applied_minor = row[5].as<int64_t>();
  a.remaining_credit_minor = row[6].as<int64_t>();
  a.debit_transfer_id = row[7].as<std::string>();
  a.create_time = absl::FromUnixMicros(row[8].as<int64_t>());
  a.reversal_transfer_id = row[9].as<std::string>();
  a.update_time = absl::FromUnixMicros(row[10].as<int64_t>());
  return a;
}

absl::Status InvoiceNotFound(const std::string& invoice_id) {
  return errors::Error(absl::StatusCode::kNotFound, errors::reason::kInvoiceNotFound,
                       "no credit application for this invoice", {{"invoice_id", invoice_id}});
}

// The statements, each named once: the name prepares and executes it.
const pg::Statement kInsert{
    "bl_insert",
    "INSERT INTO credit_applications (invoice_id, account_id, currency_code, amount_due_minor,"
    " state) VALUES ($1, $2, $3, $4, 'PENDING') ON CONFLICT (invoice_id) DO NOTHING"
    " RETURNING " +
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

}  // namespace

std::vector<pg::Statement> PgApplicationStore::Statements() {
  return {kInsert,
          kGet,
          kMarkApplied,
          kDropPending,
          kMarkReversalPending,
          kMarkReversed,
          kCancelReversal,
          kClaimUnsettled};
}

absl::StatusOr<CreditApplication> PgApplicationStore::Start(const CreditApplication& pending) {
  CreditApplication out;
  // Each statement commits on its own (the insert is the one write): a new
  // invoice takes one round trip.
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    pqxx::result r =
        tx.exec_prepared(kInsert.name, pending.invoice_id, pending.account_id,
                         pending.amount_due.currency_code, pending.amount_due.amount_minor);
    if (r.empty()) r = tx.exec_prepared(kGet.name, pending.invoice_id);  // Known invoice.
    if (r.empty()) {
      // Dropped by a concurrent refusal between our two statements.
      return errors::Error(absl::StatusCode::kAborted, errors::reason::kConflict,
                           "concurrent request for this invoice; retry");
    }
    out = FromRow(r[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<CreditApplication> PgApplicationStore::UpdateThenGet(
    const std::string& invoice_id,
    const std::function<pqxx::result(pqxx::transaction_base&)>& update) {
  CreditApplication out;
  // The update is one statement that returns the row it changed; when it
  // changed none (the state had moved on), the row as it is answers.
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    pqxx::result r = update(tx);
    if (r.empty()) r = tx.exec_prepared(kGet.name, invoice_id);
    if (r.empty()) return InvoiceNotFound(invoice_id);
    out = FromRow(r[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<CreditApplication> PgApplicationStore::MarkApplied(const std::string& invoice_id,
                                                                  const std::string& transfer_id,
                                                                  int64_t applied_minor,
                                                                  int64_t remaining_credit_minor) {
  return UpdateThenGet(invoice_id, [&](pqxx::transaction_base& tx) {
    return tx.exec_prepared(kMarkApplied.name, invoice_id, transfer_id, applied_minor,
                            remaining_credit_minor);
  });
}

absl::StatusOr<CreditApplication> PgApplicationStore::MarkReversalPending(
    const std::string& invoice_id, const std::string& reason) {
  return UpdateThenGet(invoice_id, [&](pqxx::transaction_base& tx) {
    return tx.exec_prepared(kMarkReversalPending.name, invoice_id, reason);
  });
}

absl::StatusOr<CreditApplication> PgApplicationStore::MarkReversed(
    const std::string& invoice_id, const std::string& reversal_transfer_id,
    int64_t remaining_credit_minor) {
  return UpdateThenGet(invoice_id, [&](pqxx::transaction_base& tx) {
    return tx.exec_prepared(kMarkReversed.name, invoice_id, reversal_transfer_id,
                            remaining_credit_minor);
  });
}

absl::StatusOr<CreditApplication> PgApplicationStore::CancelReversal(
    const std::string& invoice_id) {
  return UpdateThenGet(invoice_id, [&](pqxx::transaction_base& tx) {
    return tx.exec_prepared(kCancelReversal.name, invoice_id);
  });
}

absl::StatusOr<std::vector<CreditApplication>> PgApplicationStore::ClaimUnsettled(
    absl::Duration min_age, int limit) {
  std::vector<CreditApplication> out;
  // One statement: safe to rerun (a lost answer only delays those rows).
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    out.clear();
    for (const auto& row :
         tx.exec_prepared(kClaimUnsettled.name, absl::ToInt64Milliseconds(min_age), limit,
                          absl::ToInt64Milliseconds(kMaxRetryBackoff))) {
      out.push_back(FromRow(row));
      out.back().attempts = row[11].as<int>();
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status PgApplicationStore::DropPending(const std::string& invoice_id) {
  return pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    tx.exec_prepared(kDropPending.name, invoice_id);
    return absl::OkStatus();
  });
}

absl::StatusOr<CreditApplication> PgApplicationStore::Get(const std::string& invoice_id) {
  CreditApplication out;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    pqxx::result r = tx.exec_prepared(kGet.name, invoice_id);
    if (r.empty()) return InvoiceNotFound(invoice_id);
    out = FromRow(r[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace giftcard::billing

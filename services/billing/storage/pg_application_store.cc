#include "services/billing/storage/pg_application_store.h"

#include <map>
#include <set>

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

// A call whose deadline passed while a batch before it held the database
// (stalled): it leaves without running.
absl::StatusOr<CreditApplication> QueuedPastDeadline() {
  return errors::DependencyUnavailable(
      "postgres", "the call's deadline passed while it waited for a batch; nothing was written");
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

}  // namespace

std::vector<pg::Statement> PgApplicationStore::Statements() {
  return {kInsert,         kInsertMany,    kMarkAppliedMany,     kGet,
          kMarkApplied,    kDropPending,   kMarkReversalPending, kMarkReversed,
          kCancelReversal, kClaimUnsettled};
}

PgApplicationStore::PgApplicationStore(pg::Pool& pool, Options options)
    : pool_(pool),
      starts_([this](const std::vector<CreditApplication>& b) { return StartBatch(b); },
              {.max_batch = options.max_batch,
               .max_in_flight = options.batches_in_flight,
               .on_batch = batch::SizeObserver("bl_insert")},
              QueuedPastDeadline),
      applied_([this](const std::vector<Applied>& b) { return MarkAppliedBatch(b); },
               {.max_batch = options.max_batch,
                .max_in_flight = options.batches_in_flight,
                .on_batch = batch::SizeObserver("bl_mark_applied")},
               QueuedPastDeadline) {}

absl::StatusOr<CreditApplication> PgApplicationStore::Start(const CreditApplication& pending) {
  return starts_.Run(pending);
}

std::vector<absl::StatusOr<CreditApplication>> PgApplicationStore::RowsOrGet(
    pqxx::transaction_base& tx, const pqxx::result& rows, const std::vector<std::string>& ids,
    const std::function<absl::Status(const std::string&)>& missing) {
  std::map<std::string, CreditApplication> by_invoice;
  for (const auto& row : rows) {
    CreditApplication a = FromRow(row);
    by_invoice.emplace(a.invoice_id, std::move(a));
  }
  std::vector<absl::StatusOr<CreditApplication>> out;
  std::set<std::string> answered;
  for (const std::string& id : ids) {
    auto it = by_invoice.find(id);
    // The row this statement wrote goes to the first item with its invoice;
    // any other item with it reads the row as it is (a concurrent call's).
    if (it != by_invoice.end() && answered.insert(id).second) {
      out.push_back(it->second);
      continue;
    }
    pqxx::result r = tx.exec_prepared(kGet.name, id);
    if (r.empty()) {
      out.push_back(missing(id));
    } else {
      out.push_back(FromRow(r[0]));
    }
  }
  return out;
}

std::vector<absl::StatusOr<CreditApplication>> PgApplicationStore::StartBatch(
    const std::vector<CreditApplication>& batch) {
  std::vector<absl::StatusOr<CreditApplication>> out;
  // Each statement commits on its own (the insert is the one write): new
  // invoices take one round trip.
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    std::vector<std::string> ids, accounts, currencies, amounts;
    for (const CreditApplication& a : batch) {
      ids.push_back(a.invoice_id);
      accounts.push_back(a.account_id);
      currencies.push_back(a.amount_due.currency_code);
      amounts.push_back(std::to_string(a.amount_due.amount_minor));
    }
    const pqxx::result rows =
        batch.size() == 1
            ? tx.exec_prepared(kInsert.name, ids[0], accounts[0], currencies[0],
                               batch[0].amount_due.amount_minor)
            : tx.exec_prepared(kInsertMany.name, pg::TextArray(ids), pg::TextArray(accounts),
                               pg::TextArray(currencies), pg::TextArray(amounts));
    out = RowsOrGet(tx, rows, ids, [](const std::string&) {
      // Dropped by a concurrent refusal between our two statements.
      return errors::Error(absl::StatusCode::kAborted, errors::reason::kConflict,
                           "concurrent request for this invoice; retry");
    });
    return absl::OkStatus();
  });
  if (!s.ok()) return std::vector<absl::StatusOr<CreditApplication>>(batch.size(), s);
  return out;
}

std::vector<absl::StatusOr<CreditApplication>> PgApplicationStore::MarkAppliedBatch(
    const std::vector<Applied>& batch) {
  std::vector<absl::StatusOr<CreditApplication>> out;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    std::vector<std::string> ids, transfers, applied, remaining;
    for (const Applied& a : batch) {
      ids.push_back(a.invoice_id);
      transfers.push_back(a.transfer_id);
      applied.push_back(std::to_string(a.applied_minor));
      remaining.push_back(std::to_string(a.remaining_credit_minor));
    }
    const pqxx::result rows =
        batch.size() == 1
            ? tx.exec_prepared(kMarkApplied.name, ids[0], transfers[0], batch[0].applied_minor,
                               batch[0].remaining_credit_minor)
            : tx.exec_prepared(kMarkAppliedMany.name, pg::TextArray(ids), pg::TextArray(transfers),
                               pg::TextArray(applied), pg::TextArray(remaining));
    out = RowsOrGet(tx, rows, ids, [](const std::string& id) { return InvoiceNotFound(id); });
    return absl::OkStatus();
  });
  if (!s.ok()) return std::vector<absl::StatusOr<CreditApplication>>(batch.size(), s);
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
  return applied_.Run({invoice_id, transfer_id, applied_minor, remaining_credit_minor});
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

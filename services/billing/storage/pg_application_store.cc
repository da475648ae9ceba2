#include "services/billing/storage/pg_application_store.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "errors/status.h"
#include "services/billing/storage/application_rows.h"

namespace giftcard::billing {
namespace {

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

}  // namespace

std::vector<pg::Statement> PgApplicationStore::Statements() {
  return {sql::kInsert,         sql::kInsertMany,    sql::kMarkAppliedMany,     sql::kGet,
          sql::kMarkApplied,    sql::kDropPending,   sql::kMarkReversalPending, sql::kMarkReversed,
          sql::kCancelReversal, sql::kClaimUnsettled};
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
    CreditApplication a = ApplicationFromRow(row);
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
    pqxx::result r = tx.exec_prepared(sql::kGet.name, id);
    if (r.empty()) {
      out.push_back(missing(id));
    } else {
      out.push_back(ApplicationFromRow(r[0]));
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
    const InsertColumns c = InsertColumnsOf(batch);
    const pqxx::result rows =
        batch.size() == 1 ? tx.exec_prepared(sql::kInsert.name, c.ids[0], c.accounts[0],
                                             c.currencies[0], batch[0].amount_due.amount_minor)
                          : tx.exec_prepared(sql::kInsertMany.name, pg::TextArray(c.ids),
                                             pg::TextArray(c.accounts), pg::TextArray(c.currencies),
                                             pg::TextArray(c.amounts));
    out = RowsOrGet(tx, rows, c.ids, [](const std::string&) {
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
    std::vector<std::string> ids, transfers, applied, remaining, update_times;
    for (const Applied& a : batch) {
      ids.push_back(a.invoice_id);
      transfers.push_back(a.transfer_id);
      applied.push_back(std::to_string(a.applied_minor));
      remaining.push_back(std::to_string(a.remaining_credit_minor));
      update_times.push_back(std::to_string(a.update_time_us));
    }
    const pqxx::result rows =
        batch.size() == 1
            ? tx.exec_prepared(sql::kMarkApplied.name, ids[0], transfers[0], batch[0].applied_minor,
                               batch[0].remaining_credit_minor, batch[0].update_time_us)
            : tx.exec_prepared(sql::kMarkAppliedMany.name, pg::TextArray(ids),
                               pg::TextArray(transfers), pg::TextArray(applied),
                               pg::TextArray(remaining), pg::TextArray(update_times));
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
    if (r.empty()) r = tx.exec_prepared(sql::kGet.name, invoice_id);
    if (r.empty()) return InvoiceNotFound(invoice_id);
    out = ApplicationFromRow(r[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<CreditApplication> PgApplicationStore::MarkApplied(const std::string& invoice_id,
                                                                  const std::string& transfer_id,
                                                                  int64_t applied_minor,
                                                                  int64_t remaining_credit_minor,
                                                                  absl::Time update_time) {
  return applied_.Run({invoice_id, transfer_id, applied_minor, remaining_credit_minor,
                       absl::ToUnixMicros(update_time)});
}

absl::StatusOr<CreditApplication> PgApplicationStore::MarkReversalPending(
    const std::string& invoice_id, const std::string& reason) {
  return UpdateThenGet(invoice_id, [&](pqxx::transaction_base& tx) {
    return tx.exec_prepared(sql::kMarkReversalPending.name, invoice_id, reason);
  });
}

absl::StatusOr<CreditApplication> PgApplicationStore::MarkReversed(
    const std::string& invoice_id, const std::string& reversal_transfer_id,
    int64_t remaining_credit_minor) {
  return UpdateThenGet(invoice_id, [&](pqxx::transaction_base& tx) {
    return tx.exec_prepared(sql::kMarkReversed.name, invoice_id, reversal_transfer_id,
                            remaining_credit_minor);
  });
}

absl::StatusOr<CreditApplication> PgApplicationStore::CancelReversal(
    const std::string& invoice_id) {
  return UpdateThenGet(invoice_id, [&](pqxx::transaction_base& tx) {
    return tx.exec_prepared(sql::kCancelReversal.name, invoice_id);
  });
}

absl::StatusOr<std::vector<CreditApplication>> PgApplicationStore::ClaimUnsettled(
    absl::Duration min_age, int limit) {
  std::vector<CreditApplication> out;
  // One statement: safe to rerun (a lost answer only delays those rows).
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    out.clear();
    for (const auto& row :
         tx.exec_prepared(sql::kClaimUnsettled.name, absl::ToInt64Milliseconds(min_age), limit,
                          absl::ToInt64Milliseconds(kMaxRetryBackoff))) {
      out.push_back(ApplicationFromRow(row));
      out.back().attempts = row["attempts"].as<int>();
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::Status PgApplicationStore::DropPending(const std::string& invoice_id) {
  return pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    tx.exec_prepared(sql::kDropPending.name, invoice_id);
    return absl::OkStatus();
  });
}

absl::StatusOr<CreditApplication> PgApplicationStore::Get(const std::string& invoice_id) {
  CreditApplication out;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    pqxx::result r = tx.exec_prepared(sql::kGet.name, invoice_id);
    if (r.empty()) return InvoiceNotFound(invoice_id);
    out = ApplicationFromRow(r[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace giftcard::billing

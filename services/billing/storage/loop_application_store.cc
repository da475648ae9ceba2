#include "services/billing/storage/loop_application_store.h"

#include <map>
#include <memory>
#include <set>
#include <utility>

#include "errors/status.h"
#include "pg/text_row.h"
#include "services/billing/storage/application_rows.h"

namespace giftcard::billing {
namespace {

using Results = absl::StatusOr<std::vector<pg::PipelineRows>>;

std::function<void(size_t)> Observer(const LoopApplicationStore::Options& options,
                                     const std::string& stage) {
  return options.on_batch ? options.on_batch(stage) : nullptr;
}

absl::Status InvoiceNotFound(const std::string& invoice_id) {
  return errors::Error(absl::StatusCode::kNotFound, errors::reason::kInvoiceNotFound,
                       "no credit application for this invoice", {{"invoice_id", invoice_id}});
}

}  // namespace

std::vector<pg::Statement> LoopApplicationStore::Statements() {
  return {sql::kInsert,      sql::kInsertMany,      sql::kGet,
          sql::kMarkApplied, sql::kMarkAppliedMany, sql::kDropPending};
}

LoopApplicationStore::LoopApplicationStore(engine::Loop& loop, pg::LoopClient& client,
                                           Options options)
    : client_(client),
      starts_(loop, engine::CopyableRun<CreditApplication, Result>([this](auto batch, auto done) {
                StartBatch(std::move(batch), done);
              }),
              {.max_batch = options.max_batch,
               .max_in_flight = 1,
               .on_batch = Observer(options, "bl_insert")}),
      applied_(loop, engine::CopyableRun<Applied, Result>([this](auto batch, auto done) {
                 MarkAppliedBatch(std::move(batch), done);
               }),
               {.max_batch = options.max_batch,
                .max_in_flight = 1,
                .on_batch = Observer(options, "bl_mark_applied")}) {}

void LoopApplicationStore::Start(const CreditApplication& pending,
                                 Callback<absl::StatusOr<CreditApplication>> done) {
  starts_.Push(pending, std::move(done));
}

void LoopApplicationStore::MarkApplied(const std::string& invoice_id, const DebitResult& debit,
                                       Callback<absl::StatusOr<CreditApplication>> done) {
  applied_.Push({invoice_id, debit}, std::move(done));
}

void LoopApplicationStore::DropPending(const std::string& invoice_id, Callback<absl::Status> done) {
  auto shared = std::make_shared<Callback<absl::Status>>(std::move(done));
  client_.Send({{sql::kDropPending.name, {invoice_id}}}, [shared](Results results) {
    std::move (*shared)(results.ok() ? absl::OkStatus() : results.status());
  });
}

void LoopApplicationStore::StartBatch(std::vector<CreditApplication> batch, Answers done) {
  std::vector<std::string> ids, accounts, currencies, amounts;
  for (const CreditApplication& a : batch) {
    ids.push_back(a.invoice_id);
    accounts.push_back(a.account_id);
    currencies.push_back(a.amount_due.currency_code);
    amounts.push_back(std::to_string(a.amount_due.amount_minor));
  }
  // Each statement commits on its own (the insert is the one write).
  pg::PipelineQuery insert =
      batch.size() == 1
          ? pg::PipelineQuery{sql::kInsert.name, {ids[0], accounts[0], currencies[0], amounts[0]}}
          : pg::PipelineQuery{sql::kInsertMany.name,
                              {pg::TextArray(ids), pg::TextArray(accounts),
                               pg::TextArray(currencies), pg::TextArray(amounts)}};
  client_.Send({std::move(insert)}, [this, ids, done](Results results) {
    if (!results.ok()) return done(std::vector<Result>(ids.size(), results.status()));
    RowsOrGet(
        results->front(), ids,
        [](const std::string&) {
          // Dropped by a concurrent refusal between our two statements.
          return errors::Error(absl::StatusCode::kAborted, errors::reason::kConflict,
                               "concurrent request for this invoice; retry");
        },
        done);
  });
}

void LoopApplicationStore::MarkAppliedBatch(std::vector<Applied> batch, Answers done) {
  std::vector<std::string> ids, transfers, applied, remaining;
  for (const Applied& a : batch) {
    ids.push_back(a.invoice_id);
    transfers.push_back(a.debit.transfer_id);
    applied.push_back(std::to_string(a.debit.amount_minor));
    remaining.push_back(std::to_string(a.debit.balance_after_minor));
  }
  pg::PipelineQuery mark =
      batch.size() == 1 ? pg::PipelineQuery{sql::kMarkApplied.name,
                                            {ids[0], transfers[0], applied[0], remaining[0]}}
                        : pg::PipelineQuery{sql::kMarkAppliedMany.name,
                                            {pg::TextArray(ids), pg::TextArray(transfers),
                                             pg::TextArray(applied), pg::TextArray(remaining)}};
  client_.Send({std::move(mark)}, [this, ids, done](Results results) {
    if (!results.ok()) return done(std::vector<Result>(ids.size(), results.status()));
    RowsOrGet(results->front(), ids, InvoiceNotFound, done);
  });
}

void LoopApplicationStore::RowsOrGet(const pg::PipelineRows& rows, std::vector<std::string> ids,
                                     std::function<absl::Status(const std::string&)> missing,
                                     Answers done) {
  std::map<std::string, CreditApplication> by_invoice;
  for (const pg::TextRow row : rows) {
    CreditApplication a = ApplicationFromRow(row);
    by_invoice.emplace(a.invoice_id, std::move(a));
  }
  auto out = std::make_shared<std::vector<Result>>(ids.size(), absl::InternalError("unanswered"));
  std::vector<size_t> to_get;
  std::vector<pg::PipelineQuery> gets;
  std::set<std::string> answered;
  for (size_t i = 0; i < ids.size(); ++i) {
    auto it = by_invoice.find(ids[i]);
    // The row this statement wrote goes to the first item with its invoice;
    // any other item with it reads the row as it is (a concurrent call's).
    if (it != by_invoice.end() && answered.insert(ids[i]).second) {
      (*out)[i] = it->second;
      continue;
    }
    to_get.push_back(i);
    gets.push_back({sql::kGet.name, {ids[i]}});
  }
  if (gets.empty()) return done(std::move(*out));
  // Reads only: one flight for all of them.
  client_.Send(gets, [out, to_get, ids, missing, done](Results found) {
    for (size_t k = 0; k < to_get.size(); ++k) {
      const size_t i = to_get[k];
      if (!found.ok()) {
        (*out)[i] = found.status();
      } else if ((*found)[k].empty()) {
        (*out)[i] = missing(ids[i]);
      } else {
        (*out)[i] = ApplicationFromRow((*found)[k].front());
      }
    }
    done(std::move(*out));
  });
}

}  // namespace giftcard::billing

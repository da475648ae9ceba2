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

// The insert statement for a batch: bl_insert for one, else bl_insert_many.
pg::PipelineQuery InsertQuery(const std::vector<CreditApplication>& batch) {
  const InsertColumns c = InsertColumnsOf(batch);
  if (batch.size() == 1) {
    return {sql::kInsert.name, {c.ids[0], c.accounts[0], c.currencies[0], c.amounts[0]}};
  }
  return {sql::kInsertMany.name,
          {pg::TextArray(c.ids), pg::TextArray(c.accounts), pg::TextArray(c.currencies),
           pg::TextArray(c.amounts)}};
}

template <typename AppliedT>
pg::PipelineQuery MarkQuery(const std::vector<AppliedT>& batch) {
  std::vector<std::string> ids, transfers, applied, remaining, update_times;
  for (const AppliedT& a : batch) {
    ids.push_back(a.invoice_id);
    transfers.push_back(a.debit.transfer_id);
    applied.push_back(std::to_string(a.debit.amount_minor));
    remaining.push_back(std::to_string(a.debit.balance_after_minor));
    update_times.push_back(std::to_string(absl::ToUnixMicros(a.update_time)));
  }
  if (batch.size() == 1) {
    return {sql::kMarkApplied.name,
            {ids[0], transfers[0], applied[0], remaining[0], update_times[0]}};
  }
  return {sql::kMarkAppliedMany.name,
          {pg::TextArray(ids), pg::TextArray(transfers), pg::TextArray(applied),
           pg::TextArray(remaining), pg::TextArray(update_times)}};
}

template <typename T>
std::vector<std::string> InvoiceIds(const std::vector<T>& batch) {
  std::vector<std::string> ids;
  for (const T& item : batch) ids.push_back(item.invoice_id);
  return ids;
}

// An inserted batch's item with no row: dropped by a concurrent refusal
// between the insert and the read.
absl::Status DroppedMeanwhile(const std::string&) {
  return errors::Error(absl::StatusCode::kAborted, errors::reason::kConflict,
                       "concurrent request for this invoice; retry");
}

}  // namespace

std::vector<pg::Statement> LoopApplicationStore::Statements() {
  return {sql::kInsert,      sql::kInsertMany,      sql::kGet,
          sql::kMarkApplied, sql::kMarkAppliedMany, sql::kDropPending};
}

LoopApplicationStore::LoopApplicationStore(engine::Loop& loop, pg::LoopClient& client,
                                           Options options)
    : client_(client),
      writes_(loop,
              [this](auto starts, auto marks, auto started, auto marked) {
                WriteFlight(std::move(starts), std::move(marks), std::move(started),
                            std::move(marked));
              },
              {.max_batch = options.max_batch,
               .on_batch = Observer(options, "bl_write"),
               .on_first = Observer(options, "bl_insert"),
               .on_second = Observer(options, "bl_mark_applied")}) {}

void LoopApplicationStore::Start(const CreditApplication& pending,
                                 Callback<absl::StatusOr<CreditApplication>> done) {
  writes_.PushFirst(pending, std::move(done));
}

void LoopApplicationStore::MarkApplied(const std::string& invoice_id, const DebitResult& debit,
                                       absl::Time update_time,
                                       Callback<absl::StatusOr<CreditApplication>> done) {
  MarkAppliedOrdered(invoice_id, debit, update_time, nullptr, std::move(done));
}

void LoopApplicationStore::MarkAppliedOrdered(const std::string& invoice_id,
                                              const DebitResult& debit, absl::Time update_time,
                                              absl::AnyInvocable<void() &&> ordered,
                                              Callback<absl::StatusOr<CreditApplication>> done) {
  auto shared = ordered == nullptr
                    ? nullptr
                    : std::make_shared<absl::AnyInvocable<void() &&>>(std::move(ordered));
  writes_.PushSecond({invoice_id, debit, update_time, std::move(shared)}, std::move(done));
}

void LoopApplicationStore::DropPending(const std::string& invoice_id, Callback<absl::Status> done) {
  auto shared = std::make_shared<Callback<absl::Status>>(std::move(done));
  client_.Send({{sql::kDropPending.name, {invoice_id}}}, [shared](Results results) {
    std::move (*shared)(results.ok() ? absl::OkStatus() : results.status());
  });
}

void LoopApplicationStore::WriteFlight(std::vector<CreditApplication> starts,
                                       std::vector<Applied> marks, Answers started,
                                       Answers marked) {
  std::vector<std::shared_ptr<absl::AnyInvocable<void() &&>>> ordered;
  for (Applied& a : marks) {
    if (a.ordered) ordered.push_back(std::move(a.ordered));
  }
  SendFlight(std::move(starts), std::move(marks), std::move(started), std::move(marked));
  // Sent: whatever the connection carries from now on runs after them.
  for (auto& o : ordered) std::move (*o)();
}

void LoopApplicationStore::SendFlight(std::vector<CreditApplication> starts,
                                      std::vector<Applied> marks, Answers started, Answers marked) {
  if (!starts.empty() && !marks.empty()) {
    return WriteJointly(std::move(starts), std::move(marks), std::move(started), std::move(marked));
  }
  if (starts.empty()) {
    started({});
  } else {
    StartBatch(std::move(starts), std::move(started));
  }
  if (marks.empty()) {
    marked({});
  } else {
    MarkAppliedBatch(std::move(marks), std::move(marked));
  }
}

void LoopApplicationStore::WriteJointly(std::vector<CreditApplication> starts,
                                        std::vector<Applied> marks, Answers started,
                                        Answers marked) {
  // The queries first: the answers below take the batches. Neither
  // statement fails on a conflict; only a deadlock splits the flight.
  pg::PipelineQuery insert = InsertQuery(starts), mark = MarkQuery(marks);
  auto parts = std::make_shared<std::pair<std::vector<CreditApplication>, std::vector<Applied>>>(
      std::move(starts), std::move(marks));
  pg::SendJointly(client_, std::move(insert), std::move(mark),
                  {.rows =
                       [this, parts, started, marked](const pg::PipelineRows& inserted,
                                                      const pg::PipelineRows& applied) {
                         RowsOrGet(inserted, InvoiceIds(parts->first), DroppedMeanwhile, started);
                         RowsOrGet(applied, InvoiceIds(parts->second), InvoiceNotFound, marked);
                       },
                   .split =
                       [this, parts, started, marked] {
                         StartBatch(std::move(parts->first), started);
                         MarkAppliedBatch(std::move(parts->second), marked);
                       },
                   .failed =
                       [parts, started, marked](const absl::Status& status) {
                         started(std::vector<Result>(parts->first.size(), status));
                         marked(std::vector<Result>(parts->second.size(), status));
                       }});
}

void LoopApplicationStore::StartBatch(std::vector<CreditApplication> batch, Answers done) {
  // Each statement commits on its own (the insert is the one write).
  client_.Send({InsertQuery(batch)}, [this, ids = InvoiceIds(batch), done](Results results) {
    if (!results.ok()) return done(std::vector<Result>(ids.size(), results.status()));
    RowsOrGet(results->front(), ids, DroppedMeanwhile, done);
  });
}

void LoopApplicationStore::MarkAppliedBatch(std::vector<Applied> batch, Answers done) {
  client_.Send({MarkQuery(batch)}, [this, ids = InvoiceIds(batch), done](Results results) {
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

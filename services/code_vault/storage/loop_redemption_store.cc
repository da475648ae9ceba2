#include "services/code_vault/storage/loop_redemption_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "errors/status.h"
#include "pg/text_row.h"
#include "services/code_vault/storage/rows.h"

namespace giftcard::code_vault {
namespace {

using Rows = pg::PipelineRows;
using Results = absl::StatusOr<std::vector<Rows>>;

std::function<void(size_t)> Observer(const LoopRedemptionStore::Options& options,
                                     const std::string& stage) {
  return options.on_batch ? options.on_batch(stage) : nullptr;
}

// A statement's only row, for statements that always return one.
absl::StatusOr<pg::TextRow> OnlyRow(const Results& results, absl::string_view statement) {
  if (!results.ok()) return results.status();
  if (results->empty() || results->front().size() != 1) {
    return absl::InternalError(absl::StrCat(statement, " returned no row"));
  }
  return results->front().front();
}

absl::Status CodeNotFound() {
  return errors::Error(absl::StatusCode::kNotFound, errors::reason::kCodeNotFound, "no such code");
}

}  // namespace

std::vector<pg::Statement> LoopRedemptionStore::Statements() {
  return {sql::kFindRedemption, sql::kLookup,          sql::kLookupMany,
          sql::kReserve,        sql::kReserveMany,     sql::kCompleteMany,
          sql::kReject,         sql::kStatusBySerials, sql::kStatusByHashes};
}

std::vector<pg::Statement> LoopRedemptionStore::StatusStatements() {
  return {sql::kStatusBySerials, sql::kStatusByHashes};
}

LoopRedemptionStore::LoopRedemptionStore(engine::Loop& loop, pg::LoopClient& client,
                                         Options options)
    : client_(client),
      completion_client_(options.completion_client ? *options.completion_client : client),
      status_client_(options.status_client ? *options.status_client : client),
      lookups_(loop,
               engine::CopyableRun<ReserveRequest, absl::StatusOr<CodeLookup>>(
                   [this](auto batch, auto done) { LookupBatch(std::move(batch), done); }),
               {.max_batch = options.max_batch,
                .max_in_flight = 1,
                .on_batch = Observer(options, "cv_lookup")}),
      writes_(loop,
              [this](auto reserves, auto completions, auto reserved, auto completed) {
                WriteFlight(std::move(reserves), std::move(completions), std::move(reserved),
                            std::move(completed));
              },
              {.max_batch = options.max_batch,
               .on_batch = Observer(options, "cv_write"),
               .on_first = Observer(options, "cv_reserve"),
               .on_second = Observer(options, "cv_complete")}),
      completions_(loop,
                   engine::CopyableRun<Completion, absl::StatusOr<Redemption>>(
                       [this](auto batch, auto done) { CompleteBatch(std::move(batch), done); }),
                   {.max_batch = options.max_batch,
                    .max_in_flight = 1,
                    .on_batch = Observer(options, "cv_complete")}),
      statuses_(loop,
                engine::CopyableRun<std::string, absl::StatusOr<Code>>(
                    [this](auto batch, auto done) { StatusBatch(std::move(batch), done); }),
                {.max_batch = options.max_batch,
                 .max_in_flight = 1,
                 .on_batch = Observer(options, "cv_status")}) {}

void LoopRedemptionStore::Lookup(const ReserveRequest& request,
                                 Callback<absl::StatusOr<CodeLookup>> done) {
  lookups_.Push(request, std::move(done));
}

void LoopRedemptionStore::LookupBatch(std::vector<ReserveRequest> batch, Answers<CodeLookup> done) {
  const size_t n = batch.size();
  if (n == 1) {
    client_.Send(
        {{sql::kLookup.name,
          {pg::ByteaArray(batch[0].code_hashes), batch[0].account_id, batch[0].request_id}}},
        [done](Results results) {
          absl::StatusOr<pg::TextRow> row = OnlyRow(results, "cv_lookup");
          if (!row.ok()) return done({row.status()});
          done({CodeLookupFromRow(*row)});
        });
    return;
  }
  const BatchParams params = ParamsOf(batch);
  client_.Send({{sql::kLookupMany.name,
                 {params.account_ids, params.request_ids, params.hash_items, params.hashes}}},
               [done, n](Results results) {
                 if (!results.ok())
                   return done(std::vector<absl::StatusOr<CodeLookup>>(n, results.status()));
                 const Rows& rows = results->front();
                 if (rows.size() != n) {
                   return done(std::vector<absl::StatusOr<CodeLookup>>(
                       n, absl::InternalError("cv_lookup_many lost a row")));
                 }
                 std::vector<absl::StatusOr<CodeLookup>> out;
                 for (const pg::TextRow row : rows) out.push_back(CodeLookupFromRow(row));
                 done(std::move(out));
               });
}

void LoopRedemptionStore::StatusBySerial(const std::string& serial,
                                         Callback<absl::StatusOr<Code>> done) {
  statuses_.Push(serial, std::move(done));
}

void LoopRedemptionStore::StatusBatch(std::vector<std::string> serials, Answers<Code> done) {
  const size_t n = serials.size();
  status_client_.Send({{sql::kStatusBySerials.name, {pg::TextArray(serials)}}},
                      [done, n](Results results) {
                        if (!results.ok())
                          return done(std::vector<absl::StatusOr<Code>>(n, results.status()));
                        std::vector<absl::StatusOr<Code>> out(n, CodeNotFound());
                        for (const pg::TextRow row : results->front()) {
                          const int64_t i = pg::Int64(pg::NamedRow(row)["i"]);
                          if (i < 1 || static_cast<size_t>(i) > n) continue;
                          out[i - 1] = CodeStatusFromRow(row);
                        }
                        done(std::move(out));
                      });
}

void LoopRedemptionStore::StatusByHashes(const std::vector<std::string>& code_hashes,
                                         Callback<absl::StatusOr<Code>> done) {
  auto shared = std::make_shared<Callback<absl::StatusOr<Code>>>(std::move(done));
  status_client_.Send({{sql::kStatusByHashes.name, {pg::ByteaArray(code_hashes)}}},
                      [shared](Results results) {
                        if (!results.ok()) return std::move(*shared)(results.status());
                        if (results->empty() || results->front().empty())
                          return std::move(*shared)(CodeNotFound());
                        std::move (*shared)(CodeStatusFromRow(results->front().front()));
                      });
}

void LoopRedemptionStore::Reject(const Redemption& pending, const absl::Status& refusal,
                                 Callback<absl::StatusOr<Redemption>> done) {
  auto shared = std::make_shared<Callback<absl::StatusOr<Redemption>>>(std::move(done));
  client_.Send(
      {{sql::kReject.name,
        {pending.account_id, pending.request_id, std::to_string(static_cast<int>(refusal.code())),
         errors::ReasonOf(refusal), std::string(refusal.message())}},
       {sql::kFindRedemption.name, {pending.account_id, pending.request_id}}},
      [shared](Results results) {
        if (!results.ok()) return std::move(*shared)(results.status());
        // Rejected now, or no longer PENDING (a concurrent retry or
        // the recovery worker settled it first): what it became.
        for (const Rows& rows : *results) {
          if (!rows.empty()) {
            return std::move(*shared)(RedemptionFromRow(rows.front()));
          }
        }
        std::move (*shared)(absl::InternalError("redemption vanished"));
      });
}

}  // namespace giftcard::code_vault

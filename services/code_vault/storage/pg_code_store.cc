// PgCodeStore's wiring and its reads: codes, batches and a code's changes.
#include "services/code_vault/storage/pg_code_store.h"

#include <utility>

#include "errors/macros.h"
#include "errors/status.h"
#include "services/code_vault/storage/rows.h"
#include "validate/validate.h"

namespace giftcard::code_vault {
namespace {

// The answer of a call whose deadline passed while it waited for a batch
// (a stalled database holding the one before): it never ran.
template <typename T>
absl::StatusOr<T> QueuedPastDeadline() {
  return errors::DependencyUnavailable(
      "postgres", "the call's deadline passed while it waited for a batch; nothing was written");
}

absl::Status CodeNotFound() {
  return errors::Error(absl::StatusCode::kNotFound, errors::reason::kCodeNotFound, "no such code");
}

}  // namespace

std::vector<pg::Statement> PgCodeStore::Statements() {
  return {// Issuance and bulk changes.
          sql::kFindBatch, sql::kInsertBatch, sql::kInsertCodes, sql::kBatchSerials,
          sql::kBatchExists, sql::kFindAdminRequest, sql::kInsertAdminRequest, sql::kSerialsInState,
          sql::kBatchStateCount, sql::kActivateBatch, sql::kActivateSerials, sql::kVoidBatch,
          sql::kVoidSerials, sql::kBlockBatch, sql::kBlockSerials, sql::kUnblockBatch,
          sql::kUnblockSerials, sql::kSetActor,
          // Reads.
          sql::kListCodes, sql::kListAllCodes, sql::kListBatches, sql::kCodeBySerial,
          sql::kCodesBySerials, sql::kCodeChanges, sql::kLastCodeChange, sql::kCodeExists,
          // Redemption.
          sql::kFindRedemption, sql::kLookup, sql::kLookupMany, sql::kReserve, sql::kReserveMany,
          sql::kCompleteMany, sql::kReject, sql::kClaimPending,
          // Clawbacks.
          sql::kClawbackTargetBySerial, sql::kClawbackTargetByRedemption, sql::kFindClawback,
          sql::kFindClawbackById, sql::kLiveClawbackOf, sql::kInsertClawback,
          sql::kCompleteClawback, sql::kRejectClawback, sql::kClaimPendingClawbacks};
}

PgCodeStore::PgCodeStore(pg::Pool& pool, Options options)
    : pool_(pool),
      stale_reads_(options.standby != nullptr ? *options.standby : pool),
      lookups_([this](const std::vector<ReserveRequest>& batch) { return LookupBatch(batch); },
               {.max_batch = options.max_batch,
                .max_in_flight = options.read_batches_in_flight,
                .on_batch = batch::SizeObserver("cv_lookup")},
               QueuedPastDeadline<CodeLookup>),
      serials_([this](const std::vector<std::string>& batch) { return SerialBatch(batch); },
               {.max_batch = options.max_batch,
                .max_in_flight = options.read_batches_in_flight,
                .on_batch = batch::SizeObserver("cv_code_by_serial")},
               QueuedPastDeadline<Code>),
      reservations_(
          [this](const std::vector<ReserveRequest>& batch) { return ReserveBatch(batch); },
          {.max_batch = options.max_batch,
           .max_in_flight = options.batches_in_flight,
           .on_batch = batch::SizeObserver("cv_reserve")},
          QueuedPastDeadline<Reservation>),
      completions_([this](const std::vector<Completion>& batch) { return CompleteBatch(batch); },
                   {.max_batch = options.max_batch,
                    .max_in_flight = options.batches_in_flight,
                    .on_batch = batch::SizeObserver("cv_complete")},
                   QueuedPastDeadline<Redemption>) {}

void PgCodeStore::SetActor(pqxx::transaction_base& tx, const Actor& actor) {
  tx.exec_prepared(sql::kSetActor.name, actor.principal, actor.reason, actor.request_id);
}

absl::StatusOr<CodePage> PgCodeStore::ListCodes(const std::string& batch_id,
                                                std::optional<CodeState> state,
                                                const std::string& after_serial, int limit) {
  CodePage out;
  const std::string state_name = state ? CodeStateName(*state) : "";
  absl::Status s = stale_reads_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    out = CodePage{};
    pqxx::result rows;
    if (batch_id.empty()) {
      rows = tx.exec_prepared(sql::kListAllCodes.name, after_serial, state_name, limit + 1);
    } else {
      if (!validate::IsUuid(batch_id) ||
          tx.exec_prepared(sql::kBatchExists.name, batch_id).empty()) {
        return errors::Error(absl::StatusCode::kNotFound, errors::reason::kBatchNotFound,
                             "no such batch", {{"batch_id", batch_id}});
      }
      rows = tx.exec_prepared(sql::kListCodes.name, batch_id, after_serial, state_name, limit + 1);
    }
    for (const auto& row : rows) {
      if (static_cast<int>(out.codes.size()) == limit) {
        out.more = true;
        break;
      }
      out.codes.push_back(CodeFromRow(row));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<BatchPage> PgCodeStore::ListBatches(int64_t before_batch_no, int limit) {
  BatchPage out;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    out = BatchPage{};
    for (const auto& row : tx.exec_prepared(sql::kListBatches.name, before_batch_no, limit + 1)) {
      if (static_cast<int>(out.batches.size()) == limit) {
        out.more = true;
        break;
      }
      const pg::NamedRow r(row);
      BatchInfo b;
      b.batch_id = pg::Text(r["batch_id"]);
      b.batch_no = pg::Int64(r["batch_no"]);
      b.code_count = pg::Int32(r["code_count"]);
      b.amount = {pg::Text(r["currency_code"]), pg::Int64(r["amount_minor"])};
      b.region = pg::Text(r["region"]);
      b.request_id = pg::Text(r["request_id"]);
      b.create_time = absl::FromUnixMicros(pg::Int64(r["create_time_us"]));
      b.expire_time = OptionalTime(r["expire_time_us"]);
      out.batches.push_back(std::move(b));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<Code> PgCodeStore::GetCodeBySerial(const std::string& serial) {
  return serials_.Run(serial);
}

std::vector<absl::StatusOr<Code>> PgCodeStore::SerialBatch(
    const std::vector<std::string>& serials) {
  std::vector<absl::StatusOr<Code>> out(serials.size(), CodeNotFound());
  absl::Status s = stale_reads_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    if (serials.size() == 1) {
      pqxx::result r = tx.exec_prepared(sql::kCodeBySerial.name, serials[0]);
      if (!r.empty()) out[0] = CodeFromRow(r[0]);
      return absl::OkStatus();
    }
    for (const auto& row : tx.exec_prepared(sql::kCodesBySerials.name, pg::TextArray(serials))) {
      out[pg::Int64(pg::NamedRow(row)["i"]) - 1] = CodeFromRow(row);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) out.assign(serials.size(), s);
  return out;
}

absl::StatusOr<Code> PgCodeStore::GetCodeByHashes(const std::vector<std::string>& code_hashes) {
  // A lookup without a caller: only the code.
  GIFTCARD_ASSIGN_OR_RETURN(CodeLookup found, lookups_.Run({code_hashes, "", ""}));
  if (!found.code) return CodeNotFound();
  return *std::move(found.code);
}

absl::StatusOr<CodeChangePage> PgCodeStore::ListCodeChanges(const std::string& serial,
                                                            int64_t after_change_id, int limit) {
  CodeChangePage out;
  absl::Status s = stale_reads_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    out = CodeChangePage{};
    pqxx::result rows =
        tx.exec_prepared(sql::kCodeChanges.name, serial, after_change_id, limit + 1);
    if (rows.empty() && tx.exec_prepared(sql::kCodeExists.name, serial).empty()) {
      return CodeNotFound();
    }
    for (const auto& row : rows) {
      if (static_cast<int>(out.changes.size()) == limit) {
        out.more = true;
        break;
      }
      out.changes.push_back(CodeChangeFromRow(row));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::optional<CodeChange>> PgCodeStore::LastCodeChange(const std::string& serial) {
  std::optional<CodeChange> out;
  absl::Status s = stale_reads_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    out.reset();
    pqxx::result rows = tx.exec_prepared(sql::kLastCodeChange.name, serial);
    if (!rows.empty()) out = CodeChangeFromRow(rows[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace giftcard::code_vault

// PgCodeStore's issuance and bulk changes: batches of codes created, then
// activated, voided, held or released by batch or by serials.
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "errors/status.h"
#include "services/code_vault/storage/pg_code_store.h"
#include "services/code_vault/storage/rows.h"
#include "validate/validate.h"

namespace giftcard::code_vault {
namespace {

std::optional<int64_t> MicrosOf(const std::optional<absl::Time>& t) {
  if (!t) return std::nullopt;
  return absl::ToUnixMicros(*t);
}

// An issuance replayed: the batch an earlier call with the request id
// issued, and its serials.
absl::Status ReplayBatch(pqxx::work& tx, const BatchSpec& spec, Batch& out) {
  pqxx::result existing = tx.exec_prepared(sql::kFindBatch.name, spec.request_id);
  if (existing.empty()) {
    return errors::Error(absl::StatusCode::kAborted, errors::reason::kConflict,
                         "concurrent request with the same request_id; retry");
  }
  const pg::NamedRow first(existing[0]);
  if (pg::Text(first["request_fingerprint"]) != spec.request_fingerprint) {
    return errors::Error(absl::StatusCode::kInvalidArgument, errors::reason::kRequestIdReused,
                         "request_id was already used for a different batch",
                         {{"request_id", spec.request_id}});
  }
  out.batch_id = pg::Text(first["batch_id"]);
  out.replayed = true;
  for (const auto& row : tx.exec_prepared(sql::kBatchSerials.name, out.batch_id)) {
    out.serials.push_back(pg::Text(pg::NamedRow(row)["serial"]));
  }
  return absl::OkStatus();
}

// The statements of one kind of bulk change, by batch and by serials
// (void and block take the reason as $2), and the states that count as
// "done" for it.
struct BulkStatements {
  const pg::Statement* by_batch;
  const pg::Statement* by_serials;
  bool takes_reason;
  const char* done_states;  // A text[] literal.
};

BulkStatements StatementsFor(BulkKind kind) {
  switch (kind) {
    case BulkKind::kActivate:
      return {&sql::kActivateBatch, &sql::kActivateSerials, false, "{ACTIVE}"};
    case BulkKind::kVoid:
      return {&sql::kVoidBatch, &sql::kVoidSerials, true, "{VOIDED}"};
    case BulkKind::kBlock:
      return {&sql::kBlockBatch, &sql::kBlockSerials, true, "{BLOCKED}"};
    case BulkKind::kUnblock:
      break;
  }
  return {&sql::kUnblockBatch, &sql::kUnblockSerials, false, "{}"};  // Counts only the total.
}

// Runs one of the change's statements on `selection` (a batch id or a
// serials array); how many codes it changed.
int64_t RunChange(pqxx::work& tx, const BulkChange& change, const pg::Statement& statement,
                  const std::string& selection) {
  const bool takes_reason = StatementsFor(change.kind).takes_reason;
  return (takes_reason ? tx.exec_prepared(statement.name, selection, change.reason)
                       : tx.exec_prepared(statement.name, selection))
      .affected_rows();
}

// The change of a whole batch: what it changed, what was already so, and
// what it skipped (codes in a state the change does not apply to).
absl::Status ChangeBatch(pqxx::work& tx, const BulkChange& change, BulkResult& out) {
  if (!validate::IsUuid(change.batch_id) ||
      tx.exec_prepared(sql::kBatchExists.name, change.batch_id).empty()) {
    return errors::Error(absl::StatusCode::kNotFound, errors::reason::kBatchNotFound,
                         "no such batch", {{"batch_id", change.batch_id}});
  }
  const BulkStatements statements = StatementsFor(change.kind);
  out.changed = RunChange(tx, change, *statements.by_batch, change.batch_id);
  const pqxx::result counted = tx.exec_prepared(sql::kBatchStateCount.name, change.batch_id,
                                                std::string(statements.done_states));
  const pg::NamedRow count(counted[0]);
  const int64_t total = pg::Int64(count["total"]);
  if (change.kind == BulkKind::kUnblock) {
    // Every code that is not held is left as it is: none is skipped.
    out.unchanged = total - out.changed;
  } else {
    const int64_t in_target = pg::Int64(count["in_target"]);
    out.unchanged = in_target - out.changed;
    out.skipped = total - in_target;
  }
  return absl::OkStatus();
}

// The change of named codes: all of them locked and checked before any
// changes (one unknown or not changeable: nothing changes).
absl::Status ChangeSerials(pqxx::work& tx, const BulkChange& change, BulkResult& out) {
  const std::string serials = pg::TextArray(change.serials);
  std::map<std::string, CodeState> state_of;
  std::map<std::string, std::optional<CodeState>> held_from;
  for (const auto& row : tx.exec_prepared(sql::kSerialsInState.name, serials)) {
    const pg::NamedRow r(row);
    const std::string serial = pg::Text(r["serial"]);
    state_of[serial] = CodeStateFromName(pg::Text(r["state"])).value_or(CodeState::kIssued);
    held_from[serial] = CodeStateFromName(pg::Text(r["blocked_from"]));
  }
  for (const auto& serial : change.serials) {
    auto it = state_of.find(serial);
    if (it == state_of.end()) {
      return errors::Error(absl::StatusCode::kNotFound, errors::reason::kCodeNotFound,
                           absl::StrCat("no such code: ", serial, "; nothing changed"),
                           {{"serial", serial}});
    }
    absl::StatusOr<bool> moves =
        BulkChangeMoves(change.kind, serial, it->second, held_from[serial]);
    if (!moves.ok()) return moves.status();
    if (!*moves) ++out.unchanged;
  }
  out.changed = RunChange(tx, change, *StatementsFor(change.kind).by_serials, serials);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Batch> PgCodeStore::CreateBatch(const BatchSpec& spec,
                                               const std::vector<NewCode>& codes) {
  Batch out;
  // A batch of up to 100,000 codes (and their change log) in one INSERT.
  absl::Status s = pool_.BulkTransact([&](pqxx::work& tx) -> absl::Status {
    out = Batch{};
    SetActor(tx, {spec.principal, "", spec.request_id});
    pqxx::result inserted =
        tx.exec_prepared(sql::kInsertBatch.name, spec.request_id, spec.request_fingerprint,
                         spec.count, spec.amount.currency_code, spec.amount.amount_minor,
                         spec.region, MicrosOf(spec.expire_time));
    if (inserted.empty()) return ReplayBatch(tx, spec, out);
    const pg::NamedRow batch(inserted[0]);
    out.batch_id = pg::Text(batch["batch_id"]);
    const int64_t batch_no = pg::Int64(batch["batch_no"]);
    std::vector<std::string> hashes, serials, last4s;
    hashes.reserve(codes.size());
    for (size_t i = 0; i < codes.size(); ++i) {
      hashes.push_back(absl::BytesToHexString(codes[i].code_hash));
      serials.push_back(MakeSerial(batch_no, static_cast<int>(i + 1)));
      last4s.push_back(codes[i].pin_last4);
    }
    const std::string key_id = codes.empty() ? "" : codes.front().pepper_key_id;
    tx.exec_prepared(sql::kInsertCodes.name, pg::TextArray(hashes), key_id, out.batch_id,
                     spec.amount.currency_code, spec.amount.amount_minor, spec.region,
                     MicrosOf(spec.expire_time), pg::TextArray(serials), pg::TextArray(last4s));
    out.serials = std::move(serials);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<BulkResult> PgCodeStore::ApplyBulkChange(const BulkChange& change) {
  BulkResult out;
  // A whole batch's codes may change at once.
  absl::Status s = pool_.BulkTransact([&](pqxx::work& tx) -> absl::Status {
    out = BulkResult{};
    SetActor(tx, {change.principal, change.reason, change.request_id});
    pqxx::result first = tx.exec_prepared(sql::kFindAdminRequest.name, change.request_id);
    if (!first.empty()) {
      const pg::NamedRow r(first[0]);
      if (pg::Text(r["request_fingerprint"]) != change.request_fingerprint) {
        return errors::Error(absl::StatusCode::kInvalidArgument, errors::reason::kRequestIdReused,
                             "request_id was already used for a different change",
                             {{"request_id", change.request_id}});
      }
      out = {pg::Int64(r["changed_count"]), pg::Int64(r["unchanged_count"]),
             pg::Int64(r["skipped_count"])};
      return absl::OkStatus();
    }
    absl::Status changed =
        change.batch_id.empty() ? ChangeSerials(tx, change, out) : ChangeBatch(tx, change, out);
    if (!changed.ok()) return changed;
    tx.exec_prepared(sql::kInsertAdminRequest.name, change.request_id, BulkKindName(change.kind),
                     change.request_fingerprint, out.changed, out.unchanged, out.skipped);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace giftcard::code_vault

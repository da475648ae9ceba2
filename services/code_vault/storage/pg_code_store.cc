#include "services/code_vault/storage/pg_code_store.h"

#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "errors/macros.h"
#include "errors/status.h"
#include "services/code_vault/storage/redemption_sql.h"
#include "validate/validate.h"

namespace giftcard::code_vault {
namespace {

using pg::Micros;

// The columns ClawbackFromRow reads.
const std::string kClawbackColumns = absl::StrCat(
    "request_id, clawback_id::text, redemption_id::text, serial, account_id, "
    "credit_transfer_id, currency_code, amount_minor, then_state, reason, principal, state, "
    "coalesce(transfer_id, ''), clawed_back_minor, balance_after_minor, reject_code, "
    "coalesce(reject_reason, ''), coalesce(reject_message, ''), ",
    Micros("create_time"), ", attempts");
constexpr int kClawbackColumnCount = 20;

Clawback ClawbackFromRow(const pqxx::row& row) {
  Clawback c;
  c.request_id = row[0].as<std::string>();
  c.clawback_id = row[1].as<std::string>();
  c.redemption_id = row[2].as<std::string>();
  c.serial = row[3].as<std::string>();
  c.account_id = row[4].as<std::string>();
  c.credit_transfer_id = row[5].as<std::string>();
  c.amount = {row[6].as<std::string>(), row[7].as<int64_t>()};
  c.then_state = CodeStateFromName(row[8].as<std::string>()).value_or(CodeState::kBlocked);
  c.reason = row[9].as<std::string>();
  c.principal = row[10].as<std::string>();
  c.state = ClawbackStateFromName(row[11].as<std::string>()).value_or(ClawbackState::kPending);
  c.transfer_id = row[12].as<std::string>();
  if (!row[13].is_null()) c.clawed_back_minor = row[13].as<int64_t>();
  if (!row[14].is_null()) c.balance_after_minor = row[14].as<int64_t>();
  if (!row[15].is_null()) {
    c.rejection = errors::Error(static_cast<absl::StatusCode>(row[15].as<int>()),
                                row[16].as<std::string>(), row[17].as<std::string>());
  }
  c.create_time = absl::FromUnixMicros(row[18].as<int64_t>());
  c.attempts = row[19].as<int>();
  return c;
}

std::optional<int64_t> MicrosOf(const std::optional<absl::Time>& t) {
  if (!t) return std::nullopt;
  return absl::ToUnixMicros(*t);
}

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

// The statements, each named once: the name prepares and executes it.
const pg::Statement kFindBatch{
    "cv_find_batch",
    "SELECT batch_id::text, request_fingerprint FROM batches WHERE request_id = $1"};
const pg::Statement kInsertBatch{
    "cv_insert_batch",
    "INSERT INTO batches (request_id, request_fingerprint, code_count, currency_code, "
    "amount_minor, region, expire_time) "
    "VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7::bigint / 1000000.0)) "
    "ON CONFLICT (request_id) DO NOTHING RETURNING batch_id::text, batch_no"};
const pg::Statement kInsertCodes{
    "cv_insert_codes",
    "INSERT INTO codes (code_hash, pepper_key_id, serial, batch_id, pin_last4, currency_code, "
    "amount_minor, region, state, expire_time) "
    "SELECT decode(h, 'hex'), $2, s, $3::uuid, l, $4, $5, $6, 'ISSUED', "
    "to_timestamp($7::bigint / 1000000.0) "
    "FROM unnest($1::text[], $8::text[], $9::text[]) AS t(h, s, l)"};
const pg::Statement kBatchSerials{
    "cv_batch_serials", "SELECT serial FROM codes WHERE batch_id = $1::uuid ORDER BY serial"};
const pg::Statement kBatchExists{"cv_batch_exists",
                                 "SELECT 1 FROM batches WHERE batch_id = $1::uuid"};
const pg::Statement kFindAdminRequest{"cv_find_admin_request",
                                      "SELECT request_fingerprint, changed_count, "
                                      "unchanged_count, skipped_count "
                                      "FROM admin_requests WHERE request_id = $1"};
const pg::Statement kInsertAdminRequest{
    "cv_insert_admin_request",
    "INSERT INTO admin_requests (request_id, kind, request_fingerprint, changed_count, "
    "unchanged_count, skipped_count) VALUES ($1, $2, $3, $4, $5, $6)"};
// A caller sees an unredeemed code past its expiry as EXPIRED.
constexpr char kEffectiveState[] =
    "(CASE WHEN state IN ('ISSUED', 'ACTIVE') AND expire_time <= now() THEN 'EXPIRED' "
    "ELSE state END)";
const pg::Statement kSerialsInState{"cv_serials_in_state",
                                    absl::StrCat("SELECT serial, ", kEffectiveState,
                                                 ", coalesce(blocked_from, '')"
                                                 " FROM codes WHERE serial = ANY($1::text[]) "
                                                 "FOR UPDATE")};
// After a batch change: its codes, and those now in the target state.
// The batch's codes, and how many of them are in one of the states $2
// (the change's target: unchanged unless the change just moved them).
const pg::Statement kBatchStateCount{
    "cv_batch_state_count",
    absl::StrCat("SELECT count(*), count(*) FILTER (WHERE ", kEffectiveState,
                 " = ANY($2::text[])) FROM codes WHERE batch_id = $1::uuid")};
const pg::Statement kActivateBatch{"cv_activate_batch",
                                   "UPDATE codes SET state = 'ACTIVE', activate_time = now() "
                                   "WHERE batch_id = $1::uuid AND state = 'ISSUED' "
                                   "AND (expire_time IS NULL OR expire_time > now())"};
const pg::Statement kActivateSerials{"cv_activate_serials",
                                     "UPDATE codes SET state = 'ACTIVE', activate_time = now() "
                                     "WHERE serial = ANY($1::text[]) AND state = 'ISSUED'"};
const pg::Statement kVoidBatch{
    "cv_void_batch",
    "UPDATE codes SET state = 'VOIDED', void_time = now(), void_reason = $2, blocked_from = NULL "
    "WHERE batch_id = $1::uuid AND state IN ('ISSUED', 'ACTIVE', 'BLOCKED')"};
const pg::Statement kVoidSerials{
    "cv_void_serials",
    "UPDATE codes SET state = 'VOIDED', void_time = now(), void_reason = $2, blocked_from = NULL "
    "WHERE serial = ANY($1::text[]) AND state IN ('ISSUED', 'ACTIVE', 'BLOCKED')"};
// A hold remembers the state it interrupts (SET reads the old row); a
// clawed-back code, held from REDEEMED, is never unblocked. An
// expired code is not held: it can never be redeemed anyway.
const pg::Statement kBlockBatch{
    "cv_block_batch",
    "UPDATE codes SET state = 'BLOCKED', blocked_from = state, block_reason = $2, "
    "block_time = now() WHERE batch_id = $1::uuid AND state IN ('ISSUED', 'ACTIVE') "
    "AND (expire_time IS NULL OR expire_time > now())"};
const pg::Statement kBlockSerials{
    "cv_block_serials",
    "UPDATE codes SET state = 'BLOCKED', blocked_from = state, block_reason = $2, "
    "block_time = now() WHERE serial = ANY($1::text[]) AND state IN ('ISSUED', 'ACTIVE')"};
const pg::Statement kUnblockBatch{
    "cv_unblock_batch",
    "UPDATE codes SET state = blocked_from, blocked_from = NULL, block_reason = NULL, "
    "block_time = NULL WHERE batch_id = $1::uuid AND state = 'BLOCKED' "
    "AND blocked_from <> 'REDEEMED'"};
const pg::Statement kUnblockSerials{
    "cv_unblock_serials",
    "UPDATE codes SET state = blocked_from, blocked_from = NULL, block_reason = NULL, "
    "block_time = NULL WHERE serial = ANY($1::text[]) AND state = 'BLOCKED' "
    "AND blocked_from <> 'REDEEMED'"};
// $3 is the effective state to keep, or '' for all.
const pg::Statement kListCodes{"cv_list_codes",
                               absl::StrCat("SELECT ", CodeColumns(),
                                            " FROM codes WHERE batch_id = $1::uuid AND serial > $2 "
                                            "AND ($3 = '' OR ",
                                            kEffectiveState, " = $3) ORDER BY serial LIMIT $4")};
// Every batch's codes: walks the serial index; a rare state may make it read
// many rows for one page (the statement timeout bounds it).
const pg::Statement kListAllCodes{
    "cv_list_all_codes",
    absl::StrCat("SELECT ", CodeColumns(), " FROM codes WHERE serial > $1 AND ($2 = '' OR ",
                 kEffectiveState, " = $2) ORDER BY serial LIMIT $3")};
// $1 the batch number to list before (0: from the newest).
const pg::Statement kListBatches{
    "cv_list_batches",
    absl::StrCat("SELECT batch_id::text, batch_no, code_count, currency_code, amount_minor, "
                 "region, request_id, ",
                 Micros("create_time"), ", ", Micros("expire_time"),
                 " FROM batches WHERE $1 = 0 OR batch_no < $1 ORDER BY batch_no DESC LIMIT $2")};
// $1 min_age (ms), $2 limit, $3 the longest backoff (ms).
const pg::Statement kClaimPending{
    "cv_claim_pending",
    "UPDATE redemptions SET attempts = attempts + 1, next_attempt_time = now() + "
    " make_interval(secs => least($3::float8,"
    "   $1::float8 * power(2, least(attempts, 30))) / 1000) "
    "FROM (SELECT account_id AS a, request_id AS q FROM redemptions"
    " WHERE state = 'PENDING' AND next_attempt_time <= now()"
    "   AND create_time < now() - make_interval(secs => $1::float8 / 1000)"
    " ORDER BY next_attempt_time LIMIT $2 FOR UPDATE SKIP LOCKED) due "
    "WHERE account_id = due.a AND request_id = due.q RETURNING " +
        RedemptionColumns() + ", attempts"};
const pg::Statement kCodeBySerial{"cv_code_by_serial",
                                  "SELECT " + CodeColumns() + " FROM codes WHERE serial = $1"};
// cv_code_by_serial for a batch: each found code after its item's
// 1-based index (an unknown serial has no row).
const pg::Statement kCodesBySerials{"cv_codes_by_serials",
                                    "SELECT q.i, " + CodeColumns("c") +
                                        " FROM unnest($1::text[]) WITH ORDINALITY AS q(serial, i)"
                                        " JOIN codes c ON c.serial = q.serial"};
// Names the caller, reason and request id of this transaction's changes
// for the change log's trigger (migration 007); transaction-local.
const pg::Statement kSetActor{
    "cv_set_actor",
    "SELECT set_config('giftcard.principal', $1, true), set_config('giftcard.reason', $2, true),"
    " set_config('giftcard.request_id', $3, true)"};
// A code's changes after change $2, oldest first (ChangeColumns: redemption_sql.h).
const pg::Statement kCodeChanges{
    "cv_code_changes",
    absl::StrCat("SELECT ", ChangeColumns(),
                 " FROM codes c JOIN code_events e ON e.code_hash = c.code_hash",
                 ChangeRedemptionJoin(),
                 " WHERE c.serial = $1 AND e.event_id > $2 ORDER BY e.event_id LIMIT $3")};
const pg::Statement kLastCodeChange{
    "cv_last_code_change",
    absl::StrCat("SELECT ", ChangeColumns(),
                 " FROM codes c JOIN code_events e ON e.code_hash = c.code_hash",
                 ChangeRedemptionJoin(), " WHERE c.serial = $1 ORDER BY e.event_id DESC LIMIT 1")};
const pg::Statement kCodeExists{"cv_code_exists", "SELECT 1 FROM codes WHERE serial = $1"};

void SetActor(pqxx::transaction_base& tx, const Actor& actor) {
  tx.exec_prepared(kSetActor.name, actor.principal, actor.reason, actor.request_id);
}

// A clawback's target, its code locked first: every clawback of a
// redemption takes this lock before it looks for another one. One row:
// the code's hash, state and redemption id, then that redemption's
// account, state and credit transfer (null when there is none).
const pg::Statement kClawbackTargetBySerial{
    "cv_clawback_target_by_serial",
    "SELECT encode(c.code_hash, 'hex'), c.state, coalesce(c.redemption_id::text, ''),"
    " r.account_id, r.state, r.transfer_id, c.serial, c.currency_code, c.amount_minor "
    "FROM codes c LEFT JOIN redemptions r ON r.redemption_id = c.redemption_id "
    "WHERE c.serial = $1 FOR UPDATE OF c"};
const pg::Statement kClawbackTargetByRedemption{
    "cv_clawback_target_by_redemption",
    "SELECT encode(c.code_hash, 'hex'), c.state, coalesce(c.redemption_id::text, ''),"
    " r.account_id, r.state, r.transfer_id, c.serial, c.currency_code, c.amount_minor "
    "FROM redemptions r JOIN codes c ON c.code_hash = r.code_hash "
    "   AND c.redemption_id = r.redemption_id "
    "WHERE r.redemption_id = $1::uuid FOR UPDATE OF c"};
const pg::Statement kFindClawback{
    "cv_find_clawback", absl::StrCat("SELECT ", kClawbackColumns,
                                     ", request_fingerprint FROM clawbacks WHERE request_id = $1")};
const pg::Statement kFindClawbackById{
    "cv_find_clawback_by_id",
    absl::StrCat("SELECT ", kClawbackColumns, " FROM clawbacks WHERE clawback_id = $1::uuid")};
const pg::Statement kLiveClawbackOf{
    "cv_live_clawback_of",
    "SELECT request_id FROM clawbacks WHERE redemption_id = $1::uuid AND state <> 'REJECTED'"};
const pg::Statement kInsertClawback{
    "cv_insert_clawback",
    absl::StrCat("INSERT INTO clawbacks (request_id, request_fingerprint, redemption_id,"
                 " code_hash, serial, account_id, credit_transfer_id, currency_code,"
                 " amount_minor, then_state, reason, principal, state) "
                 "VALUES ($1, $2, $3::uuid, decode($4, 'hex'), $5, $6, $7, $8, $9, $10, $11,"
                 " $12, 'PENDING') RETURNING ",
                 kClawbackColumns)};
// The clawback and its code together: PENDING → COMPLETED, and the code
// REDEEMED → BLOCKED (held from REDEEMED, never unblocked) or VOIDED, the
// reason being the clawback's.
const pg::Statement kCompleteClawback{
    "cv_complete_clawback",
    absl::StrCat(
        "WITH done AS ("
        " UPDATE clawbacks SET state = 'COMPLETED', transfer_id = $2, clawed_back_minor = $3,"
        "   balance_after_minor = $4, update_time = now()"
        " WHERE clawback_id = $1::uuid AND state = 'PENDING' RETURNING *), "
        "held AS ("
        " UPDATE codes c SET state = done.then_state,"
        "   blocked_from = CASE WHEN done.then_state = 'BLOCKED' THEN 'REDEEMED' END,"
        "   block_reason = CASE WHEN done.then_state = 'BLOCKED' THEN done.reason END,"
        "   block_time = CASE WHEN done.then_state = 'BLOCKED' THEN now() END,"
        "   void_reason = CASE WHEN done.then_state = 'VOIDED' THEN done.reason END,"
        "   void_time = CASE WHEN done.then_state = 'VOIDED' THEN now() END"
        " FROM done WHERE c.code_hash = done.code_hash AND c.redemption_id = done.redemption_id"
        "   AND c.state = 'REDEEMED' RETURNING 1) "
        "SELECT ",
        kClawbackColumns, " FROM done")};
const pg::Statement kRejectClawback{
    "cv_reject_clawback",
    absl::StrCat("UPDATE clawbacks SET state = 'REJECTED', reject_code = $2, reject_reason = $3,"
                 " reject_message = $4, update_time = now()"
                 " WHERE clawback_id = $1::uuid AND state = 'PENDING' RETURNING ",
                 kClawbackColumns)};
// cv_claim_pending for clawbacks.
const pg::Statement kClaimPendingClawbacks{
    "cv_claim_pending_clawbacks",
    absl::StrCat("UPDATE clawbacks SET attempts = attempts + 1, next_attempt_time = now() + "
                 " make_interval(secs => least($3::float8,"
                 "   $1::float8 * power(2, least(attempts, 30))) / 1000) "
                 "FROM (SELECT request_id AS q FROM clawbacks"
                 " WHERE state = 'PENDING' AND next_attempt_time <= now()"
                 "   AND create_time < now() - make_interval(secs => $1::float8 / 1000)"
                 " ORDER BY next_attempt_time LIMIT $2 FOR UPDATE SKIP LOCKED) due "
                 "WHERE request_id = due.q RETURNING ",
                 kClawbackColumns)};

}  // namespace

std::vector<pg::Statement> PgCodeStore::Statements() {
  return {kFindBatch,
          kInsertBatch,
          kInsertCodes,
          kBatchSerials,
          kBatchExists,
          kFindAdminRequest,
          kInsertAdminRequest,
          kSerialsInState,
          kBatchStateCount,
          kActivateBatch,
          kActivateSerials,
          kVoidBatch,
          kVoidSerials,
          kBlockBatch,
          kBlockSerials,
          kUnblockBatch,
          kUnblockSerials,
          kListCodes,
          kListAllCodes,
          kListBatches,
          kClaimPending,
          kCodeBySerial,
          kCodesBySerials,
          kFindRedemption,
          kLookup,
          kReserve,
          kCompleteMany,
          kReject,
          kLookupMany,
          kReserveMany,
          kClawbackTargetBySerial,
          kClawbackTargetByRedemption,
          kFindClawback,
          kFindClawbackById,
          kLiveClawbackOf,
          kInsertClawback,
          kCompleteClawback,
          kRejectClawback,
          kClaimPendingClawbacks,
          kSetActor,
          kCodeChanges,
          kLastCodeChange,
          kCodeExists};
}

absl::StatusOr<Batch> PgCodeStore::CreateBatch(const BatchSpec& spec,
                                               const std::vector<NewCode>& codes) {
  Batch out;
  // A batch of up to 100,000 codes (and their change log) in one INSERT.
  absl::Status s = pool_.BulkTransact([&](pqxx::work& tx) -> absl::Status {
    out = Batch{};
    SetActor(tx, {spec.principal, "", spec.request_id});
    pqxx::result inserted =
        tx.exec_prepared(kInsertBatch.name, spec.request_id, spec.request_fingerprint, spec.count,
                         spec.amount.currency_code, spec.amount.amount_minor, spec.region,
                         MicrosOf(spec.expire_time));
    if (inserted.empty()) {
      pqxx::result existing = tx.exec_prepared(kFindBatch.name, spec.request_id);
      if (existing.empty()) {
        return errors::Error(absl::StatusCode::kAborted, errors::reason::kConflict,
                             "concurrent request with the same request_id; retry");
      }
      if (existing[0][1].as<std::string>() != spec.request_fingerprint) {
        return errors::Error(absl::StatusCode::kInvalidArgument, errors::reason::kRequestIdReused,
                             "request_id was already used for a different batch",
                             {{"request_id", spec.request_id}});
      }
      out.batch_id = existing[0][0].as<std::string>();
      out.replayed = true;
      for (const auto& row : tx.exec_prepared(kBatchSerials.name, out.batch_id)) {
        out.serials.push_back(row[0].as<std::string>());
      }
      return absl::OkStatus();
    }
    out.batch_id = inserted[0][0].as<std::string>();
    const int64_t batch_no = inserted[0][1].as<int64_t>();
    std::vector<std::string> hashes, serials, last4s;
    hashes.reserve(codes.size());
    for (size_t i = 0; i < codes.size(); ++i) {
      hashes.push_back(absl::BytesToHexString(codes[i].code_hash));
      serials.push_back(MakeSerial(batch_no, static_cast<int>(i + 1)));
      last4s.push_back(codes[i].pin_last4);
    }
    const std::string key_id = codes.empty() ? "" : codes.front().pepper_key_id;
    tx.exec_prepared(kInsertCodes.name, pg::TextArray(hashes), key_id, out.batch_id,
                     spec.amount.currency_code, spec.amount.amount_minor, spec.region,
                     MicrosOf(spec.expire_time), pg::TextArray(serials), pg::TextArray(last4s));
    out.serials = std::move(serials);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

namespace {

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
      return {&kActivateBatch, &kActivateSerials, false, "{ACTIVE}"};
    case BulkKind::kVoid:
      return {&kVoidBatch, &kVoidSerials, true, "{VOIDED}"};
    case BulkKind::kBlock:
      return {&kBlockBatch, &kBlockSerials, true, "{BLOCKED}"};
    case BulkKind::kUnblock:
      break;
  }
  return {&kUnblockBatch, &kUnblockSerials, false, "{}"};  // Counts only the total.
}

}  // namespace

absl::StatusOr<BulkResult> PgCodeStore::ApplyBulkChange(const BulkChange& change) {
  const BulkStatements statements = StatementsFor(change.kind);
  auto run = [&](pqxx::work& tx, const pg::Statement& statement, const std::string& selection) {
    return (statements.takes_reason ? tx.exec_prepared(statement.name, selection, change.reason)
                                    : tx.exec_prepared(statement.name, selection))
        .affected_rows();
  };
  BulkResult out;
  // A whole batch's codes may change at once.
  absl::Status s = pool_.BulkTransact([&](pqxx::work& tx) -> absl::Status {
    out = BulkResult{};
    SetActor(tx, {change.principal, change.reason, change.request_id});
    pqxx::result first = tx.exec_prepared(kFindAdminRequest.name, change.request_id);
    if (!first.empty()) {
      if (first[0][0].as<std::string>() != change.request_fingerprint) {
        return errors::Error(absl::StatusCode::kInvalidArgument, errors::reason::kRequestIdReused,
                             "request_id was already used for a different change",
                             {{"request_id", change.request_id}});
      }
      out = {first[0][1].as<int64_t>(), first[0][2].as<int64_t>(), first[0][3].as<int64_t>()};
      return absl::OkStatus();
    }
    if (!change.batch_id.empty()) {
      if (!validate::IsUuid(change.batch_id) ||
          tx.exec_prepared(kBatchExists.name, change.batch_id).empty()) {
        return errors::Error(absl::StatusCode::kNotFound, errors::reason::kBatchNotFound,
                             "no such batch", {{"batch_id", change.batch_id}});
      }
      out.changed = run(tx, *statements.by_batch, change.batch_id);
      pqxx::result counted = tx.exec_prepared(kBatchStateCount.name, change.batch_id,
                                              std::string(statements.done_states));
      const int64_t total = counted[0][0].as<int64_t>();
      if (change.kind == BulkKind::kUnblock) {
        // Every code that is not held is left as it is: none is skipped.
        out.unchanged = total - out.changed;
      } else {
        const int64_t in_target = counted[0][1].as<int64_t>();
        out.unchanged = in_target - out.changed;
        out.skipped = total - in_target;
      }
    } else {
      // Lock the named codes, then check them all before changing any.
      const std::string serials = pg::TextArray(change.serials);
      pqxx::result found = tx.exec_prepared(kSerialsInState.name, serials);
      std::map<std::string, CodeState> state_of;
      std::map<std::string, std::string> blocked_from;
      for (const auto& row : found) {
        state_of[row[0].as<std::string>()] =
            CodeStateFromName(row[1].as<std::string>()).value_or(CodeState::kIssued);
        blocked_from[row[0].as<std::string>()] = row[2].as<std::string>();
      }
      for (const auto& serial : change.serials) {
        auto it = state_of.find(serial);
        if (it == state_of.end()) {
          return errors::Error(absl::StatusCode::kNotFound, errors::reason::kCodeNotFound,
                               absl::StrCat("no such code: ", serial, "; nothing changed"),
                               {{"serial", serial}});
        }
        if (change.kind == BulkKind::kUnblock && blocked_from[serial] == "REDEEMED") {
          return errors::Error(absl::StatusCode::kFailedPrecondition,
                               errors::reason::kCodeClawedBack,
                               absl::StrCat(serial,
                                            " is held after a clawback and is never unblocked; "
                                            "nothing was unblocked"),
                               {{"serial", serial}});
        }
        absl::StatusOr<bool> moves = BulkChangeMoves(change.kind, serial, it->second);
        if (!moves.ok()) return moves.status();
        if (!*moves) ++out.unchanged;
      }
      out.changed = run(tx, *statements.by_serials, serials);
    }
    tx.exec_prepared(kInsertAdminRequest.name, change.request_id, BulkKindName(change.kind),
                     change.request_fingerprint, out.changed, out.unchanged, out.skipped);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
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
      rows = tx.exec_prepared(kListAllCodes.name, after_serial, state_name, limit + 1);
    } else {
      if (!validate::IsUuid(batch_id) || tx.exec_prepared(kBatchExists.name, batch_id).empty()) {
        return errors::Error(absl::StatusCode::kNotFound, errors::reason::kBatchNotFound,
                             "no such batch", {{"batch_id", batch_id}});
      }
      rows = tx.exec_prepared(kListCodes.name, batch_id, after_serial, state_name, limit + 1);
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
    for (const auto& row : tx.exec_prepared(kListBatches.name, before_batch_no, limit + 1)) {
      if (static_cast<int>(out.batches.size()) == limit) {
        out.more = true;
        break;
      }
      BatchInfo b;
      b.batch_id = row[0].as<std::string>();
      b.batch_no = row[1].as<int64_t>();
      b.code_count = row[2].as<int>();
      b.amount = {row[3].as<std::string>(), row[4].as<int64_t>()};
      b.region = row[5].as<std::string>();
      b.request_id = row[6].as<std::string>();
      b.create_time = absl::FromUnixMicros(row[7].as<int64_t>());
      b.expire_time = OptionalTime(row[8]);
      out.batches.push_back(std::move(b));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<Redemption>> PgCodeStore::ClaimPending(absl::Duration min_age,
                                                                  int limit) {
  std::vector<Redemption> out;
  // One statement: safe to rerun (a lost answer only delays those rows).
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    out.clear();
    for (const auto& row : tx.exec_prepared(kClaimPending.name, absl::ToInt64Milliseconds(min_age),
                                            limit, absl::ToInt64Milliseconds(kMaxRetryBackoff))) {
      out.push_back(RedemptionFromRow(row));
      out.back().attempts = row[15].as<int>();
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
      pqxx::result r = tx.exec_prepared(kCodeBySerial.name, serials[0]);
      if (!r.empty()) out[0] = CodeFromRow(r[0]);
      return absl::OkStatus();
    }
    for (const auto& row : tx.exec_prepared(kCodesBySerials.name, pg::TextArray(serials))) {
      out[row[0].as<size_t>() - 1] = CodeFromRow(row.slice(1, row.size()));
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

absl::StatusOr<CodeLookup> PgCodeStore::Lookup(const std::vector<std::string>& code_hashes,
                                               const std::string& account_id,
                                               const std::string& request_id) {
  return lookups_.Run({code_hashes, account_id, request_id});
}

std::vector<absl::StatusOr<CodeLookup>> PgCodeStore::LookupBatch(
    const std::vector<ReserveRequest>& batch) {
  if (batch.size() == 1) {
    return {LookupOne(batch[0].code_hashes, batch[0].account_id, batch[0].request_id)};
  }
  const BatchParams params = ParamsOf(batch);
  std::vector<CodeLookup> found(batch.size());
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    const pqxx::result rows = tx.exec_prepared(
        kLookupMany.name, params.account_ids, params.request_ids, params.hash_items, params.hashes);
    if (rows.size() != batch.size()) return absl::InternalError("cv_lookup_many lost a row");
    for (size_t i = 0; i < batch.size(); ++i) {
      const pqxx::row row = rows[static_cast<pqxx::result::size_type>(i)];
      CodeLookup out;
      if (!row[1].is_null()) out.code = CodeFromRow(row.slice(1, 1 + kCodeColumnCount));
      if (!row[1 + kCodeColumnCount].is_null()) {
        out.first = RedemptionFromRow(row.slice(1 + kCodeColumnCount, row.size()));
      }
      found[i] = std::move(out);
    }
    return absl::OkStatus();
  });
  std::vector<absl::StatusOr<CodeLookup>> out;
  for (CodeLookup& l : found) {
    if (s.ok()) {
      out.push_back(std::move(l));
    } else {
      out.push_back(s);
    }
  }
  return out;
}

absl::StatusOr<CodeLookup> PgCodeStore::LookupOne(const std::vector<std::string>& code_hashes,
                                                  const std::string& account_id,
                                                  const std::string& request_id) {
  CodeLookup out;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    out = CodeLookup{};
    const pqxx::row row =
        tx.exec_prepared1(kLookup.name, pg::ByteaArray(code_hashes), account_id, request_id);
    if (!row[0].is_null()) out.code = CodeFromRow(row.slice(0, kCodeColumnCount));
    if (!row[kCodeColumnCount].is_null()) {
      out.first = RedemptionFromRow(row.slice(kCodeColumnCount, row.size()));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<Reservation> PgCodeStore::Reserve(const ReserveRequest& request) {
  return reservations_.Run(request);
}

std::vector<absl::StatusOr<Reservation>> PgCodeStore::ReserveBatch(
    const std::vector<ReserveRequest>& batch) {
  if (batch.size() == 1) return {ReserveOne(batch[0])};
  // One (account, request id) twice in a batch: the later item must see the
  // earlier one's redemption as a call after it would (a replay, or
  // REQUEST_ID_REUSED for another code), so it runs after the batch, alone.
  std::vector<size_t> firsts, repeats;
  {
    std::set<std::pair<std::string, std::string>> seen;
    for (size_t i = 0; i < batch.size(); ++i) {
      (seen.insert({batch[i].account_id, batch[i].request_id}).second ? firsts : repeats)
          .push_back(i);
    }
  }
  if (!repeats.empty()) {
    std::vector<ReserveRequest> first_items;
    for (size_t i : firsts) first_items.push_back(batch[i]);
    std::vector<absl::StatusOr<Reservation>> first_answers = ReserveBatch(first_items);
    std::vector<absl::StatusOr<Reservation>> out(batch.size(), absl::InternalError("unanswered"));
    for (size_t k = 0; k < firsts.size(); ++k) out[firsts[k]] = std::move(first_answers[k]);
    for (size_t i : repeats) out[i] = ReserveOne(batch[i]);
    return out;
  }
  const BatchParams params = ParamsOf(batch);
  std::vector<Reservation> reservations(batch.size());
  bool request_id_taken = false;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    request_id_taken = false;
    pqxx::result rows;
    try {
      rows = tx.exec_prepared(kReserveMany.name, params.account_ids, params.request_ids,
                              params.hash_items, params.hashes, params.principals);
    } catch (const pqxx::unique_violation&) {
      request_id_taken = true;  // Nothing changed; item by item below.
      return absl::OkStatus();
    }
    if (rows.size() != batch.size()) return absl::InternalError("cv_reserve_many lost a row");
    for (size_t i = 0; i < batch.size(); ++i) {
      const pqxx::row row = rows[static_cast<pqxx::result::size_type>(i)];
      reservations[i] = ReservationFromRow(row.slice(1, row.size()));
    }
    return absl::OkStatus();
  });
  std::vector<absl::StatusOr<Reservation>> out;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (request_id_taken) {
      out.push_back(ReserveOne(batch[i]));
    } else if (!s.ok()) {
      out.push_back(s);
    } else {
      out.push_back(std::move(reservations[i]));
    }
  }
  return out;
}

absl::StatusOr<Reservation> PgCodeStore::ReserveOne(const ReserveRequest& request) {
  Reservation out;
  const std::string hashes = pg::ByteaArray(request.code_hashes);
  // Each statement commits on its own: cv_reserve is the one write, and it
  // is atomic by itself (the code and its PENDING redemption, or neither).
  // First calls, the common case, take one round trip.
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    out = Reservation{};
    pqxx::result reserved;
    bool request_id_taken = false;
    try {
      reserved = tx.exec_prepared(kReserve.name, hashes, request.account_id, request.request_id,
                                  request.principal);
    } catch (const pqxx::unique_violation&) {
      request_id_taken = true;
      // (account_id, request_id) is taken, by an earlier call (its refusal
      // put the code back to ACTIVE) or a concurrent first call that has
      // committed: the statement changed nothing, and below finds that call.
    }
    if (!request_id_taken) {
      if (reserved.size() != 1) return absl::InternalError("cv_reserve returned no row");
      out = ReservationFromRow(reserved[0].slice(0, reserved[0].size()));
      return absl::OkStatus();
    }
    // The request id is taken: a concurrent first call with it committed.
    pqxx::result first =
        tx.exec_prepared(kFindRedemption.name, request.account_id, request.request_id);
    if (first.empty()) return absl::InternalError("request id taken but not found");
    out.kind = Reservation::Kind::kReplay;
    out.redemption = RedemptionFromRow(first[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
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

absl::StatusOr<Redemption> PgCodeStore::Complete(const Redemption& redemption,
                                                 const std::string& transfer_id,
                                                 int64_t balance_after_minor) {
  return completions_.Run({redemption, transfer_id, balance_after_minor});
}

std::vector<absl::StatusOr<Redemption>> PgCodeStore::CompleteBatch(
    const std::vector<Completion>& batch) {
  std::vector<std::string> accounts, requests, transfers, balances;
  for (const Completion& c : batch) {
    accounts.push_back(c.redemption.account_id);
    requests.push_back(c.redemption.request_id);
    transfers.push_back(c.transfer_id);
    balances.push_back(std::to_string(c.balance_after_minor));
  }
  std::map<std::pair<std::string, std::string>, Redemption> settled;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    settled.clear();
    pqxx::result done =
        tx.exec_prepared(kCompleteMany.name, pg::TextArray(accounts), pg::TextArray(requests),
                         pg::TextArray(transfers), pg::TextArray(balances));
    for (const auto& row : done) {
      Redemption r = RedemptionFromRow(row);
      settled[{r.account_id, r.request_id}] = std::move(r);
    }
    // Missing: no longer PENDING (a concurrent retry or the recovery worker
    // settled it first); answer with what it became.
    for (const Completion& c : batch) {
      const auto key = std::make_pair(c.redemption.account_id, c.redemption.request_id);
      if (settled.count(key)) continue;
      pqxx::result r = tx.exec_prepared(kFindRedemption.name, key.first, key.second);
      if (!r.empty()) settled[key] = RedemptionFromRow(r[0]);
    }
    return absl::OkStatus();
  });
  std::vector<absl::StatusOr<Redemption>> out;
  for (const Completion& c : batch) {
    if (!s.ok()) {
      out.push_back(s);
      continue;
    }
    auto it = settled.find({c.redemption.account_id, c.redemption.request_id});
    if (it == settled.end()) {
      out.push_back(absl::InternalError("redemption vanished"));
    } else {
      out.push_back(it->second);
    }
  }
  return out;
}

absl::StatusOr<Redemption> PgCodeStore::Reject(const Redemption& redemption,
                                               const absl::Status& refusal) {
  Redemption out;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    pqxx::result r = tx.exec_prepared(kReject.name, redemption.account_id, redemption.request_id,
                                      static_cast<int>(refusal.code()), errors::ReasonOf(refusal),
                                      std::string(refusal.message()));
    // Empty: no longer PENDING (a concurrent retry or the recovery worker
    // settled it first); answer with what it became.
    if (r.empty()) {
      r = tx.exec_prepared(kFindRedemption.name, redemption.account_id, redemption.request_id);
    }
    if (r.empty()) return absl::InternalError("redemption vanished");
    out = RedemptionFromRow(r[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<CodeChangePage> PgCodeStore::ListCodeChanges(const std::string& serial,
                                                            int64_t after_change_id, int limit) {
  CodeChangePage out;
  absl::Status s = stale_reads_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    out = CodeChangePage{};
    pqxx::result rows = tx.exec_prepared(kCodeChanges.name, serial, after_change_id, limit + 1);
    if (rows.empty() && tx.exec_prepared(kCodeExists.name, serial).empty()) return CodeNotFound();
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
    pqxx::result rows = tx.exec_prepared(kLastCodeChange.name, serial);
    if (!rows.empty()) out = CodeChangeFromRow(rows[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<Clawback> PgCodeStore::StartClawback(const ClawbackRequest& request) {
  Clawback out;
  absl::Status s = pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    const bool by_serial = !request.serial.empty();
    pqxx::result target =
        by_serial ? tx.exec_prepared(kClawbackTargetBySerial.name, request.serial)
                  : tx.exec_prepared(kClawbackTargetByRedemption.name, request.redemption_id);
    if (target.empty()) {
      if (by_serial) {
        return errors::Error(absl::StatusCode::kNotFound, errors::reason::kCodeNotFound,
                             "no such code", {{"serial", request.serial}});
      }
      return errors::Error(absl::StatusCode::kNotFound, errors::reason::kRedemptionNotFound,
                           "no redemption holds a code under this id",
                           {{"redemption_id", request.redemption_id}});
    }
    // Under the code's lock: a concurrent call with the same request_id
    // has committed by now, and is a replay.
    pqxx::result first = tx.exec_prepared(kFindClawback.name, request.request_id);
    if (!first.empty()) {
      if (first[0][kClawbackColumnCount].as<std::string>() != request.request_fingerprint) {
        return errors::Error(absl::StatusCode::kInvalidArgument, errors::reason::kRequestIdReused,
                             "request_id was already used for a different clawback",
                             {{"request_id", request.request_id}});
      }
      out = ClawbackFromRow(first[0]);
      return absl::OkStatus();
    }
    const pqxx::row t = target[0];
    const std::string code_state = t[1].as<std::string>();
    const std::string redemption_id = t[2].as<std::string>();
    const std::string serial = t[6].as<std::string>();
    if (!redemption_id.empty()) {
      pqxx::result live = tx.exec_prepared(kLiveClawbackOf.name, redemption_id);
      if (!live.empty()) {
        return errors::Error(absl::StatusCode::kFailedPrecondition,
                             errors::reason::kAlreadyClawedBack,
                             "this redemption was already clawed back",
                             {{"serial", serial}, {"redemption_id", redemption_id}});
      }
    }
    if (code_state != "REDEEMED" || t[4].is_null() || t[4].as<std::string>() != "COMPLETED" ||
        t[5].is_null()) {
      return errors::Error(absl::StatusCode::kFailedPrecondition, errors::reason::kNotRedeemed,
                           absl::StrCat(serial, " is ", code_state,
                                        ": only a redeemed code's redemption is clawed back"),
                           {{"serial", serial}, {"state", code_state}});
    }
    out = ClawbackFromRow(
        tx.exec_prepared1(kInsertClawback.name, request.request_id, request.request_fingerprint,
                          redemption_id, t[0].as<std::string>(), serial, t[3].as<std::string>(),
                          t[5].as<std::string>(), t[7].as<std::string>(), t[8].as<int64_t>(),
                          CodeStateName(request.then_state), request.reason, request.principal));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<Clawback> PgCodeStore::CompleteClawback(const Clawback& clawback,
                                                       const std::string& transfer_id,
                                                       int64_t clawed_back_minor,
                                                       int64_t balance_after_minor) {
  Clawback out;
  // The code's change names the clawback's caller, reason and request id,
  // also when the recovery worker completes it.
  absl::Status s = pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    SetActor(tx, {clawback.principal, clawback.reason, clawback.request_id});
    pqxx::result r = tx.exec_prepared(kCompleteClawback.name, clawback.clawback_id, transfer_id,
                                      clawed_back_minor, balance_after_minor);
    // Empty: settled already (a concurrent retry or the recovery worker).
    if (r.empty()) r = tx.exec_prepared(kFindClawbackById.name, clawback.clawback_id);
    if (r.empty()) return absl::InternalError("clawback vanished");
    out = ClawbackFromRow(r[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<Clawback> PgCodeStore::RejectClawback(const Clawback& clawback,
                                                     const absl::Status& refusal) {
  Clawback out;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    pqxx::result r = tx.exec_prepared(kRejectClawback.name, clawback.clawback_id,
                                      static_cast<int>(refusal.code()), errors::ReasonOf(refusal),
                                      std::string(refusal.message()));
    if (r.empty()) r = tx.exec_prepared(kFindClawbackById.name, clawback.clawback_id);
    if (r.empty()) return absl::InternalError("clawback vanished");
    out = ClawbackFromRow(r[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<Clawback>> PgCodeStore::ClaimPendingClawbacks(absl::Duration min_age,
                                                                         int limit) {
  std::vector<Clawback> out;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    out.clear();
    for (const auto& row :
         tx.exec_prepared(kClaimPendingClawbacks.name, absl::ToInt64Milliseconds(min_age), limit,
                          absl::ToInt64Milliseconds(kMaxRetryBackoff))) {
      out.push_back(ClawbackFromRow(row));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace giftcard::code_vault

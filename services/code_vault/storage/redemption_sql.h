// The redemption's SQL, shared by the blocking store (PgCodeStore, on
// libpqxx) and the engine's (LoopRedemptionStore, on pg::LoopClient): the
// statements, and rows to domain values for either kind of row (a
// pqxx::row, or a pg::TextRow of a pipelined result).
#ifndef GIFTCARD_SERVICES_CODE_VAULT_STORAGE_REDEMPTION_SQL_H_
#define GIFTCARD_SERVICES_CODE_VAULT_STORAGE_REDEMPTION_SQL_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "errors/status.h"
#include "pg/pool.h"
#include "pg/text_row.h"
#include "services/code_vault/domain/model.h"
#include "services/code_vault/domain/ports.h"

namespace giftcard::code_vault {

// The columns CodeFromRow reads, of the table aliased `t` ("" for none).
std::string CodeColumns(const std::string& t = "");
inline constexpr int kCodeColumnCount = 17;
// The columns RedemptionFromRow reads, of the table aliased `t` ("" for none).
std::string RedemptionColumns(const std::string& t = "");
inline constexpr int kRedemptionColumnCount = 15;

// The columns CodeChangeFromRow reads, of code_events aliased `e` and its
// redemption `rd` (ChangeRedemptionJoin) (a function, as the others:
// statements in other files are built from it during static
// initialization). A redemption's steps are named by its caller's
// principal and request id, an admin's change by the admin's.
std::string ChangeColumns();
// Joins `rd`, the redemption a change of `e` belongs to (none for most).
std::string ChangeRedemptionJoin();
inline constexpr int kChangeColumnCount = 8;

// cv_find_redemption, cv_lookup, cv_reserve, cv_lookup_many,
// cv_reserve_many, cv_complete_many, cv_reject: see redemption_sql.cc.
extern const pg::Statement kFindRedemption;
extern const pg::Statement kLookup;
extern const pg::Statement kReserve;
extern const pg::Statement kLookupMany;
extern const pg::Statement kReserveMany;
extern const pg::Statement kCompleteMany;
extern const pg::Statement kReject;
// cv_status_by_serials, cv_status_by_hashes: GetCodeStatus's code and its
// last change in one statement.
extern const pg::Statement kStatusBySerials;
extern const pg::Statement kStatusByHashes;

// The batch parameters shared by cv_lookup_many and cv_reserve_many.
struct BatchParams {
  std::string account_ids, request_ids, hash_items, hashes, principals;
};
BatchParams ParamsOf(const std::vector<ReserveRequest>& batch);

template <typename Field>
std::optional<absl::Time> OptionalTime(const Field& f) {
  if (f.is_null()) return std::nullopt;
  return absl::FromUnixMicros(pg::Int64(f));
}

template <typename Row>
Code CodeFromRow(const Row& row) {
  Code c;
  c.serial = pg::Text(row[0]);
  c.state = CodeStateFromName(pg::Text(row[1])).value_or(CodeState::kIssued);
  c.amount = {pg::Text(row[2]), pg::Int64(row[3])};
  c.region = pg::Text(row[4]);
  c.batch_id = pg::Text(row[5]);
  c.pin_last4 = pg::Text(row[6]);
  c.create_time = absl::FromUnixMicros(pg::Int64(row[7]));
  c.activate_time = OptionalTime(row[8]);
  c.redeem_time = OptionalTime(row[9]);
  c.void_time = OptionalTime(row[10]);
  c.expire_time = OptionalTime(row[11]);
  c.redeemed_by_account_id = pg::Text(row[12]);
  c.redemption_id = pg::Text(row[13]);
  c.void_reason = pg::Text(row[14]);
  c.block_reason = pg::Text(row[15]);
  c.block_time = OptionalTime(row[16]);
  return c;
}

template <typename Row>
CodeChange CodeChangeFromRow(const Row& row) {
  CodeChange c;
  c.change_id = pg::Int64(row[0]);
  c.from_state = CodeStateFromName(pg::Text(row[1]));
  c.to_state = CodeStateFromName(pg::Text(row[2])).value_or(CodeState::kIssued);
  c.change_time = absl::FromUnixMicros(pg::Int64(row[3]));
  c.principal = pg::Text(row[4]);
  c.reason = pg::Text(row[5]);
  c.request_id = pg::Text(row[6]);
  c.redemption_id = pg::Text(row[7]);
  return c;
}

// A cv_status_by_* row (after cv_status_by_serials' index): the code, then
// its last change (null when it has none).
template <typename Row>
Code CodeStatusFromRow(const Row& row) {
  Code code = CodeFromRow(row.slice(0, kCodeColumnCount));
  if (!row[kCodeColumnCount].is_null()) {
    code.last_change = CodeChangeFromRow(row.slice(kCodeColumnCount, row.size()));
  }
  return code;
}

template <typename Row>
Redemption RedemptionFromRow(const Row& row) {
  Redemption r;
  r.account_id = pg::Text(row[0]);
  r.request_id = pg::Text(row[1]);
  r.redemption_id = pg::Text(row[2]);
  r.code_hash = absl::HexStringToBytes(pg::Text(row[3]));
  r.serial = pg::Text(row[4]);
  r.amount = {pg::Text(row[5]), pg::Int64(row[6])};
  r.region = pg::Text(row[7]);
  r.state = RedemptionStateFromName(pg::Text(row[8])).value_or(RedemptionState::kPending);
  r.transfer_id = pg::Text(row[9]);
  if (!row[10].is_null()) r.balance_after_minor = pg::Int64(row[10]);
  if (!row[11].is_null()) {
    r.rejection = errors::Error(static_cast<absl::StatusCode>(pg::Int32(row[11])),
                                pg::Text(row[12]), pg::Text(row[13]));
  }
  r.create_time = absl::FromUnixMicros(pg::Int64(row[14]));
  return r;
}

// A cv_reserve row (without cv_reserve_many's index): the new redemption,
// the code seen, the earlier redemption.
template <typename Row>
Reservation ReservationFromRow(const Row& row) {
  const int code_at = kRedemptionColumnCount;
  const int prior_at = kRedemptionColumnCount + kCodeColumnCount;
  Reservation out;
  if (!row[2].is_null()) {
    out.kind = Reservation::Kind::kReserved;
    out.redemption = RedemptionFromRow(row.slice(0, code_at));
  } else if (!row[prior_at + 2].is_null()) {
    out.kind = Reservation::Kind::kReplay;
    out.redemption = RedemptionFromRow(row.slice(prior_at, prior_at + kRedemptionColumnCount));
  } else {
    out.kind = Reservation::Kind::kRefused;
    if (!row[code_at].is_null()) out.code = CodeFromRow(row.slice(code_at, prior_at));
  }
  return out;
}

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_STORAGE_REDEMPTION_SQL_H_

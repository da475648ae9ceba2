// code-vault's rows as domain values, for either kind of row (a pqxx::row
// of the blocking store, PgCodeStore, or a pg::TextRow of the engine's,
// LoopRedemptionStore), read by column name: the statements
// (storage/sql/*.sql, as sql::k<Name>) name every column they return. A
// statement that returns several values in one row names each one's
// columns with a prefix (reserve's new_, code_ and prior_).
#ifndef GIFTCARD_SERVICES_CODE_VAULT_STORAGE_ROWS_H_
#define GIFTCARD_SERVICES_CODE_VAULT_STORAGE_ROWS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "errors/status.h"
#include "pg/pool.h"
#include "pg/text_row.h"
#include "services/code_vault/domain/model.h"
#include "services/code_vault/domain/ports.h"
#include "services/code_vault/storage/sql/statements.h"

namespace giftcard::code_vault {

// The parameters of lookup_many and reserve_many for a batch.
struct BatchParams {
  std::string account_ids, request_ids, hash_items, hashes, principals;
};
BatchParams ParamsOf(const std::vector<ReserveRequest>& batch);

template <typename Field>
std::optional<absl::Time> OptionalTime(const Field& f) {
  if (f.is_null()) return std::nullopt;
  return absl::FromUnixMicros(pg::Int64(f));
}

// Whether the row holds a code under `prefix` (a LEFT JOIN's null side
// has no serial).
template <typename Row>
bool HasCode(const Row& row, std::string_view prefix = "") {
  return !pg::NamedRow<Row>(row, prefix)["serial"].is_null();
}

template <typename Row>
Code CodeFromRow(const Row& row, std::string_view prefix = "") {
  const pg::NamedRow<Row> r(row, prefix);
  Code c;
  c.serial = pg::Text(r["serial"]);
  c.state = CodeStateFromName(pg::Text(r["state"])).value_or(CodeState::kIssued);
  c.amount = {pg::Text(r["currency_code"]), pg::Int64(r["amount_minor"])};
  c.region = pg::Text(r["region"]);
  c.batch_id = pg::Text(r["batch_id"]);
  c.pin_last4 = pg::Text(r["pin_last4"]);
  c.create_time = absl::FromUnixMicros(pg::Int64(r["create_time_us"]));
  c.activate_time = OptionalTime(r["activate_time_us"]);
  c.redeem_time = OptionalTime(r["redeem_time_us"]);
  c.void_time = OptionalTime(r["void_time_us"]);
  c.expire_time = OptionalTime(r["expire_time_us"]);
  c.redeemed_by_account_id = pg::Text(r["redeemed_by_account_id"]);
  c.redemption_id = pg::Text(r["redemption_id"]);
  c.void_reason = pg::Text(r["void_reason"]);
  c.block_reason = pg::Text(r["block_reason"]);
  c.block_time = OptionalTime(r["block_time_us"]);
  return c;
}

// A change of code_changes or last_code_change; with status_by_*'s
// "last_", a code's last change.
template <typename Row>
CodeChange CodeChangeFromRow(const Row& row, std::string_view prefix = "") {
  const pg::NamedRow<Row> r(row, prefix);
  CodeChange c;
  c.change_id = pg::Int64(r["change_id"]);
  c.from_state = CodeStateFromName(pg::Text(r["from_state"]));
  c.to_state = CodeStateFromName(pg::Text(r["to_state"])).value_or(CodeState::kIssued);
  c.change_time = absl::FromUnixMicros(pg::Int64(r["change_time_us"]));
  c.principal = pg::Text(r["principal"]);
  c.reason = pg::Text(r["reason"]);
  c.request_id = pg::Text(r["request_id"]);
  c.redemption_id = pg::Text(r["redemption_id"]);
  return c;
}

// A status_by_serials or status_by_hashes row: the code, and its last
// change when it has one.
template <typename Row>
Code CodeStatusFromRow(const Row& row) {
  Code code = CodeFromRow(row);
  if (!pg::NamedRow<Row>(row, "last_")["change_id"].is_null()) {
    code.last_change = CodeChangeFromRow(row, "last_");
  }
  return code;
}

// Whether the row holds a redemption under `prefix`.
template <typename Row>
bool HasRedemption(const Row& row, std::string_view prefix = "") {
  return !pg::NamedRow<Row>(row, prefix)["redemption_id"].is_null();
}

template <typename Row>
Redemption RedemptionFromRow(const Row& row, std::string_view prefix = "") {
  const pg::NamedRow<Row> r(row, prefix);
  Redemption d;
  d.account_id = pg::Text(r["account_id"]);
  d.request_id = pg::Text(r["request_id"]);
  d.redemption_id = pg::Text(r["redemption_id"]);
  d.code_hash = absl::HexStringToBytes(pg::Text(r["code_hash_hex"]));
  d.serial = pg::Text(r["serial"]);
  d.amount = {pg::Text(r["currency_code"]), pg::Int64(r["amount_minor"])};
  d.region = pg::Text(r["region"]);
  d.state = RedemptionStateFromName(pg::Text(r["state"])).value_or(RedemptionState::kPending);
  d.transfer_id = pg::Text(r["transfer_id"]);
  if (const auto balance = r["balance_after_minor"]; !balance.is_null()) {
    d.balance_after_minor = pg::Int64(balance);
  }
  if (const auto code = r["reject_code"]; !code.is_null()) {
    d.rejection = errors::Error(static_cast<absl::StatusCode>(pg::Int32(code)),
                                pg::Text(r["reject_reason"]), pg::Text(r["reject_message"]));
  }
  d.create_time = absl::FromUnixMicros(pg::Int64(r["create_time_us"]));
  return d;
}

// A lookup or lookup_many row: the code (code_) and the caller's earlier
// redemption (prior_), each when present.
template <typename Row>
CodeLookup CodeLookupFromRow(const Row& row) {
  CodeLookup out;
  if (HasCode(row, "code_")) out.code = CodeFromRow(row, "code_");
  if (HasRedemption(row, "prior_")) out.first = RedemptionFromRow(row, "prior_");
  return out;
}

// A reserve or reserve_many row: the new redemption (new_), else the
// earlier one (prior_: a replay), else a refusal with the code as seen
// (code_).
template <typename Row>
Reservation ReservationFromRow(const Row& row) {
  Reservation out;
  if (HasRedemption(row, "new_")) {
    out.kind = Reservation::Kind::kReserved;
    out.redemption = RedemptionFromRow(row, "new_");
  } else if (HasRedemption(row, "prior_")) {
    out.kind = Reservation::Kind::kReplay;
    out.redemption = RedemptionFromRow(row, "prior_");
  } else {
    out.kind = Reservation::Kind::kRefused;
    if (HasCode(row, "code_")) out.code = CodeFromRow(row, "code_");
  }
  return out;
}

// A clawback of a row of the statements that return one (find_clawback,
// insert_clawback, ...).
template <typename Row>
Clawback ClawbackFromRow(const Row& row) {
  const pg::NamedRow<Row> r(row);
  Clawback c;
  c.request_id = pg::Text(r["request_id"]);
  c.clawback_id = pg::Text(r["clawback_id"]);
  c.redemption_id = pg::Text(r["redemption_id"]);
  c.serial = pg::Text(r["serial"]);
  c.account_id = pg::Text(r["account_id"]);
  c.credit_transfer_id = pg::Text(r["credit_transfer_id"]);
  c.amount = {pg::Text(r["currency_code"]), pg::Int64(r["amount_minor"])};
  c.then_state = CodeStateFromName(pg::Text(r["then_state"])).value_or(CodeState::kBlocked);
  c.reason = pg::Text(r["reason"]);
  c.principal = pg::Text(r["principal"]);
  c.state = ClawbackStateFromName(pg::Text(r["state"])).value_or(ClawbackState::kPending);
  c.transfer_id = pg::Text(r["transfer_id"]);
  if (const auto clawed = r["clawed_back_minor"]; !clawed.is_null()) {
    c.clawed_back_minor = pg::Int64(clawed);
  }
  if (const auto balance = r["balance_after_minor"]; !balance.is_null()) {
    c.balance_after_minor = pg::Int64(balance);
  }
  if (const auto code = r["reject_code"]; !code.is_null()) {
    c.rejection = errors::Error(static_cast<absl::StatusCode>(pg::Int32(code)),
                                pg::Text(r["reject_reason"]), pg::Text(r["reject_message"]));
  }
  c.create_time = absl::FromUnixMicros(pg::Int64(r["create_time_us"]));
  c.attempts = pg::Int32(r["attempts"]);
  return c;
}

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_STORAGE_ROWS_H_

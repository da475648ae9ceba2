// PgCodeStore's clawbacks: a redeemed code's credit taken back (started
// under the code's lock, then completed with the code held or voided, or
// rejected), and the recovery worker's claim on clawbacks left PENDING.
#include "absl/strings/str_cat.h"
#include "errors/status.h"
#include "services/code_vault/storage/pg_code_store.h"
#include "services/code_vault/storage/rows.h"

namespace giftcard::code_vault {
namespace {

absl::Status TargetNotFound(const ClawbackRequest& request) {
  if (!request.serial.empty()) {
    return errors::Error(absl::StatusCode::kNotFound, errors::reason::kCodeNotFound, "no such code",
                         {{"serial", request.serial}});
  }
  return errors::Error(absl::StatusCode::kNotFound, errors::reason::kRedemptionNotFound,
                       "no redemption holds a code under this id",
                       {{"redemption_id", request.redemption_id}});
}

// Why the locked target (a clawback_target_* row) cannot be clawed back,
// or OK: only a completed redemption's code, REDEEMED, with no live
// clawback.
absl::Status CheckTarget(pqxx::work& tx, const pg::NamedRow<pqxx::row>& target) {
  const std::string code_state = pg::Text(target["code_state"]);
  const std::string redemption_id = pg::Text(target["redemption_id"]);
  const std::string serial = pg::Text(target["serial"]);
  if (!redemption_id.empty() &&
      !tx.exec_prepared(sql::kLiveClawbackOf.name, redemption_id).empty()) {
    return errors::Error(absl::StatusCode::kFailedPrecondition, errors::reason::kAlreadyClawedBack,
                         "this redemption was already clawed back",
                         {{"serial", serial}, {"redemption_id", redemption_id}});
  }
  if (code_state != "REDEEMED" || target["redemption_state"].is_null() ||
      pg::Text(target["redemption_state"]) != "COMPLETED" || target["transfer_id"].is_null()) {
    return errors::Error(absl::StatusCode::kFailedPrecondition, errors::reason::kNotRedeemed,
                         absl::StrCat(serial, " is ", code_state,
                                      ": only a redeemed code's redemption is clawed back"),
                         {{"serial", serial}, {"state", code_state}});
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Clawback> PgCodeStore::StartClawback(const ClawbackRequest& request) {
  Clawback out;
  absl::Status s = pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    auto target_row = [&] {
      return request.serial.empty()
                 ? tx.exec_prepared(sql::kClawbackTargetByRedemption.name, request.redemption_id)
                 : tx.exec_prepared(sql::kClawbackTargetBySerial.name, request.serial);
    };
    // Twice: the first read locks the code, and may have waited for a
    // completion to commit. It then returns the code's new row but the
    // redemption as its snapshot had it (still PENDING); the second read,
    // under the lock, sees both as committed.
    pqxx::result found = target_row();
    if (!found.empty()) found = target_row();
    if (found.empty()) return TargetNotFound(request);
    // Under the code's lock: a concurrent call with the same request_id
    // has committed by now, and is a replay.
    pqxx::result first = tx.exec_prepared(sql::kFindClawback.name, request.request_id);
    if (!first.empty()) {
      if (pg::Text(pg::NamedRow(first[0])["request_fingerprint"]) != request.request_fingerprint) {
        return errors::Error(absl::StatusCode::kInvalidArgument, errors::reason::kRequestIdReused,
                             "request_id was already used for a different clawback",
                             {{"request_id", request.request_id}});
      }
      out = ClawbackFromRow(first[0]);
      return absl::OkStatus();
    }
    const pg::NamedRow target(found[0]);
    if (absl::Status refused = CheckTarget(tx, target); !refused.ok()) return refused;
    out = ClawbackFromRow(tx.exec_prepared1(
        sql::kInsertClawback.name, request.request_id, request.request_fingerprint,
        pg::Text(target["redemption_id"]), pg::Text(target["code_hash_hex"]),
        pg::Text(target["serial"]), pg::Text(target["account_id"]), pg::Text(target["transfer_id"]),
        pg::Text(target["currency_code"]), pg::Int64(target["amount_minor"]),
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
    pqxx::result r = tx.exec_prepared(sql::kCompleteClawback.name, clawback.clawback_id,
                                      transfer_id, clawed_back_minor, balance_after_minor);
    // Empty: settled already (a concurrent retry or the recovery worker).
    if (r.empty()) r = tx.exec_prepared(sql::kFindClawbackById.name, clawback.clawback_id);
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
    pqxx::result r = tx.exec_prepared(sql::kRejectClawback.name, clawback.clawback_id,
                                      static_cast<int>(refusal.code()), errors::ReasonOf(refusal),
                                      std::string(refusal.message()));
    if (r.empty()) r = tx.exec_prepared(sql::kFindClawbackById.name, clawback.clawback_id);
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
         tx.exec_prepared(sql::kClaimPendingClawbacks.name, absl::ToInt64Milliseconds(min_age),
                          limit, absl::ToInt64Milliseconds(kMaxRetryBackoff))) {
      out.push_back(ClawbackFromRow(row));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace giftcard::code_vault

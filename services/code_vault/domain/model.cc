#include "services/code_vault/domain/model.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "errors/status.h"

namespace giftcard::code_vault {

const char* CodeStateName(CodeState state) {
  switch (state) {
    case CodeState::kIssued:
      return "ISSUED";
    case CodeState::kActive:
      return "ACTIVE";
    case CodeState::kRedeeming:
      return "REDEEMING";
    case CodeState::kRedeemed:
      return "REDEEMED";
    case CodeState::kVoided:
      return "VOIDED";
    case CodeState::kExpired:
      return "EXPIRED";
    case CodeState::kBlocked:
      return "BLOCKED";
  }
  return "";
}

const char* BulkKindName(BulkKind kind) {
  switch (kind) {
    case BulkKind::kActivate:
      return "ACTIVATE";
    case BulkKind::kVoid:
      return "VOID";
    case BulkKind::kBlock:
      return "BLOCK";
    case BulkKind::kUnblock:
      return "UNBLOCK";
  }
  return "";
}

std::optional<CodeState> CodeStateFromName(const std::string& name) {
  for (CodeState s :
       {CodeState::kIssued, CodeState::kActive, CodeState::kRedeeming, CodeState::kRedeemed,
        CodeState::kVoided, CodeState::kExpired, CodeState::kBlocked}) {
    if (name == CodeStateName(s)) return s;
  }
  return std::nullopt;
}

const char* RedemptionStateName(RedemptionState state) {
  switch (state) {
    case RedemptionState::kPending:
      return "PENDING";
    case RedemptionState::kCompleted:
      return "COMPLETED";
    case RedemptionState::kRejected:
      return "REJECTED";
  }
  return "";
}

std::optional<RedemptionState> RedemptionStateFromName(const std::string& name) {
  for (RedemptionState s :
       {RedemptionState::kPending, RedemptionState::kCompleted, RedemptionState::kRejected}) {
    if (name == RedemptionStateName(s)) return s;
  }
  return std::nullopt;
}

CodeState EffectiveState(const Code& code, absl::Time now) {
  if ((code.state == CodeState::kIssued || code.state == CodeState::kActive) && code.expire_time &&
      *code.expire_time <= now) {
    return CodeState::kExpired;
  }
  return code.state;
}

std::string MakeSerial(int64_t batch_no, int index) {
  return absl::StrFormat("GC%06d%06d", batch_no, index);
}

absl::StatusOr<bool> BulkChangeMoves(BulkKind kind, const std::string& serial, CodeState state,
                                     std::optional<CodeState> held_from) {
  const char* verb = kind == BulkKind::kActivate ? "activated"
                     : kind == BulkKind::kVoid   ? "voided"
                     : kind == BulkKind::kBlock  ? "blocked"
                                                 : "unblocked";
  auto refuse = [&](absl::string_view reason, absl::string_view why) {
    return errors::Error(
        absl::StatusCode::kFailedPrecondition, reason,
        absl::StrCat(serial, " is ", CodeStateName(state), ": ", why, "; nothing was ", verb),
        {{"serial", serial}, {"state", CodeStateName(state)}});
  };
  const bool redeemed = state == CodeState::kRedeeming || state == CodeState::kRedeemed;
  switch (kind) {
    case BulkKind::kActivate:
      if (state == CodeState::kIssued) return true;
      if (state == CodeState::kActive) return false;
      if (state == CodeState::kVoided) {
        return refuse(errors::reason::kCodeVoided, "a voided code cannot be activated");
      }
      if (state == CodeState::kExpired) {
        return refuse(errors::reason::kCodeExpired, "an expired code cannot be activated");
      }
      if (state == CodeState::kBlocked) {
        return refuse(errors::reason::kCodeBlocked,
                      "a blocked code is activated only once unblocked");
      }
      return refuse(errors::reason::kCodeAlreadyRedeemed, "it was redeemed");
    case BulkKind::kVoid:
      if (state == CodeState::kVoided) return false;
      if (redeemed) {
        return refuse(errors::reason::kCodeAlreadyRedeemed, "a redeemed code cannot be voided");
      }
      return true;  // Issued, active, expired or blocked.
    case BulkKind::kBlock:
      if (state == CodeState::kIssued || state == CodeState::kActive) return true;
      if (state == CodeState::kBlocked) return false;
      if (state == CodeState::kVoided) {
        return refuse(errors::reason::kCodeVoided, "a voided code cannot be blocked");
      }
      if (state == CodeState::kExpired) {
        return refuse(errors::reason::kCodeExpired, "an expired code cannot be blocked");
      }
      return refuse(errors::reason::kCodeAlreadyRedeemed,
                    "a redeemed code is blocked only through a clawback");
    case BulkKind::kUnblock:
      if (state == CodeState::kBlocked && held_from == CodeState::kRedeemed) {
        return errors::Error(
            absl::StatusCode::kFailedPrecondition, errors::reason::kCodeClawedBack,
            absl::StrCat(serial, " is held after a clawback and is never unblocked; nothing was ",
                         verb),
            {{"serial", serial}});
      }
      return state == CodeState::kBlocked;  // Anything else is not held: left as it is.
  }
  return absl::InternalError("unknown bulk change");
}

const char* ClawbackStateName(ClawbackState state) {
  switch (state) {
    case ClawbackState::kPending:
      return "PENDING";
    case ClawbackState::kCompleted:
      return "COMPLETED";
    case ClawbackState::kRejected:
      return "REJECTED";
  }
  return "";
}

std::optional<ClawbackState> ClawbackStateFromName(const std::string& name) {
  for (ClawbackState s :
       {ClawbackState::kPending, ClawbackState::kCompleted, ClawbackState::kRejected}) {
    if (name == ClawbackStateName(s)) return s;
  }
  return std::nullopt;
}

std::string ClawbackLedgerRequestId(const std::string& clawback_id) {
  return "vault:clawback:" + clawback_id;
}

}  // namespace giftcard::code_vault

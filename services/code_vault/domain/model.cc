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
  }
  return "";
}

std::optional<CodeState> CodeStateFromName(const std::string& name) {
  for (CodeState s : {CodeState::kIssued, CodeState::kActive, CodeState::kRedeeming,
                      CodeState::kRedeemed, CodeState::kVoided, CodeState::kExpired}) {
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

absl::StatusOr<bool> BulkChangeMoves(BulkKind kind, const std::string& serial, CodeState state) {
  const bool activate = kind == BulkKind::kActivate;
  const char* verb = activate ? "activated" : "voided";
  auto refuse = [&](absl::string_view reason, absl::string_view why) {
    return errors::Error(
        absl::StatusCode::kFailedPrecondition, reason,
        absl::StrCat(serial, " is ", CodeStateName(state), ": ", why, "; nothing was ", verb),
        {{"serial", serial}, {"state", CodeStateName(state)}});
  };
  switch (state) {
    case CodeState::kIssued:
      return true;
    case CodeState::kActive:
      return !activate;
    case CodeState::kVoided:
      if (activate) return refuse(errors::reason::kCodeVoided, "a voided code cannot be activated");
      return false;
    case CodeState::kExpired:
      if (activate) {
        return refuse(errors::reason::kCodeExpired, "an expired code cannot be activated");
      }
      return true;
    case CodeState::kRedeeming:
    case CodeState::kRedeemed:
      return refuse(errors::reason::kCodeAlreadyRedeemed,
                    activate ? "it was redeemed" : "a redeemed code cannot be voided");
  }
  return absl::InternalError("unknown code state");
}

}  // namespace giftcard::code_vault

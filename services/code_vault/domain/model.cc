#include "services/code_vault/domain/model.h"

#include "absl/strings/str_format.h"

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

}  // namespace giftcard::code_vault

#include "services/code_vault/api/conversions.h"

#include "protoconv/protoconv.h"
#include "validate/validate.h"

namespace giftcard::code_vault {

std::vector<std::string> CanonicalSerials(
    const google::protobuf::RepeatedPtrField<std::string>& typed) {
  std::vector<std::string> serials;
  serials.reserve(typed.size());
  for (const std::string& s : typed) serials.push_back(validate::CanonicalSerial(s));
  return serials;
}

v1::CodeState ToProto(CodeState s) {
  switch (s) {
    case CodeState::kIssued:
      return v1::CODE_STATE_ISSUED;
    case CodeState::kActive:
      return v1::CODE_STATE_ACTIVE;
    case CodeState::kRedeeming:
      return v1::CODE_STATE_REDEEMING;
    case CodeState::kRedeemed:
      return v1::CODE_STATE_REDEEMED;
    case CodeState::kVoided:
      return v1::CODE_STATE_VOIDED;
    case CodeState::kExpired:
      return v1::CODE_STATE_EXPIRED;
    case CodeState::kBlocked:
      return v1::CODE_STATE_BLOCKED;
  }
  return v1::CODE_STATE_UNSPECIFIED;
}

v1::RedemptionState ToProto(RedemptionState s) {
  switch (s) {
    case RedemptionState::kPending:
      return v1::REDEMPTION_STATE_PENDING;
    case RedemptionState::kCompleted:
      return v1::REDEMPTION_STATE_COMPLETED;
    case RedemptionState::kRejected:
      return v1::REDEMPTION_STATE_REJECTED;
  }
  return v1::REDEMPTION_STATE_UNSPECIFIED;
}

std::optional<CodeState> FromProto(v1::CodeState s) {
  switch (s) {
    case v1::CODE_STATE_ISSUED:
      return CodeState::kIssued;
    case v1::CODE_STATE_ACTIVE:
      return CodeState::kActive;
    case v1::CODE_STATE_REDEEMING:
      return CodeState::kRedeeming;
    case v1::CODE_STATE_REDEEMED:
      return CodeState::kRedeemed;
    case v1::CODE_STATE_VOIDED:
      return CodeState::kVoided;
    case v1::CODE_STATE_EXPIRED:
      return CodeState::kExpired;
    case v1::CODE_STATE_BLOCKED:
      return CodeState::kBlocked;
    default:
      return std::nullopt;
  }
}

v1::ClawbackState ToProto(ClawbackState s) {
  switch (s) {
    case ClawbackState::kPending:
      return v1::CLAWBACK_STATE_PENDING;
    case ClawbackState::kCompleted:
      return v1::CLAWBACK_STATE_COMPLETED;
    case ClawbackState::kRejected:
      return v1::CLAWBACK_STATE_REJECTED;
  }
  return v1::CLAWBACK_STATE_UNSPECIFIED;
}

void ToProto(const Clawback& c, v1::Clawback* out) {
  out->set_clawback_id(c.clawback_id);
  out->set_redemption_id(c.redemption_id);
  out->set_serial(c.serial);
  out->set_account_id(c.account_id);
  *out->mutable_amount() = protoconv::ToProto(c.amount);
  const std::string& currency = c.amount.currency_code;
  if (c.clawed_back_minor) {
    *out->mutable_clawed_back() = protoconv::ToProto({currency, *c.clawed_back_minor});
    *out->mutable_unrecovered() =
        protoconv::ToProto({currency, c.amount.amount_minor - *c.clawed_back_minor});
  }
  if (c.balance_after_minor) {
    *out->mutable_balance() = protoconv::ToProto({currency, *c.balance_after_minor});
  }
  out->set_then_state(ToProto(c.then_state));
  out->set_state(ToProto(c.state));
  out->set_reason(c.reason);
  out->set_principal(c.principal);
  out->set_request_id(c.request_id);
  protoconv::ToTimestamp(c.create_time, out->mutable_create_time());
  out->set_transfer_id(c.transfer_id);
}

void ToProto(const CodeChange& c, v1::CodeChange* out) {
  out->set_change_id(c.change_id);
  if (c.from_state) out->set_from_state(ToProto(*c.from_state));
  out->set_to_state(ToProto(c.to_state));
  protoconv::ToTimestamp(c.change_time, out->mutable_change_time());
  out->set_principal(c.principal);
  out->set_reason(c.reason);
  out->set_request_id(c.request_id);
  out->set_redemption_id(c.redemption_id);
}

void ToProto(const Code& code, v1::CodeStatus* out) {
  out->set_serial(code.serial);
  out->set_state(ToProto(code.state));
  *out->mutable_amount() = protoconv::ToProto(code.amount);
  out->set_region(code.region);
  out->set_batch_id(code.batch_id);
  out->set_pin_last4(code.pin_last4);
  protoconv::ToTimestamp(code.create_time, out->mutable_create_time());
  // Unset times stay absent on the wire (not 1970).
  if (code.activate_time) protoconv::ToTimestamp(*code.activate_time, out->mutable_activate_time());
  if (code.redeem_time) protoconv::ToTimestamp(*code.redeem_time, out->mutable_redeem_time());
  if (code.void_time) protoconv::ToTimestamp(*code.void_time, out->mutable_void_time());
  if (code.expire_time) protoconv::ToTimestamp(*code.expire_time, out->mutable_expire_time());
  out->set_redeemed_by_account_id(code.redeemed_by_account_id);
  out->set_redemption_id(code.redemption_id);
  out->set_void_reason(code.void_reason);
  if (code.last_change) ToProto(*code.last_change, out->mutable_last_change());
  out->set_block_reason(code.block_reason);
  if (code.block_time) protoconv::ToTimestamp(*code.block_time, out->mutable_block_time());
}

void ToProto(const BatchInfo& batch, v1::Batch* out) {
  out->set_batch_id(batch.batch_id);
  out->set_code_count(batch.code_count);
  *out->mutable_amount() = protoconv::ToProto(batch.amount);
  out->set_region(batch.region);
  out->set_request_id(batch.request_id);
  protoconv::ToTimestamp(batch.create_time, out->mutable_create_time());
  if (batch.expire_time) protoconv::ToTimestamp(*batch.expire_time, out->mutable_expire_time());
}

void ToProto(const Redemption& r, v1::Redemption* response) {
  response->set_redemption_id(r.redemption_id);
  response->set_account_id(r.account_id);
  response->set_serial(r.serial);
  *response->mutable_amount() = protoconv::ToProto(r.amount);
  *response->mutable_balance() =
      protoconv::ToProto({r.amount.currency_code, r.balance_after_minor.value_or(0)});
  response->set_state(ToProto(r.state));
  protoconv::ToTimestamp(r.create_time, response->mutable_create_time());
}

}  // namespace giftcard::code_vault

// VaultService's clawbacks: a fraudulent redemption's credit taken back
// from the account, and the code held for good.
#include <algorithm>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "errors/macros.h"
#include "errors/status.h"
#include "log/log.h"
#include "services/code_vault/domain/vault_service.h"
#include "validate/validate.h"

namespace giftcard::code_vault {

absl::StatusOr<Clawback> VaultService::ReverseRedemption(const ReverseRedemptionCommand& command) {
  if (command.serial.empty() == command.redemption_id.empty()) {
    return errors::InvalidField("serial", "give exactly one of serial or redemption_id");
  }
  if (!command.serial.empty()) {
    GIFTCARD_RETURN_IF_ERROR(validate::Serial("serial", command.serial));
  } else if (!validate::IsUuid(command.redemption_id)) {
    return errors::InvalidField("redemption_id", "must be a redemption id (a UUID)");
  }
  GIFTCARD_RETURN_IF_ERROR(validate::Text("reason", command.reason, 512));
  if (command.reason.empty()) return errors::InvalidField("reason", "is required");
  GIFTCARD_RETURN_IF_ERROR(validate::Id("request_id", command.request_id));
  if (command.then_state != CodeState::kBlocked && command.then_state != CodeState::kVoided) {
    return errors::InvalidField("then_state", "must be CODE_STATE_BLOCKED or CODE_STATE_VOIDED");
  }
  ClawbackRequest request;
  request.serial = command.serial;
  request.redemption_id = command.redemption_id;
  request.then_state = *command.then_state;
  request.reason = command.reason;
  request.principal = command.principal;
  request.request_id = command.request_id;
  // Who asked is not part of the request: a replay by another admin is
  // still the same clawback.
  request.request_fingerprint =
      codes::Sha256Hex(absl::StrCat("clawback|", command.serial, "|", command.redemption_id, "|",
                                    CodeStateName(*command.then_state), "|", command.reason));
  GIFTCARD_ASSIGN_OR_RETURN(Clawback clawback, store_.StartClawback(request));
  switch (clawback.state) {
    case ClawbackState::kCompleted:
      return clawback;
    case ClawbackState::kRejected:
      return clawback.rejection;
    case ClawbackState::kPending:
      break;
  }
  return FinishClawback(clawback);
}

absl::StatusOr<Clawback> VaultService::FinishClawback(const Clawback& pending) {
  absl::StatusOr<ClawbackOutcome> reversal =
      credit_.ClawBack(pending.credit_transfer_id, ClawbackLedgerRequestId(pending.clawback_id));
  if (reversal.ok()) {
    absl::StatusOr<Clawback> done = store_.CompleteClawback(
        pending, reversal->transfer_id, reversal->clawed_back_minor, reversal->balance_after_minor);
    if (done.ok()) return done;
    log::Warning("clawback_complete_failed", {{"clawback_id", pending.clawback_id},
                                              {"status", errors::Describe(done.status())}});
    return errors::Error(absl::StatusCode::kUnavailable, errors::reason::kDependencyUnavailable,
                         "the clawback is being finished; retry with the same request_id",
                         {{"clawback_id", pending.clawback_id}});
  }
  // As for a credit: only the ledger's recorded answer ends it as refused.
  if (errors::IsRecordedDecision(reversal.status())) {
    absl::StatusOr<Clawback> rejected = store_.RejectClawback(pending, reversal.status());
    if (!rejected.ok()) {
      log::Warning("clawback_reject_failed", {{"clawback_id", pending.clawback_id},
                                              {"status", errors::Describe(rejected.status())}});
    }
    return reversal.status();
  }
  unknown_outcomes_.fetch_add(1);
  if (pending.attempts <= 1) {
    log::Warning("clawback_outcome_unknown", {{"clawback_id", pending.clawback_id},
                                              {"status", errors::Describe(reversal.status())}});
  }
  return errors::Error(absl::StatusCode::kUnavailable, errors::reason::kDependencyUnavailable,
                       "the clawback could not be confirmed yet; retry with the same request_id",
                       {{"clawback_id", pending.clawback_id}});
}

}  // namespace giftcard::code_vault

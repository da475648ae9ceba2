// Domain types of the code vault. No gRPC, libpqxx or hiredis here.
#ifndef GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_MODEL_H_
#define GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_MODEL_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "money/money.h"

namespace giftcard::code_vault {

// Stored states. EXPIRED is not stored: an ISSUED or ACTIVE code past its
// expire_time is reported as EXPIRED (see EffectiveState).
enum class CodeState { kIssued, kActive, kRedeeming, kRedeemed, kVoided, kExpired, kBlocked };
enum class RedemptionState { kPending, kCompleted, kRejected };

const char* CodeStateName(CodeState state);
std::optional<CodeState> CodeStateFromName(const std::string& name);
const char* RedemptionStateName(RedemptionState state);
std::optional<RedemptionState> RedemptionStateFromName(const std::string& name);

// One change of a code's stored state, with who made it and why.
struct CodeChange {
  int64_t change_id = 0;
  std::optional<CodeState> from_state;  // None for the code's creation.
  CodeState to_state = CodeState::kIssued;
  absl::Time change_time;
  std::string principal;  // The caller whose call made it; may be empty.
  std::string reason;
  std::string request_id;
  std::string redemption_id;
};

// Who makes a change and why, recorded with each change it makes.
struct Actor {
  std::string principal;
  std::string reason;
  std::string request_id;
};

struct Code {
  std::string serial;
  CodeState state = CodeState::kIssued;
  money::Money amount;
  std::string region;
  std::string batch_id;
  std::string pin_last4;
  absl::Time create_time;
  std::optional<absl::Time> activate_time;
  std::optional<absl::Time> redeem_time;
  std::optional<absl::Time> void_time;
  std::optional<absl::Time> expire_time;
  std::string redeemed_by_account_id;
  std::string redemption_id;
  std::string void_reason;   // As the admin gave it; empty unless voided.
  std::string block_reason;  // Empty unless blocked.
  std::optional<absl::Time> block_time;
  // The latest change (GetCodeStatus fills it; other reads leave it unset).
  std::optional<CodeChange> last_change;
};

// The state a caller sees at `now`: an unredeemed code past expiry is EXPIRED.
CodeState EffectiveState(const Code& code, absl::Time now);

// An admin's bulk change: activate (ISSUED → ACTIVE), void (ISSUED, ACTIVE
// or BLOCKED → VOIDED), block (ISSUED or ACTIVE → BLOCKED, a reversible
// fraud hold) or unblock (BLOCKED → the state it was blocked from).
enum class BulkKind { kActivate, kVoid, kBlock, kUnblock };
// "ACTIVATE", "VOID", "BLOCK", "UNBLOCK".
const char* BulkKindName(BulkKind kind);

// What a bulk change does to a code named by serial whose effective state is
// `state`: true, it moves; false, it is in the target state already; an error
// naming the serial, the code cannot take this change and refuses the whole
// change (a voided, expired, blocked or redeemed code is never activated, a
// redeemed one never voided, a voided, expired or redeemed one never blocked;
// unblocking a code that is not blocked leaves it as it is). `held_from`: the
// state a blocked code's hold interrupted; a code held from REDEEMED (after
// a clawback) is never unblocked.
absl::StatusOr<bool> BulkChangeMoves(BulkKind kind, const std::string& serial, CodeState state,
                                     std::optional<CodeState> held_from = std::nullopt);

struct Redemption {
  std::string redemption_id;
  std::string account_id;
  std::string request_id;
  std::string code_hash;  // Raw digest under the key the code was stored with.
  std::string serial;
  money::Money amount;
  std::string region;
  RedemptionState state = RedemptionState::kPending;
  std::optional<int64_t> balance_after_minor;
  std::string transfer_id;
  absl::Status rejection;  // For kRejected: the refusal to replay.
  absl::Time create_time;
  int attempts = 0;  // Recovery attempts claimed so far (ClaimPending counts them).
  // The W3C trace context of the call driving the saga now, carried to
  // account-credit so one redemption is found in every service's log. Not
  // stored: a recovery worker's attempt has none.
  std::string traceparent;
};

// A fraudulent redemption's clawback (ReverseRedemption): PENDING until the
// ledger answers its reversal, then COMPLETED (the code left BLOCKED or
// VOIDED) or REJECTED (the ledger's final refusal; the code stays REDEEMED).
enum class ClawbackState { kPending, kCompleted, kRejected };
const char* ClawbackStateName(ClawbackState state);
std::optional<ClawbackState> ClawbackStateFromName(const std::string& name);

struct Clawback {
  std::string clawback_id;
  std::string request_id;
  std::string redemption_id;
  std::string serial;
  std::string account_id;
  std::string credit_transfer_id;  // The redemption's credit, being taken back.
  money::Money amount;             // The redemption's amount.
  CodeState then_state = CodeState::kBlocked;
  std::string reason;
  std::string principal;
  ClawbackState state = ClawbackState::kPending;
  // For kCompleted: the reversal, what it took back, the balance it left.
  std::string transfer_id;
  std::optional<int64_t> clawed_back_minor;
  std::optional<int64_t> balance_after_minor;
  absl::Status rejection;  // For kRejected: the refusal to replay.
  absl::Time create_time;
  int attempts = 0;  // Recovery attempts claimed so far.
};

// The request id of a clawback's reversal in the ledger: one per clawback,
// so every retry of it is the same ledger request.
std::string ClawbackLedgerRequestId(const std::string& clawback_id);

// A code of a new batch, as stored: never the PIN itself.
struct NewCode {
  std::string code_hash;
  std::string pepper_key_id;
  std::string pin_last4;
};

struct BatchSpec {
  int count = 0;
  money::Money amount;
  std::string region;
  std::string request_id;
  std::string request_fingerprint;
  std::optional<absl::Time> expire_time;
  std::string principal = "";  // Who issues it.
};

struct Batch {
  std::string batch_id;
  std::vector<std::string> serials;  // In the order of the NewCodes given.
  bool replayed = false;             // The request_id had already made this batch.
};

// A batch as issued (ListBatches).
struct BatchInfo {
  std::string batch_id;
  int64_t batch_no = 0;  // Issue order; the newest has the highest.
  int code_count = 0;
  money::Money amount;
  std::string region;
  std::string request_id;
  absl::Time create_time;
  std::optional<absl::Time> expire_time;
};

// "GC" + 6-digit batch number + 6-digit index: public, unique, sortable.
std::string MakeSerial(int64_t batch_no, int index);

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_MODEL_H_

// What the code vault's domain needs from the outside: its store (Postgres,
// storage/pg_code_store.h), the redemption guard (Redis,
// storage/redis_redemption_guard.h) and the credit side (account-credit over
// gRPC, peers/account_credit_gateway.h). Unit tests use fakes of all three.
#ifndef GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_PORTS_H_
#define GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_PORTS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/code_vault/domain/model.h"

namespace giftcard::code_vault {

// Outcome of trying to reserve a code for a redemption.
struct Reservation {
  enum class Kind {
    kReserved,  // The code went ACTIVE → REDEEMING; `redemption` is new, PENDING.
    kReplay,    // (account_id, request_id) already has `redemption`.
    kRefused,   // Not reserved; `code` is the code as the reserving statement
                // saw it (ACTIVE there: a concurrent call took it first).
  };
  Kind kind = Kind::kRefused;
  Redemption redemption;
  std::optional<Code> code;
};

// What one read finds for a redemption request: the code (under any
// pepper key) and the redemption the caller's (account_id, request_id)
// already made, if any.
struct CodeLookup {
  std::optional<Code> code;
  std::optional<Redemption> first;
};

struct ReserveRequest {
  std::vector<std::string> code_hashes;  // The PIN under every pepper key.
  std::string account_id;
  std::string request_id;
  // Who asked (the storefront's principal), for the code's change log.
  std::string principal{};
};

// An admin bulk change (activate or void), by batch or by serials,
// idempotent on request_id.
struct BulkChange {
  using Kind = BulkKind;
  Kind kind = Kind::kActivate;
  std::string batch_id;              // Either this…
  std::vector<std::string> serials;  // …or these.
  std::string reason;                // For kVoid, kBlock, kUnblock.
  std::string request_id;
  std::string request_fingerprint;
  std::string principal;  // Who asks; recorded with each change, not fingerprinted.
};

// What one bulk change did.
struct BulkResult {
  int64_t changed = 0;    // Moved to the target state.
  int64_t unchanged = 0;  // Were in the target state already.
  int64_t skipped = 0;    // Of a batch, in a state the change does not apply to.
};

// A clawback to start: of the redemption of `serial`'s code, or of
// `redemption_id` (exactly one is set).
struct ClawbackRequest {
  std::string serial;
  std::string redemption_id;
  CodeState then_state = CodeState::kBlocked;  // kBlocked or kVoided.
  std::string reason;
  std::string principal;
  std::string request_id;
  std::string request_fingerprint;
};

struct BatchPage {
  std::vector<BatchInfo> batches;  // Newest first.
  bool more = false;
};

struct CodeChangePage {
  std::vector<CodeChange> changes;  // Oldest first.
  bool more = false;
};

struct CodePage {
  std::vector<Code> codes;
  bool more = false;  // Another page follows.
};

// The longest a pending saga waits between two recovery attempts.
inline constexpr absl::Duration kMaxRetryBackoff = absl::Minutes(5);

class CodeStore {
 public:
  virtual ~CodeStore() = default;

  // Creates the batch and its ISSUED codes in one transaction, or returns the
  // batch an earlier call with the same request_id made (REQUEST_ID_REUSED if
  // that call asked for something else).
  virtual absl::StatusOr<Batch> CreateBatch(const BatchSpec& spec,
                                            const std::vector<NewCode>& codes) = 0;
  // Activate: ISSUED → ACTIVE. Void: ISSUED/ACTIVE → VOIDED. Named serials
  // the change cannot apply to refuse the whole change: for activate a
  // voided (CODE_VOIDED), expired (CODE_EXPIRED) or redeemed one
  // (CODE_ALREADY_REDEEMED), for void a redeeming or redeemed one; codes of
  // a batch in such states are skipped and counted. Unknown serials or
  // batch: NOT_FOUND naming the first. A replay of the request_id returns
  // the first result.
  virtual absl::StatusOr<BulkResult> ApplyBulkChange(const BulkChange& change) = 0;
  // Codes in serial order after `after_serial`, of one batch (every batch
  // when `batch_id` is empty), optionally only those whose effective state
  // is `state`.
  virtual absl::StatusOr<CodePage> ListCodes(const std::string& batch_id,
                                             std::optional<CodeState> state,
                                             const std::string& after_serial, int limit) = 0;
  // Batches issued before batch number `before_batch_no` (0: from the
  // newest), newest first.
  virtual absl::StatusOr<BatchPage> ListBatches(int64_t before_batch_no, int limit) = 0;
  // Claims up to `limit` PENDING redemptions older than `min_age` whose next
  // attempt is due, most overdue first, skipping rows another worker holds;
  // each claimed row's attempt count grows by one and its next attempt moves
  // out by a backoff (min_age doubling per attempt, at most kMaxRetryBackoff),
  // which is also the claim's lease.
  virtual absl::StatusOr<std::vector<Redemption>> ClaimPending(absl::Duration min_age,
                                                               int limit) = 0;
  virtual absl::StatusOr<Code> GetCodeBySerial(const std::string& serial) = 0;
  // The changes of `serial`'s code after change `after_change_id`, oldest
  // first. CODE_NOT_FOUND for an unknown serial.
  virtual absl::StatusOr<CodeChangePage> ListCodeChanges(const std::string& serial,
                                                         int64_t after_change_id, int limit) = 0;
  // The latest change of `serial`'s code (none only for a code that
  // predates the change log).
  virtual absl::StatusOr<std::optional<CodeChange>> LastCodeChange(const std::string& serial) = 0;
  virtual absl::StatusOr<Code> GetCodeByHashes(const std::vector<std::string>& code_hashes) = 0;
  // One statement: the code and the caller's earlier redemption (CodeLookup).
  virtual absl::StatusOr<CodeLookup> Lookup(const std::vector<std::string>& code_hashes,
                                            const std::string& account_id,
                                            const std::string& request_id) = 0;

  // ACTIVE → REDEEMING with a new PENDING redemption, or the code as the
  // same statement saw it; kReplay, changing nothing, when (account_id,
  // request_id) already has a redemption (an earlier or concurrent call).
  virtual absl::StatusOr<Reservation> Reserve(const ReserveRequest& request) = 0;
  // PENDING → COMPLETED and REDEEMING → REDEEMED. Returns the final record
  // (already final is fine: a concurrent retry completed it).
  virtual absl::StatusOr<Redemption> Complete(const Redemption& redemption,
                                              const std::string& transfer_id,
                                              int64_t balance_after_minor) = 0;
  // PENDING → REJECTED and REDEEMING → ACTIVE, remembering the refusal.
  virtual absl::StatusOr<Redemption> Reject(const Redemption& redemption,
                                            const absl::Status& refusal) = 0;

  // In one transaction, under the code's row lock: the clawback the
  // request_id made already (REQUEST_ID_REUSED when it asked for another),
  // or a new PENDING one of the code's COMPLETED redemption. Refused:
  // CODE_NOT_FOUND / REDEMPTION_NOT_FOUND (NOT_FOUND), NOT_REDEEMED when the
  // code is not REDEEMED, ALREADY_CLAWED_BACK when the redemption has a
  // clawback that was not refused (FAILED_PRECONDITION).
  virtual absl::StatusOr<Clawback> StartClawback(const ClawbackRequest& request) = 0;
  // PENDING → COMPLETED with the reversal's outcome, and the code
  // REDEEMED → then_state, together. Already final: returns it as it is.
  virtual absl::StatusOr<Clawback> CompleteClawback(const Clawback& clawback,
                                                    const std::string& transfer_id,
                                                    int64_t clawed_back_minor,
                                                    int64_t balance_after_minor) = 0;
  // PENDING → REJECTED, remembering the refusal; the code stays REDEEMED.
  virtual absl::StatusOr<Clawback> RejectClawback(const Clawback& clawback,
                                                  const absl::Status& refusal) = 0;
  // ClaimPending for clawbacks.
  virtual absl::StatusOr<std::vector<Clawback>> ClaimPendingClawbacks(absl::Duration min_age,
                                                                      int limit) = 0;
};

// Counts failed redemption attempts (codes that cannot be redeemed) per key
// (an account, a client address) in a fixed window, to stop enumeration.
struct LimitKey {
  std::string key;
  int max_failures = 0;
};

class AttemptLimiter;

// What a redemption learns before it touches the store: whether the caller
// is under its limits, and the code's guard.
struct Admission {
  absl::Status limits;                // As AttemptLimiter::Check answers.
  absl::StatusOr<std::string> guard;  // As RedemptionGuard::Acquire answers.
};

// Guards a code against a second redemption in flight. A lost guard is not
// a lost redemption: the store's conditional update decides.
class RedemptionGuard {
 public:
  virtual ~RedemptionGuard() = default;
  // A token when acquired; ABORTED/REDEMPTION_IN_PROGRESS when held by
  // another call; UNAVAILABLE when the guard cannot be reached.
  virtual absl::StatusOr<std::string> Acquire(const std::string& key, absl::Duration ttl) = 0;
  // Releases only if `token` still holds it.
  virtual void Release(const std::string& key, const std::string& token) = 0;
  // `limiter.Check(keys)` and Acquire(key, ttl) together; the guard is taken
  // even when a limit is reached (the caller releases it). By default one
  // after the other; a guard that lives where the limiter's counts do does
  // both in one round trip.
  virtual Admission Admit(AttemptLimiter& limiter, const std::vector<LimitKey>& keys,
                          const std::string& key, absl::Duration ttl);
};

// Every attempt is charged before it is answered, in one atomic
// check-and-count per key, so K guesses in parallel are K counts; an attempt
// that turns out not to be a failure is refunded.
class AttemptLimiter {
 public:
  virtual ~AttemptLimiter() = default;
  // Counts one attempt against every key: OK when each was under its limit
  // (the attempt is now counted); RESOURCE_EXHAUSTED/TOO_MANY_ATTEMPTS with a
  // RetryInfo when one is at its limit (then nothing stays counted);
  // UNAVAILABLE when the counters cannot be reached.
  virtual absl::Status Charge(const std::vector<LimitKey>& keys) = 0;
  // Takes back a charged attempt that was not a failure.
  virtual absl::Status Refund(const std::vector<LimitKey>& keys) = 0;
  // Whether every key is under its limit, counting nothing (an attempt that
  // is not a guess: a code the storefront may know): OK, TOO_MANY_ATTEMPTS
  // as Charge answers it, or UNAVAILABLE.
  virtual absl::Status Check(const std::vector<LimitKey>& keys) = 0;
};

inline Admission RedemptionGuard::Admit(AttemptLimiter& limiter, const std::vector<LimitKey>& keys,
                                        const std::string& key, absl::Duration ttl) {
  return {limiter.Check(keys), Acquire(key, ttl)};
}

struct CreditResult {
  std::string transfer_id;
  int64_t balance_after_minor = 0;
};

// What the ledger's reversal of a clawed-back credit did.
struct ClawbackOutcome {
  std::string transfer_id;
  int64_t clawed_back_minor = 0;
  int64_t balance_after_minor = 0;
};

class CreditGateway {
 public:
  virtual ~CreditGateway() = default;
  // Takes back what is left of the credit `credit_transfer_id`, idempotent
  // on `request_id`; errors as Credit's.
  virtual absl::StatusOr<ClawbackOutcome> ClawBack(const std::string& credit_transfer_id,
                                                   const std::string& request_id) = 0;
  // Credits `amount` to the account, idempotent on `request_id`. Errors carry
  // the peer's reason (REGION_MISMATCH, …) or UNAVAILABLE when unknown.
  // `traceparent`: the trace of the call the credit is for ("" for none).
  virtual absl::StatusOr<CreditResult> Credit(const std::string& account_id,
                                              const money::Money& amount,
                                              const std::string& code_region,
                                              const std::string& request_id,
                                              const std::string& reference,
                                              const std::string& traceparent) = 0;
};

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_PORTS_H_

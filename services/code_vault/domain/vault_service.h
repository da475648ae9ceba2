// The code vault's rules: issuing and activating codes, what a code's status
// is, and the redemption saga of DESIGN.md ("Redemption: exactly once across
// two services"):
//   guard (Redis) → reserve (Postgres: ACTIVE → REDEEMING + PENDING
//   redemption) → credit (account-credit, idempotent on the redemption id) →
//   complete (REDEEMED/COMPLETED) or reject (ACTIVE/REJECTED), or, when the
//   credit's outcome is unknown, leave it PENDING for a retry to finish.
#ifndef GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_VAULT_SERVICE_H_
#define GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_VAULT_SERVICE_H_

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/clock.h"
#include "codes/hasher.h"
#include "services/code_vault/domain/model.h"
#include "services/code_vault/domain/ports.h"
#include "services/code_vault/domain/redeem_ports.h"

namespace giftcard::code_vault {

inline constexpr int kMaxCodesPerBatch = 100000;

struct IssueCommand {
  int count = 0;
  money::Money amount;
  std::string region;
  std::string request_id;
  std::optional<absl::Time> expire_time;
  std::string principal = "";  // Who issues (recorded with each code's creation).
};

struct IssuedCode {
  std::string serial;
  std::string pin;  // Formatted XXXX-XXXX-XXXX-XXXX; empty on a replay.
};

struct IssuedBatch {
  std::string batch_id;
  bool replayed = false;
  std::vector<IssuedCode> codes;
};

// Void, block and unblock: a batch or serials, and why (required).
struct VoidCommand {
  std::string batch_id;
  std::vector<std::string> serials;
  std::string reason;
  std::string request_id;
  std::string principal = "";  // Who asks (recorded with each change).
};

struct ListCodeChangesQuery {
  std::string serial;
  int page_size = 0;  // 0: the default.
  std::string page_token;
};

struct ListCodeChangesResult {
  std::vector<CodeChange> changes;  // Oldest first.
  std::string next_page_token;
};

struct ListCodesQuery {
  std::string batch_id;
  std::optional<CodeState> state;
  int page_size = 0;  // 0: the default.
  std::string page_token;
};

struct ListCodesResult {
  std::vector<Code> codes;
  std::string next_page_token;
};

struct ListBatchesResult {
  std::vector<BatchInfo> batches;
  std::string next_page_token;
};

// What a person may learn about a card before redeeming it.
struct CodeCheck {
  money::Money amount;
  std::string region;
  bool redeemable = false;
};

struct RedeemCommand {
  std::string code;  // As typed.
  std::string account_id;
  std::string request_id;
  std::string client_ip;
  // The call's trace context, for the calls it makes; may be "". Optional, so
  // an aggregate initializer may leave it out.
  std::string traceparent{};
  // Who asked, recorded with the redemption and named in the code's history.
  std::string principal{};
};

// ReverseRedemption: the redemption of `serial`'s code or `redemption_id`
// (exactly one), clawed back for `reason`, the code left in `then_state`.
struct ReverseRedemptionCommand {
  std::string serial;
  std::string redemption_id;
  std::string reason;
  std::string request_id;
  std::optional<CodeState> then_state;  // kBlocked or kVoided.
  std::string principal;                // Who asked (the caller's token).
};

// Lookup of a code by exactly one of serial or PIN.
struct CodeKey {
  std::string serial;
  std::string code;
};

class VaultService {
 public:
  struct Options {
    absl::Duration guard_ttl = absl::Seconds(15);
    // Unknown codes tolerated per window, per account and per client address.
    int max_failures_per_account = 10;
    int max_failures_per_client = 50;
    // Answer a redemption once its credit is durable, and mark it COMPLETED
    // after (on the engine, batched); a completion that fails leaves it
    // PENDING for the recovery worker, which asks for the same credit again
    // (idempotent on the redemption id). The recovery worker itself always
    // waits for the completion.
    bool answer_before_completion = false;
    std::function<absl::Time()> now = [] { return absl::Now(); };
  };

  VaultService(CodeStore& store, RedemptionGuard& guard, CreditGateway& credit,
               AttemptLimiter& limiter, const codes::CodeHasher& hasher, Options options);

  absl::StatusOr<IssuedBatch> IssueCodes(const IssueCommand& command);
  absl::StatusOr<BulkResult> ActivateCodes(const std::string& batch_id,
                                           const std::vector<std::string>& serials,
                                           const std::string& request_id,
                                           const std::string& principal = "");
  absl::StatusOr<BulkResult> VoidCodes(const VoidCommand& command);
  // A reversible fraud hold: a blocked code answers the storefront exactly
  // as an unknown one; support sees BLOCKED and why.
  absl::StatusOr<BulkResult> BlockCodes(const VoidCommand& command);
  absl::StatusOr<BulkResult> UnblockCodes(const VoidCommand& command);
  // Claws back a fraudulent redemption: a saga like the redemption's —
  // record a PENDING clawback under the code's lock, ask the ledger to take
  // back what is left of the credit (idempotent on the clawback), then
  // complete it (the code REDEEMED → BLOCKED or VOIDED) or, on the ledger's
  // recorded refusal, reject it. An unknown outcome leaves it PENDING for a
  // retry or the recovery worker (UNAVAILABLE).
  absl::StatusOr<Clawback> ReverseRedemption(const ReverseRedemptionCommand& command);
  // A page token remembers its query: an empty batch_id or state takes the
  // token's, a given one must match it.
  absl::StatusOr<ListCodesResult> ListCodes(const ListCodesQuery& query);
  absl::StatusOr<ListBatchesResult> ListBatches(int page_size, const std::string& page_token);
  // Storefront: value and region of a code, without redeeming it.
  absl::StatusOr<CodeCheck> CheckCode(const std::string& code, const std::string& client_ip);
  // The same without waiting, through `ports` (admission and store).
  void StartCheckCode(RedeemPorts ports, const std::string& code, const std::string& client_ip,
                      Callback<absl::StatusOr<CodeCheck>> done);
  // Admin view: the exact state (EXPIRED when past expiry) and the latest
  // change with who made it.
  absl::StatusOr<Code> GetCodeStatus(const CodeKey& key);
  // The same without waiting, in one read through `reads`; `done` gets the
  // answer on the thread `reads` answers on.
  void StartGetCodeStatus(AsyncCodeReads& reads, const CodeKey& key,
                          Callback<absl::StatusOr<Code>> done);
  // A code's every change, oldest first, a page at a time.
  absl::StatusOr<ListCodeChangesResult> ListCodeChanges(const ListCodeChangesQuery& query);
  // The redemption saga, through the blocking ports: returns its answer.
  absl::StatusOr<Redemption> Redeem(const RedeemCommand& command);
  using RedeemDone = Callback<absl::StatusOr<Redemption>>;
  // The same saga without waiting: each step asks `ports` and goes on in
  // its callback; `done` gets the answer (on the thread the ports answer on:
  // the engine's, in the service). The ports outlive the call.
  void StartRedeem(RedeemPorts ports, RedeemCommand command, RedeemDone done);

  // The recovery worker's pass: claims PENDING redemptions, then PENDING
  // clawbacks, older than `min_age` whose next attempt is due and drives
  // them to an outcome with the same ledger request id. Returns how many
  // reached one.
  int RecoverPending(absl::Duration min_age, int limit);

  // Redemptions that went on without the Redis guard (Redis unreachable).
  int64_t guard_bypass_count() const { return guard_bypasses_.load(); }
  // Credit calls whose outcome stayed unknown (the redemption stays PENDING).
  int64_t unknown_outcome_count() const { return unknown_outcomes_.load(); }

 private:
  class RedeemCall;
  // Credit, then complete or reject: the saga's second half, shared by a
  // redemption, its replay and the recovery worker.
  absl::StatusOr<Redemption> FinishCredit(const Redemption& pending);
  void FinishCreditAsync(RedeemPorts ports, const Redemption& pending, bool answer_first,
                         RedeemDone done);
  RedeemPorts SyncPorts() { return {sync_admission_, sync_store_, sync_credit_}; }
  absl::StatusOr<Clawback> FinishClawback(const Clawback& pending);
  absl::StatusOr<BulkResult> ApplyBulkChange(BulkChange change);
  absl::StatusOr<BulkResult> ReasonedBulkChange(BulkKind kind, const VoidCommand& command);
  // `client_key` as validate::ClientAddressKey made it.
  std::vector<LimitKey> LimitKeys(const std::string& account_id,
                                  const std::string& client_key) const;

  CodeStore& store_;
  RedemptionGuard& guard_;
  CreditGateway& credit_;
  AttemptLimiter& limiter_;
  const codes::CodeHasher& hasher_;
  const Options options_;
  SyncAdmission sync_admission_;
  SyncRedemptionStore sync_store_;
  SyncCredit sync_credit_;
  std::atomic<int64_t> guard_bypasses_{0};
  std::atomic<int64_t> unknown_outcomes_{0};
};

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_VAULT_SERVICE_H_

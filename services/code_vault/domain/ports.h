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
#include "domain/model.h"

namespace giftcard::code_vault {

// Outcome of trying to reserve a code for a redemption.
struct Reservation {
  enum class Kind {
    kReserved,  // The code went ACTIVE → REDEEMING; `redemption` is new, PENDING.
    kReplay,    // (account_id, request_id) already has `redemption`.
    kRefused,   // The code was not ACTIVE; `code` says what it is (if it exists).
  };
  Kind kind = Kind::kRefused;
  Redemption redemption;
  std::optional<Code> code;
};

struct ReserveRequest {
  std::vector<std::string> code_hashes;  // The PIN under every pepper key.
  std::string account_id;
  std::string request_id;
};

class CodeStore {
 public:
  virtual ~CodeStore() = default;

  // Creates the batch and its ISSUED codes in one transaction, or returns the
  // batch an earlier call with the same request_id made (REQUEST_ID_REUSED if
  // that call asked for something else).
  virtual absl::StatusOr<Batch> CreateBatch(const BatchSpec& spec,
                                            const std::vector<NewCode>& codes) = 0;
  // ISSUED → ACTIVE for a batch or a set of serials; returns how many moved.
  virtual absl::StatusOr<int64_t> ActivateCodes(const std::string& batch_id,
                                                const std::vector<std::string>& serials) = 0;
  virtual absl::StatusOr<Code> GetCodeBySerial(const std::string& serial) = 0;
  virtual absl::StatusOr<Code> GetCodeByHashes(const std::vector<std::string>& code_hashes) = 0;

  // One transaction: replay lookup, then ACTIVE → REDEEMING with a new
  // PENDING redemption, or the reason it could not.
  virtual absl::StatusOr<Reservation> Reserve(const ReserveRequest& request) = 0;
  // PENDING → COMPLETED and REDEEMING → REDEEMED. Returns the final record
  // (already final is fine: a concurrent retry completed it).
  virtual absl::StatusOr<Redemption> Complete(const Redemption& redemption,
                                              const std::string& transfer_id,
                                              int64_t balance_after_minor) = 0;
  // PENDING → REJECTED and REDEEMING → ACTIVE, remembering the refusal.
  virtual absl::StatusOr<Redemption> Reject(const Redemption& redemption,
                                            const absl::Status& refusal) = 0;
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
};

struct CreditResult {
  std::string transfer_id;
  int64_t balance_after_minor = 0;
};

class CreditGateway {
 public:
  virtual ~CreditGateway() = default;
  // Credits `amount` to the account, idempotent on `request_id`. Errors carry
  // the peer's reason (REGION_MISMATCH, …) or UNAVAILABLE when unknown.
  virtual absl::StatusOr<CreditResult> Credit(const std::string& account_id,
                                              const money::Money& amount,
                                              const std::string& code_region,
                                              const std::string& request_id,
                                              const std::string& reference) = 0;
};

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_PORTS_H_

// RedemptionGuard on Redis: SET key token NX PX ttl to take it, a
// compare-and-delete script to give it back, so a call whose guard expired
// can never release someone else's. Admit sends the attempt limiter's check
// (RedisAttemptLimiter, on the same Redis) and the SET in one pipeline, and
// the admissions (and the releases) of concurrent redemptions go together in
// one pipeline (flat combining, libs/batch): one round trip per batch.
#ifndef GIFTCARD_SERVICES_CODE_VAULT_STORAGE_REDIS_REDEMPTION_GUARD_H_
#define GIFTCARD_SERVICES_CODE_VAULT_STORAGE_REDIS_REDEMPTION_GUARD_H_

#include <optional>
#include <string>
#include <vector>

#include "batch/batcher.h"
#include "redis/client.h"
#include "redis/loop_client.h"
#include "services/code_vault/domain/ports.h"

namespace giftcard::code_vault {

class RedisRedemptionGuard : public RedemptionGuard {
 public:
  explicit RedisRedemptionGuard(redis::Client& client);

  absl::StatusOr<std::string> Acquire(const std::string& key, absl::Duration ttl) override;
  void Release(const std::string& key, const std::string& token) override;
  // One round trip; when the counts cannot be read there (Redis down, the
  // script not loaded yet), `limiter.Check` answers for them.
  Admission Admit(AttemptLimiter& limiter, const std::vector<LimitKey>& keys,
                  const std::string& key, absl::Duration ttl) override;

  // For the engine's admission (storage/loop_admission.h): a new guard
  // token, the SET that takes the guard, the guard from its reply, and the
  // compare-and-delete script that gives it back.
  static std::string NewToken();
  static std::vector<std::string> SetCommand(const std::string& key, const std::string& token,
                                             absl::Duration ttl);
  static absl::StatusOr<std::string> GuardFromReply(const absl::StatusOr<redis::Reply>& reply,
                                                    std::string token);
  static const redis::Script& ReleaseScript();

 private:
  struct AdmitItem {
    std::vector<LimitKey> keys;
    std::string key;
    std::string token;
    absl::Duration ttl;
  };
  struct AdmitReply {
    std::optional<absl::Status> limits;  // Unset: the counts could not be read.
    absl::StatusOr<std::string> guard;
  };
  struct ReleaseItem {
    std::string key;
    std::string token;
  };
  std::vector<AdmitReply> AdmitBatch(const std::vector<AdmitItem>& batch);
  std::vector<bool> ReleaseBatch(const std::vector<ReleaseItem>& batch);

  redis::Client& client_;
  batch::Batcher<AdmitItem, AdmitReply> admissions_;
  batch::Batcher<ReleaseItem, bool> releases_;
};

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_STORAGE_REDIS_REDEMPTION_GUARD_H_

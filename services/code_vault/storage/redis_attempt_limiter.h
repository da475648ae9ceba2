// AttemptLimiter on Redis: one fixed-window counter per key
// (`giftcard:{limit:<key>}:fails`), checked, incremented and given its
// expiry in one script, so replicas share the count and parallel attempts
// are all counted. Each key is its own hash slot, so it
// works on Redis Cluster.
#ifndef GIFTCARD_SERVICES_CODE_VAULT_STORAGE_REDIS_ATTEMPT_LIMITER_H_
#define GIFTCARD_SERVICES_CODE_VAULT_STORAGE_REDIS_ATTEMPT_LIMITER_H_

#include <optional>
#include <string>
#include <vector>

#include "redis/client.h"
#include "redis/loop_client.h"
#include "services/code_vault/domain/ports.h"

namespace giftcard::code_vault {

class RedisAttemptLimiter : public AttemptLimiter {
 public:
  RedisAttemptLimiter(redis::Client& client, absl::Duration window)
      : client_(client), window_(window) {}

  absl::Status Charge(const std::vector<LimitKey>& keys) override;
  absl::Status Refund(const std::vector<LimitKey>& keys) override;
  absl::Status Check(const std::vector<LimitKey>& keys) override;

  // Check as commands for a caller's own pipeline, and Check's answer from
  // their replies; nullopt when one says NOSCRIPT (the script is not loaded
  // yet: Check loads it).
  static std::vector<std::vector<std::string>> CheckCommands(const std::vector<LimitKey>& keys);
  static std::optional<absl::Status> CheckAnswer(
      const std::vector<absl::StatusOr<redis::Reply>>& replies);

  // For the engine's admission (storage/loop_admission.h), which runs the
  // same scripts over redis::LoopClient: the scripts, each key's counter,
  // and Charge's answer from the replies of one charge script per key
  // (`charged`: the keys it counted on, to refund when the answer is no).
  static const redis::Script& ChargeScript();
  static const redis::Script& RefundScript();
  static const redis::Script& CheckScript();
  static std::string CounterKey(const std::string& key);
  static absl::Status ChargeAnswer(const std::vector<LimitKey>& keys,
                                   const std::vector<absl::StatusOr<redis::Reply>>& replies,
                                   std::vector<LimitKey>* charged);

 private:
  redis::Client& client_;
  const absl::Duration window_;
};

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_STORAGE_REDIS_ATTEMPT_LIMITER_H_

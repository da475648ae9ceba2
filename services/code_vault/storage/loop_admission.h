// The engine's admission (AsyncAdmission) on redis::LoopClient: the same
// scripts and commands as RedisRedemptionGuard and RedisAttemptLimiter, sent
// from the engine's thread. A redemption's limit checks and its guard's SET
// leave in the turn they were issued, with every other call's of that turn,
// in one write. When Redis cannot answer, the in-process limiter does, as
// FallbackAttemptLimiter routes it; the guard is then UNAVAILABLE and the
// saga goes on without it (Postgres's conditional update decides).
#ifndef GIFTCARD_SERVICES_CODE_VAULT_STORAGE_LOOP_ADMISSION_H_
#define GIFTCARD_SERVICES_CODE_VAULT_STORAGE_LOOP_ADMISSION_H_

#include <string>
#include <vector>

#include "redis/loop_client.h"
#include "services/code_vault/domain/attempt_limiters.h"
#include "services/code_vault/domain/redeem_ports.h"

namespace giftcard::code_vault {

class LoopAdmission : public AsyncAdmission {
 public:
  // `limiter` routes Redis's answers and falls back in process; `window`
  // is the failed-attempt window the charge script gives a new count.
  LoopAdmission(redis::LoopClient& client, FallbackAttemptLimiter& limiter, absl::Duration window)
      : client_(client), limiter_(limiter), window_(window) {}

  void Admit(const std::vector<LimitKey>& keys, const std::string& guard_key, absl::Duration ttl,
             Callback<Admission> done) override;
  void Release(const std::string& key, const std::string& token) override;
  void Charge(const std::vector<LimitKey>& keys, Callback<absl::Status> done) override;
  void Refund(const std::vector<LimitKey>& keys) override;

 private:
  redis::LoopClient& client_;
  FallbackAttemptLimiter& limiter_;
  const absl::Duration window_;
};

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_STORAGE_LOOP_ADMISSION_H_

// In-process attempt limiting: the fallback when Redis is unreachable, and
// the combination "Redis first, this process when Redis is down".
#ifndef GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_ATTEMPT_LIMITERS_H_
#define GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_ATTEMPT_LIMITERS_H_

#include <atomic>
#include <functional>
#include <string>
#include <unordered_map>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "services/code_vault/domain/ports.h"

namespace giftcard::code_vault {

// TOO_MANY_ATTEMPTS, retry after `retry_after`.
absl::Status TooManyAttempts(absl::Duration retry_after);

// Fixed-window counters in this process's memory; Charge checks and counts
// all keys under one lock. Bounded at `max_keys` keys without ever resetting
// a key it counts: when full, expired windows are dropped, and if none are,
// keys not in the table share one overflow window (each new key is held to
// its own limit on that shared count), so a flood of new keys during a Redis
// outage cannot push out the key a guesser is using.
class InProcessAttemptLimiter : public AttemptLimiter {
 public:
  InProcessAttemptLimiter(
      absl::Duration window, size_t max_keys = 100000,
      std::function<absl::Time()> now = [] { return absl::Now(); });

  absl::Status Charge(const std::vector<LimitKey>& keys) override;
  absl::Status Refund(const std::vector<LimitKey>& keys) override;
  absl::Status Check(const std::vector<LimitKey>& keys) override;

  // Keys counted now (the overflow window not included).
  size_t size() const;

 private:
  struct Window {
    int failures = 0;
    absl::Time end;
  };
  // The window `key` counts in at `now`: its own, or the overflow window.
  Window& WindowLocked(const std::string& key, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::Duration window_;
  const size_t max_keys_;
  const std::function<absl::Time()> now_;
  mutable absl::Mutex mu_;
  std::unordered_map<std::string, Window> windows_ ABSL_GUARDED_BY(mu_);
  Window overflow_ ABSL_GUARDED_BY(mu_);
};

// Asks `primary` (Redis); when it is UNAVAILABLE, asks `fallback` (this
// process) instead, counts it and logs the switch once per outage.
class FallbackAttemptLimiter : public AttemptLimiter {
 public:
  FallbackAttemptLimiter(AttemptLimiter& primary, AttemptLimiter& fallback)
      : primary_(primary), fallback_(fallback) {}

  absl::Status Charge(const std::vector<LimitKey>& keys) override;
  absl::Status Refund(const std::vector<LimitKey>& keys) override;
  absl::Status Check(const std::vector<LimitKey>& keys) override;
  int64_t fallback_count() const { return fallbacks_.load(); }

  // The primary's answer, or, when it says UNAVAILABLE, `on_fallback`'s
  // (counted, and logged when an outage starts): for an answer the primary
  // gave without this class, as the engine's admission gets it from Redis.
  absl::Status Route(const absl::Status& primary_result,
                     const std::function<absl::Status()>& on_fallback);
  AttemptLimiter& fallback() { return fallback_; }

 private:
  AttemptLimiter& primary_;
  AttemptLimiter& fallback_;
  std::atomic<int64_t> fallbacks_{0};
  std::atomic<bool> in_outage_{false};
};

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_ATTEMPT_LIMITERS_H_

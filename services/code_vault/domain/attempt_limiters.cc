#include "services/code_vault/domain/attempt_limiters.h"

#include <algorithm>
#include <vector>

#include "errors/status.h"
#include "log/log.h"

namespace giftcard::code_vault {

absl::Status TooManyAttempts(absl::Duration retry_after) {
  return errors::WithRetryDelay(
      errors::Error(absl::StatusCode::kResourceExhausted, errors::reason::kTooManyAttempts,
                    "too many attempts with codes that cannot be redeemed; try again later"),
      std::max(retry_after, absl::Milliseconds(1)));
}

InProcessAttemptLimiter::InProcessAttemptLimiter(absl::Duration window, size_t max_keys,
                                                 std::function<absl::Time()> now)
    : window_(window), max_keys_(max_keys), now_(std::move(now)) {}

InProcessAttemptLimiter::Window& InProcessAttemptLimiter::WindowLocked(const std::string& key,
                                                                       absl::Time now) {
  auto it = windows_.find(key);
  if (it == windows_.end() && windows_.size() >= max_keys_) {
    for (auto e = windows_.begin(); e != windows_.end();) {
      e = e->second.end <= now ? windows_.erase(e) : std::next(e);
    }
  }
  Window& w = it != windows_.end()          ? it->second
              : windows_.size() < max_keys_ ? windows_[key]
                                            : overflow_;
  if (w.end <= now) w = Window{0, now + window_};
  return w;
}

absl::Status InProcessAttemptLimiter::Charge(const std::vector<LimitKey>& keys) {
  const absl::Time now = now_();
  absl::MutexLock lock(&mu_);
  // Check every key first, then count on all: both under one lock.
  for (const LimitKey& k : keys) {
    const Window& w = WindowLocked(k.key, now);
    if (w.failures >= k.max_failures) return TooManyAttempts(w.end - now);
  }
  for (const LimitKey& k : keys) ++WindowLocked(k.key, now).failures;
  return absl::OkStatus();
}

absl::Status InProcessAttemptLimiter::Check(const std::vector<LimitKey>& keys) {
  const absl::Time now = now_();
  absl::MutexLock lock(&mu_);
  for (const LimitKey& k : keys) {
    auto it = windows_.find(k.key);
    const Window& w = it != windows_.end() ? it->second : overflow_;
    if (w.end > now && w.failures >= k.max_failures) return TooManyAttempts(w.end - now);
  }
  return absl::OkStatus();
}

absl::Status InProcessAttemptLimiter::Refund(const std::vector<LimitKey>& keys) {
  const absl::Time now = now_();
  absl::MutexLock lock(&mu_);
  for (const LimitKey& k : keys) {
    auto it = windows_.find(k.key);
    Window& w = it != windows_.end() ? it->second : overflow_;
    if (w.end > now && w.failures > 0) --w.failures;
  }
  return absl::OkStatus();
}

size_t InProcessAttemptLimiter::size() const {
  absl::MutexLock lock(&mu_);
  return windows_.size();
}

absl::Status FallbackAttemptLimiter::Route(const absl::Status& primary_result,
                                           const std::function<absl::Status()>& on_fallback) {
  if (primary_result.code() != absl::StatusCode::kUnavailable) {
    if (in_outage_.exchange(false)) log::Info("attempt_limiter_redis_back");
    return primary_result;
  }
  fallbacks_.fetch_add(1);
  if (!in_outage_.exchange(true)) {
    log::Warning("attempt_limiter_fallback", {{"why", "redis unavailable; limiting in process"}});
  }
  return on_fallback();
}

absl::Status FallbackAttemptLimiter::Charge(const std::vector<LimitKey>& keys) {
  return Route(primary_.Charge(keys), [&] { return fallback_.Charge(keys); });
}

// A refund goes where Redis's state says now: an attempt charged in process
// just before Redis came back is refunded to Redis, which never lets a count
// go below zero, so the error is at most one attempt in the caller's favour.
absl::Status FallbackAttemptLimiter::Refund(const std::vector<LimitKey>& keys) {
  return Route(primary_.Refund(keys), [&] { return fallback_.Refund(keys); });
}

absl::Status FallbackAttemptLimiter::Check(const std::vector<LimitKey>& keys) {
  return Route(primary_.Check(keys), [&] { return fallback_.Check(keys); });
}

}  // namespace giftcard::code_vault

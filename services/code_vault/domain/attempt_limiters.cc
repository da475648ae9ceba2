#include "domain/attempt_limiters.h"

#include <algorithm>
#include <vector>

#include "errors/status.h"
#include "log/log.h"

namespace giftcard::code_vault {

absl::Status TooManyAttempts(absl::Duration retry_after) {
  return errors::WithRetryDelay(
      errors::Error(absl::StatusCode::kResourceExhausted, errors::reason::kTooManyAttempts,
                    "too many attempts with codes that do not exist; try again later"),
      std::max(retry_after, absl::Milliseconds(1)));
}

InProcessAttemptLimiter::InProcessAttemptLimiter(absl::Duration window, size_t max_keys,
                                                 std::function<absl::Time()> now)
    : window_(window), max_keys_(max_keys), now_(std::move(now)) {}

absl::Status InProcessAttemptLimiter::Check(const std::vector<LimitKey>& keys) {
  const absl::Time now = now_();
  absl::MutexLock lock(&mu_);
  for (const LimitKey& k : keys) {
    auto it = windows_.find(k.key);
    if (it == windows_.end() || it->second.end <= now) continue;
    if (it->second.failures >= k.max_failures) return TooManyAttempts(it->second.end - now);
  }
  return absl::OkStatus();
}

absl::Status InProcessAttemptLimiter::RecordFailure(const std::vector<LimitKey>& keys) {
  const absl::Time now = now_();
  absl::MutexLock lock(&mu_);
  for (const LimitKey& k : keys) {
    if (windows_.size() >= max_keys_ && !windows_.count(k.key)) EvictLocked(now);
    Window& w = windows_[k.key];
    if (w.end <= now) w = Window{0, now + window_};
    ++w.failures;
  }
  return absl::OkStatus();
}

void InProcessAttemptLimiter::EvictLocked(absl::Time now) {
  for (auto it = windows_.begin(); it != windows_.end();) {
    it = it->second.end <= now ? windows_.erase(it) : std::next(it);
  }
  if (windows_.size() < max_keys_) return;
  std::vector<absl::Time> ends;
  for (const auto& [key, w] : windows_) ends.push_back(w.end);
  std::nth_element(ends.begin(), ends.begin() + ends.size() / 2, ends.end());
  const absl::Time cutoff = ends[ends.size() / 2];
  for (auto it = windows_.begin(); it != windows_.end();) {
    it = it->second.end <= cutoff ? windows_.erase(it) : std::next(it);
  }
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

absl::Status FallbackAttemptLimiter::Check(const std::vector<LimitKey>& keys) {
  return Route(primary_.Check(keys), [&] { return fallback_.Check(keys); });
}

absl::Status FallbackAttemptLimiter::RecordFailure(const std::vector<LimitKey>& keys) {
  return Route(primary_.RecordFailure(keys), [&] { return fallback_.RecordFailure(keys); });
}

}  // namespace giftcard::code_vault

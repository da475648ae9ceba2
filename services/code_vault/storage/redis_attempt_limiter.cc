#include "storage/redis_attempt_limiter.h"

#include "absl/strings/str_cat.h"
#include "domain/attempt_limiters.h"
#include "errors/status.h"

namespace giftcard::code_vault {
namespace {

// Returns {failures, milliseconds left in the window}.
constexpr char kReadScript[] =
    "local n = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "return {n, redis.call('PTTL', KEYS[1])}";

// Counts one failure; the first failure of a window starts it.
constexpr char kIncrementScript[] =
    "local n = redis.call('INCR', KEYS[1]) "
    "if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then "
    "  redis.call('PEXPIRE', KEYS[1], ARGV[1]) end "
    "return n";

std::string CounterKey(const std::string& key) {
  return absl::StrCat("giftcard:{limit:", key, "}:fails");
}

absl::Status Unavailable(const absl::Status& s) {
  return errors::DependencyUnavailable("redis", s.message());
}

// One key set per limit key: every key is its own script call (so each
// stays in one Redis Cluster slot), all of them in one round trip.
std::vector<std::vector<std::string>> KeySets(const std::vector<LimitKey>& keys) {
  std::vector<std::vector<std::string>> sets;
  for (const LimitKey& k : keys) sets.push_back({CounterKey(k.key)});
  return sets;
}

}  // namespace

absl::Status RedisAttemptLimiter::Check(const std::vector<LimitKey>& keys) {
  std::vector<absl::StatusOr<redis::Reply>> replies =
      client_.EvalEach(kReadScript, KeySets(keys), {});
  for (size_t i = 0; i < keys.size(); ++i) {
    const absl::StatusOr<redis::Reply>& reply = replies[i];
    if (!reply.ok()) return Unavailable(reply.status());
    if (reply->elements.size() != 2) return Unavailable(absl::InternalError("bad reply"));
    if (reply->elements[0].integer >= keys[i].max_failures) {
      return TooManyAttempts(absl::Milliseconds(std::max<int64_t>(reply->elements[1].integer, 1)));
    }
  }
  return absl::OkStatus();
}

absl::Status RedisAttemptLimiter::RecordFailure(const std::vector<LimitKey>& keys) {
  const std::string window_ms = absl::StrCat(absl::ToInt64Milliseconds(window_));
  for (const auto& reply : client_.EvalEach(kIncrementScript, KeySets(keys), {window_ms})) {
    if (!reply.ok()) return Unavailable(reply.status());
  }
  return absl::OkStatus();
}

}  // namespace giftcard::code_vault

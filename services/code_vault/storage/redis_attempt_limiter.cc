#include "services/code_vault/storage/redis_attempt_limiter.h"

#include "absl/strings/str_cat.h"
#include "errors/status.h"
#include "services/code_vault/domain/attempt_limiters.h"

namespace giftcard::code_vault {
namespace {

// Check and count in one step (a script runs atomically): {1, 0} when the
// attempt is now counted, {0, ms left in the window} when the key is at its
// limit (nothing counted). The first count of a window starts it.
// ARGV: window (ms), limit.
constexpr char kChargeScript[] =
    "local n = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "if n >= tonumber(ARGV[2]) then return {0, redis.call('PTTL', KEYS[1])} end "
    "n = redis.call('INCR', KEYS[1]) "
    "if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then "
    "  redis.call('PEXPIRE', KEYS[1], ARGV[1]) end "
    "return {1, 0}";

// Takes one count back; never below zero.
constexpr char kRefundScript[] =
    "local n = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "if n > 1 then redis.call('DECR', KEYS[1]) elseif n == 1 then redis.call('DEL', KEYS[1]) end "
    "return 0";

// Check only: {1, 0} under the limit, {0, ms left in the window} at it.
// ARGV: limit.
constexpr char kCheckScript[] =
    "local n = tonumber(redis.call('GET', KEYS[1]) or '0') "
    "if n >= tonumber(ARGV[1]) then return {0, redis.call('PTTL', KEYS[1])} end "
    "return {1, 0}";

absl::Status Unavailable(const absl::Status& s) {
  return errors::DependencyUnavailable("redis", s.message());
}

}  // namespace

std::string RedisAttemptLimiter::CounterKey(const std::string& key) {
  return absl::StrCat("giftcard:{limit:", key, "}:fails");
}

const redis::Script& RedisAttemptLimiter::ChargeScript() {
  static const redis::Script* script = new redis::Script(kChargeScript);
  return *script;
}
const redis::Script& RedisAttemptLimiter::RefundScript() {
  static const redis::Script* script = new redis::Script(kRefundScript);
  return *script;
}
const redis::Script& RedisAttemptLimiter::CheckScript() {
  static const redis::Script* script = new redis::Script(kCheckScript);
  return *script;
}

absl::Status RedisAttemptLimiter::ChargeAnswer(
    const std::vector<LimitKey>& keys, const std::vector<absl::StatusOr<redis::Reply>>& replies,
    std::vector<LimitKey>* charged) {
  absl::Status result = absl::OkStatus();
  for (size_t i = 0; i < keys.size(); ++i) {
    const absl::StatusOr<redis::Reply>& reply = replies[i];
    if (!reply.ok() || reply->elements.size() != 2) {
      if (result.ok())
        result = Unavailable(reply.ok() ? absl::InternalError("bad reply") : reply.status());
      continue;
    }
    if (reply->elements[0].integer == 1) {
      charged->push_back(keys[i]);
    } else if (result.ok()) {
      result =
          TooManyAttempts(absl::Milliseconds(std::max<int64_t>(reply->elements[1].integer, 1)));
    }
  }
  return result;
}

absl::Status RedisAttemptLimiter::Charge(const std::vector<LimitKey>& keys) {
  // Every key is its own script call (each stays in one Redis Cluster
  // slot), all of them in one round trip.
  const std::string window_ms = absl::StrCat(absl::ToInt64Milliseconds(window_));
  std::vector<redis::Client::ScriptCall> calls;
  for (const LimitKey& k : keys) {
    calls.push_back({{CounterKey(k.key)}, {window_ms, absl::StrCat(k.max_failures)}});
  }
  std::vector<absl::StatusOr<redis::Reply>> replies = client_.EvalEach(kChargeScript, calls);
  std::vector<LimitKey> charged;
  const absl::Status result = ChargeAnswer(keys, replies, &charged);
  // Refused (or half-answered): nothing stays counted.
  if (!result.ok() && !charged.empty()) (void)Refund(charged);
  return result;
}

std::vector<std::vector<std::string>> RedisAttemptLimiter::CheckCommands(
    const std::vector<LimitKey>& keys) {
  std::vector<std::vector<std::string>> commands;
  for (const LimitKey& k : keys) {
    commands.push_back(redis::Client::EvalShaCommand(
        kCheckScript, {{CounterKey(k.key)}, {absl::StrCat(k.max_failures)}}));
  }
  return commands;
}

std::optional<absl::Status> RedisAttemptLimiter::CheckAnswer(
    const std::vector<absl::StatusOr<redis::Reply>>& replies) {
  for (const absl::StatusOr<redis::Reply>& reply : replies) {
    if (redis::Client::IsNoScript(reply)) return std::nullopt;
  }
  for (const absl::StatusOr<redis::Reply>& reply : replies) {
    if (!reply.ok() || reply->elements.size() != 2) {
      return Unavailable(reply.ok() ? absl::InternalError("bad reply") : reply.status());
    }
    if (reply->elements[0].integer != 1) {
      return TooManyAttempts(absl::Milliseconds(std::max<int64_t>(reply->elements[1].integer, 1)));
    }
  }
  return absl::OkStatus();
}

absl::Status RedisAttemptLimiter::Check(const std::vector<LimitKey>& keys) {
  std::vector<redis::Client::ScriptCall> calls;
  for (const LimitKey& k : keys) {
    calls.push_back({{CounterKey(k.key)}, {absl::StrCat(k.max_failures)}});
  }
  // EvalEach has loaded the script where it was missing.
  std::optional<absl::Status> answer = CheckAnswer(client_.EvalEach(kCheckScript, calls));
  return answer ? *std::move(answer) : Unavailable(absl::InternalError("script not loaded"));
}

absl::Status RedisAttemptLimiter::Refund(const std::vector<LimitKey>& keys) {
  std::vector<redis::Client::ScriptCall> calls;
  for (const LimitKey& k : keys) calls.push_back({{CounterKey(k.key)}, {}});
  for (const auto& reply : client_.EvalEach(kRefundScript, calls)) {
    if (!reply.ok()) return Unavailable(reply.status());
  }
  return absl::OkStatus();
}

}  // namespace giftcard::code_vault

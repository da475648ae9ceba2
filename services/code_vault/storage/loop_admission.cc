#include "services/code_vault/storage/loop_admission.h"

#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "errors/status.h"
#include "services/code_vault/storage/redis_attempt_limiter.h"
#include "services/code_vault/storage/redis_redemption_guard.h"

namespace giftcard::code_vault {
namespace {

// Replies of several commands of one call, gathered until the last one is in.
struct Replies {
  explicit Replies(size_t n) : replies(n, absl::UnknownError("unanswered")), left(n) {}
  std::vector<absl::StatusOr<redis::Reply>> replies;
  size_t left;
};

}  // namespace

void LoopAdmission::Admit(const std::vector<LimitKey>& keys, const std::string& guard_key,
                          absl::Duration ttl, Callback<Admission> done) {
  // One check script per key, then the guard's SET: keys.size() + 1 replies.
  auto gathered = std::make_shared<Replies>(keys.size() + 1);
  std::string token = RedisRedemptionGuard::NewToken();
  auto finish = [this, keys, gathered, token,
                 done = std::make_shared<Callback<Admission>>(std::move(done))]() {
    std::vector<absl::StatusOr<redis::Reply>> checks(gathered->replies.begin(),
                                                     gathered->replies.end() - 1);
    // The error is built only when needed: value_or's argument would be
    // built (a status with its ErrorInfo payload) on every admission.
    std::optional<absl::Status> answer = RedisAttemptLimiter::CheckAnswer(checks);
    const absl::Status from_redis =
        answer ? *std::move(answer) : errors::DependencyUnavailable("redis", "script not loaded");
    Admission admission;
    admission.limits =
        limiter_.Route(from_redis, [this, &keys] { return limiter_.fallback().Check(keys); });
    admission.guard = RedisRedemptionGuard::GuardFromReply(gathered->replies.back(), token);
    std::move (*done)(std::move(admission));
  };
  auto on_reply = [gathered, finish](size_t i) {
    return [gathered, finish, i](absl::StatusOr<redis::Reply> reply) {
      gathered->replies[i] = std::move(reply);
      if (--gathered->left == 0) finish();
    };
  };
  for (size_t i = 0; i < keys.size(); ++i) {
    client_.Eval(RedisAttemptLimiter::CheckScript(), {RedisAttemptLimiter::CounterKey(keys[i].key)},
                 {absl::StrCat(keys[i].max_failures)}, on_reply(i));
  }
  client_.Command(RedisRedemptionGuard::SetCommand(guard_key, token, ttl), on_reply(keys.size()));
}

void LoopAdmission::Release(const std::string& key, const std::string& token) {
  // Best effort: an unreleased guard expires with its TTL.
  client_.Eval(RedisRedemptionGuard::ReleaseScript(), {key}, {token},
               [](absl::StatusOr<redis::Reply>) {});
}

void LoopAdmission::Charge(const std::vector<LimitKey>& keys, Callback<absl::Status> done) {
  auto gathered = std::make_shared<Replies>(keys.size());
  auto finish = [this, keys, gathered,
                 done = std::make_shared<Callback<absl::Status>>(std::move(done))]() {
    std::vector<LimitKey> charged;
    const absl::Status from_redis =
        RedisAttemptLimiter::ChargeAnswer(keys, gathered->replies, &charged);
    // Refused (or half-answered): nothing stays counted.
    if (!from_redis.ok()) {
      for (const LimitKey& k : charged) {
        client_.Eval(RedisAttemptLimiter::RefundScript(), {RedisAttemptLimiter::CounterKey(k.key)},
                     {}, [](absl::StatusOr<redis::Reply>) {});
      }
    }
    std::move (*done)(
        limiter_.Route(from_redis, [this, &keys] { return limiter_.fallback().Charge(keys); }));
  };
  const std::string window_ms = absl::StrCat(absl::ToInt64Milliseconds(window_));
  for (size_t i = 0; i < keys.size(); ++i) {
    client_.Eval(RedisAttemptLimiter::ChargeScript(),
                 {RedisAttemptLimiter::CounterKey(keys[i].key)},
                 {window_ms, absl::StrCat(keys[i].max_failures)},
                 [gathered, finish, i](absl::StatusOr<redis::Reply> reply) {
                   gathered->replies[i] = std::move(reply);
                   if (--gathered->left == 0) finish();
                 });
  }
  if (keys.empty()) finish();
}

void LoopAdmission::Refund(const std::vector<LimitKey>& keys) {
  for (const LimitKey& k : keys) {
    client_.Eval(RedisAttemptLimiter::RefundScript(), {RedisAttemptLimiter::CounterKey(k.key)}, {},
                 [this, k](absl::StatusOr<redis::Reply> reply) {
                   // Where Redis's state says now, as FallbackAttemptLimiter::Refund.
                   (void)limiter_.Route(reply.ok() ? absl::OkStatus()
                                                   : errors::DependencyUnavailable(
                                                         "redis", reply.status().message()),
                                        [this, &k] { return limiter_.fallback().Refund({k}); });
                 });
  }
}

}  // namespace giftcard::code_vault

#include "services/code_vault/storage/redis_redemption_guard.h"

#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "errors/status.h"
#include "services/code_vault/storage/redis_attempt_limiter.h"

namespace giftcard::code_vault {
namespace {

constexpr char kCompareAndDelete[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) "
    "else return 0 end";

std::string RandomToken() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) std::abort();
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

std::vector<std::string> SetCommand(const std::string& key, const std::string& token,
                                    absl::Duration ttl) {
  return {"SET", key, token, "NX", "PX", absl::StrCat(absl::ToInt64Milliseconds(ttl))};
}

// The guard from the SET's reply: "OK" when taken, nil when held.
absl::StatusOr<std::string> GuardFromReply(const absl::StatusOr<redis::Reply>& reply,
                                           std::string token) {
  if (!reply.ok()) {
    // Any Redis trouble means "no guard", never "no redemption".
    return errors::DependencyUnavailable("redis", reply.status().message());
  }
  if (reply->type != redis::Reply::Type::kStatus) {
    return errors::Error(absl::StatusCode::kAborted, errors::reason::kRedemptionInProgress,
                         "this code is being redeemed right now");
  }
  return token;
}

}  // namespace

absl::StatusOr<std::string> RedisRedemptionGuard::Acquire(const std::string& key,
                                                          absl::Duration ttl) {
  std::string token = RandomToken();
  return GuardFromReply(client_.Command(SetCommand(key, token, ttl)), std::move(token));
}

Admission RedisRedemptionGuard::Admit(AttemptLimiter& limiter, const std::vector<LimitKey>& keys,
                                      const std::string& key, absl::Duration ttl) {
  std::string token = RandomToken();
  std::vector<std::vector<std::string>> commands = RedisAttemptLimiter::CheckCommands(keys);
  commands.push_back(SetCommand(key, token, ttl));
  std::vector<absl::StatusOr<redis::Reply>> replies = client_.Pipeline(commands);
  Admission out;
  out.guard = GuardFromReply(replies.back(), std::move(token));
  replies.pop_back();
  std::optional<absl::Status> limits = RedisAttemptLimiter::CheckAnswer(replies);
  out.limits =
      limits && limits->code() != absl::StatusCode::kUnavailable ? *limits : limiter.Check(keys);
  return out;
}

void RedisRedemptionGuard::Release(const std::string& key, const std::string& token) {
  // Best effort: an unreleased guard expires with its TTL.
  (void)client_.Eval(kCompareAndDelete, {key}, {token});
}

}  // namespace giftcard::code_vault

#include "services/code_vault/storage/redis_redemption_guard.h"

#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "errors/status.h"

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

}  // namespace

absl::StatusOr<std::string> RedisRedemptionGuard::Acquire(const std::string& key,
                                                          absl::Duration ttl) {
  std::string token = RandomToken();
  absl::StatusOr<bool> set = client_.SetIfAbsent(key, token, ttl);
  if (!set.ok()) {
    // Any Redis trouble means "no guard", never "no redemption".
    return errors::DependencyUnavailable("redis", set.status().message());
  }
  if (!*set) {
    return errors::Error(absl::StatusCode::kAborted, errors::reason::kRedemptionInProgress,
                         "this code is being redeemed right now");
  }
  return token;
}

void RedisRedemptionGuard::Release(const std::string& key, const std::string& token) {
  // Best effort: an unreleased guard expires with its TTL.
  (void)client_.Eval(kCompareAndDelete, {key}, {token});
}

}  // namespace giftcard::code_vault

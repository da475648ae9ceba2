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

std::string RandomTokenHex() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) std::abort();
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

}  // namespace

std::string RedisRedemptionGuard::NewToken() { return RandomTokenHex(); }

std::vector<std::string> RedisRedemptionGuard::SetCommand(const std::string& key,
                                                          const std::string& token,
                                                          absl::Duration ttl) {
  return {"SET", key, token, "NX", "PX", absl::StrCat(absl::ToInt64Milliseconds(ttl))};
}

const redis::Script& RedisRedemptionGuard::ReleaseScript() {
  static const redis::Script* script = new redis::Script(kCompareAndDelete);
  return *script;
}

// The guard from the SET's reply: "OK" when taken, nil when held.
absl::StatusOr<std::string> RedisRedemptionGuard::GuardFromReply(
    const absl::StatusOr<redis::Reply>& reply, std::string token) {
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

RedisRedemptionGuard::RedisRedemptionGuard(redis::Client& client)
    : client_(client),
      admissions_([this](const std::vector<AdmitItem>& batch) { return AdmitBatch(batch); },
                  {.max_batch = 64, .max_in_flight = 2, .on_batch = nullptr}),
      releases_([this](const std::vector<ReleaseItem>& batch) { return ReleaseBatch(batch); },
                {.max_batch = 64, .max_in_flight = 1, .on_batch = nullptr}) {}

absl::StatusOr<std::string> RedisRedemptionGuard::Acquire(const std::string& key,
                                                          absl::Duration ttl) {
  std::string token = RandomTokenHex();
  return GuardFromReply(client_.Command(SetCommand(key, token, ttl)), std::move(token));
}

Admission RedisRedemptionGuard::Admit(AttemptLimiter& limiter, const std::vector<LimitKey>& keys,
                                      const std::string& key, absl::Duration ttl) {
  AdmitReply reply = admissions_.Run({keys, key, RandomTokenHex(), ttl});
  Admission out;
  out.guard = std::move(reply.guard);
  // Counts not read there (Redis down, the script not loaded yet): the
  // limiter answers, falling back in process when it must.
  out.limits = reply.limits && reply.limits->code() != absl::StatusCode::kUnavailable
                   ? *reply.limits
                   : limiter.Check(keys);
  return out;
}

std::vector<RedisRedemptionGuard::AdmitReply> RedisRedemptionGuard::AdmitBatch(
    const std::vector<AdmitItem>& batch) {
  std::vector<std::vector<std::string>> commands;
  std::vector<size_t> first;  // Each item's first command.
  for (const AdmitItem& item : batch) {
    first.push_back(commands.size());
    for (auto& c : RedisAttemptLimiter::CheckCommands(item.keys)) commands.push_back(std::move(c));
    commands.push_back(SetCommand(item.key, item.token, item.ttl));
  }
  std::vector<absl::StatusOr<redis::Reply>> replies = client_.Pipeline(commands);
  std::vector<AdmitReply> out;
  for (size_t i = 0; i < batch.size(); ++i) {
    const size_t set_at = first[i] + batch[i].keys.size();
    std::vector<absl::StatusOr<redis::Reply>> checks(replies.begin() + first[i],
                                                     replies.begin() + set_at);
    out.push_back({RedisAttemptLimiter::CheckAnswer(checks),
                   GuardFromReply(replies[set_at], batch[i].token)});
  }
  return out;
}

void RedisRedemptionGuard::Release(const std::string& key, const std::string& token) {
  // Best effort: an unreleased guard expires with its TTL.
  (void)releases_.Run({key, token});
}

std::vector<bool> RedisRedemptionGuard::ReleaseBatch(const std::vector<ReleaseItem>& batch) {
  std::vector<redis::Client::ScriptCall> calls;
  for (const ReleaseItem& item : batch) calls.push_back({{item.key}, {item.token}});
  std::vector<bool> out;
  for (const auto& reply : client_.EvalEach(kCompareAndDelete, calls)) out.push_back(reply.ok());
  return out;
}

}  // namespace giftcard::code_vault

#include "domain/vault_service.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "codes/codes.h"
#include "errors/macros.h"
#include "errors/status.h"
#include "log/log.h"
#include "validate/validate.h"

namespace giftcard::code_vault {
namespace {

constexpr size_t kMaxClientIpBytes = 64;

// The storefront must not learn whether an unsold, voided or expired card is
// real: all of them get this one answer.
absl::Status CodeInvalid() {
  return errors::Error(absl::StatusCode::kNotFound, errors::reason::kCodeInvalid,
                       "this code cannot be redeemed; check it or contact the shop that sold it");
}

// The guard's key: the code's hash under the active pepper, in a Redis
// Cluster hash tag so every key of one code lands on one shard.
std::string GuardKey(const codes::CodeHash& hash) {
  return absl::StrCat("giftcard:{", absl::BytesToHexString(hash.digest.substr(0, 16)),
                      "}:redeem-lock");
}

std::vector<std::string> DigestsOf(const std::vector<codes::CodeHash>& hashes) {
  std::vector<std::string> out;
  for (const auto& h : hashes) out.push_back(h.digest);
  return out;
}

}  // namespace

bool IsDefiniteRefusal(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return true;
    default:
      return false;
  }
}

VaultService::VaultService(CodeStore& store, RedemptionGuard& guard, CreditGateway& credit,
                           const codes::CodeHasher& hasher, Options options)
    : store_(store),
      guard_(guard),
      credit_(credit),
      hasher_(hasher),
      options_(std::move(options)) {}

absl::StatusOr<IssuedBatch> VaultService::IssueCodes(const IssueCommand& command) {
  if (command.count < 1 || command.count > kMaxCodesPerBatch) {
    return errors::InvalidField("count", absl::StrCat("must be 1 to ", kMaxCodesPerBatch));
  }
  GIFTCARD_RETURN_IF_ERROR(money::ValidatePositive("amount", command.amount));
  GIFTCARD_RETURN_IF_ERROR(validate::Country("region", command.region));
  GIFTCARD_RETURN_IF_ERROR(validate::Id("request_id", command.request_id));
  if (command.expire_time && *command.expire_time <= options_.now()) {
    return errors::InvalidField("expire_time", "must be in the future");
  }

  BatchSpec spec;
  spec.count = command.count;
  spec.amount = command.amount;
  spec.region = command.region;
  spec.request_id = command.request_id;
  spec.expire_time = command.expire_time;
  spec.request_fingerprint = absl::StrCat(
      command.count, "|", command.amount.currency_code, "|", command.amount.amount_minor, "|",
      command.region, "|",
      command.expire_time ? absl::StrCat(absl::ToUnixMicros(*command.expire_time)) : "");

  std::vector<std::string> pins;
  std::vector<NewCode> new_codes;
  pins.reserve(command.count);
  new_codes.reserve(command.count);
  for (int i = 0; i < command.count; ++i) {
    pins.push_back(codes::GeneratePin());
    const codes::CodeHash hash = hasher_.Hash(pins.back());
    new_codes.push_back({hash.digest, hash.key_id, codes::LastFour(pins.back())});
  }
  GIFTCARD_ASSIGN_OR_RETURN(Batch batch, store_.CreateBatch(spec, new_codes));

  IssuedBatch out;
  out.batch_id = batch.batch_id;
  out.replayed = batch.replayed;
  out.codes.reserve(batch.serials.size());
  for (size_t i = 0; i < batch.serials.size(); ++i) {
    // A replay never shows PINs again: the ones generated now were not stored.
    out.codes.push_back({batch.serials[i], batch.replayed ? "" : codes::Format(pins[i])});
  }
  return out;
}

absl::StatusOr<int64_t> VaultService::ActivateCodes(const std::string& batch_id,
                                                    const std::vector<std::string>& serials,
                                                    const std::string& request_id) {
  if (batch_id.empty() == serials.empty()) {
    return errors::InvalidField("batch_id", "give exactly one of batch_id or serials");
  }
  if (!batch_id.empty()) GIFTCARD_RETURN_IF_ERROR(validate::Id("batch_id", batch_id));
  if (serials.size() > 10000) return errors::InvalidField("serials", "at most 10000 per call");
  for (const auto& s : serials) GIFTCARD_RETURN_IF_ERROR(validate::Id("serials", s));
  GIFTCARD_RETURN_IF_ERROR(validate::Id("request_id", request_id));
  return store_.ActivateCodes(batch_id, serials);
}

absl::StatusOr<Code> VaultService::GetCodeStatus(const CodeKey& key) {
  if (key.serial.empty() == key.code.empty()) {
    return errors::InvalidField("key", "give exactly one of serial or code");
  }
  absl::StatusOr<Code> code;
  if (!key.serial.empty()) {
    GIFTCARD_RETURN_IF_ERROR(validate::Id("serial", key.serial));
    code = store_.GetCodeBySerial(key.serial);
  } else {
    GIFTCARD_ASSIGN_OR_RETURN(std::string normalized, codes::Normalize(key.code));
    code = store_.GetCodeByHashes(DigestsOf(hasher_.AllHashes(normalized)));
  }
  if (!code.ok()) return code.status();
  code->state = EffectiveState(*code, options_.now());
  return code;
}

absl::StatusOr<Redemption> VaultService::Redeem(const RedeemCommand& command) {
  GIFTCARD_RETURN_IF_ERROR(validate::Id("account_id", command.account_id));
  GIFTCARD_RETURN_IF_ERROR(validate::Id("request_id", command.request_id));
  GIFTCARD_RETURN_IF_ERROR(validate::Text("client_ip", command.client_ip, kMaxClientIpBytes));
  // Malformed and mistyped codes are answered here, before any storage.
  GIFTCARD_ASSIGN_OR_RETURN(std::string normalized, codes::Normalize(command.code));
  const std::vector<codes::CodeHash> hashes = hasher_.AllHashes(normalized);

  const std::string guard_key = GuardKey(hashes.front());
  absl::StatusOr<std::string> token = guard_.Acquire(guard_key, options_.guard_ttl);
  if (!token.ok()) {
    if (token.status().code() != absl::StatusCode::kUnavailable) return token.status();
    // Redis is only a guard: Postgres's conditional update still decides.
    guard_bypasses_.fetch_add(1);
    log::Warning("redemption_guard_bypassed", {{"reason", "redis unavailable"}});
  }
  struct ReleaseOnExit {
    RedemptionGuard& guard;
    const std::string& key;
    const absl::StatusOr<std::string>& token;
    ~ReleaseOnExit() {
      if (token.ok()) guard.Release(key, *token);
    }
  } release{guard_, guard_key, token};

  GIFTCARD_ASSIGN_OR_RETURN(
      Reservation reservation,
      store_.Reserve({DigestsOf(hashes), command.account_id, command.request_id}));
  switch (reservation.kind) {
    case Reservation::Kind::kRefused: {
      if (!reservation.code) return CodeInvalid();
      switch (EffectiveState(*reservation.code, options_.now())) {
        case CodeState::kRedeemed:
          return errors::Error(absl::StatusCode::kFailedPrecondition,
                               errors::reason::kCodeAlreadyRedeemed,
                               "this code has already been redeemed");
        case CodeState::kRedeeming:
          return errors::Error(absl::StatusCode::kAborted, errors::reason::kRedemptionInProgress,
                               "this code is being redeemed right now");
        default:
          return CodeInvalid();
      }
    }
    case Reservation::Kind::kReplay: {
      const Redemption& first = reservation.redemption;
      bool same_code = false;
      for (const auto& h : hashes) same_code |= (h.digest == first.code_hash);
      if (!same_code) {
        return errors::Error(absl::StatusCode::kInvalidArgument, errors::reason::kRequestIdReused,
                             "request_id was already used with a different code",
                             {{"request_id", command.request_id}});
      }
      if (first.state == RedemptionState::kCompleted) return first;
      if (first.state == RedemptionState::kRejected) return first.rejection;
      return FinishCredit(first);  // Still PENDING: drive it to an outcome.
    }
    case Reservation::Kind::kReserved:
      return FinishCredit(reservation.redemption);
  }
  return absl::InternalError("unreachable");
}

absl::StatusOr<Redemption> VaultService::FinishCredit(const Redemption& pending) {
  absl::StatusOr<CreditResult> credit = credit_.Credit(
      pending.account_id, pending.amount, pending.region, pending.redemption_id, pending.serial);
  if (credit.ok()) {
    absl::StatusOr<Redemption> done =
        store_.Complete(pending, credit->transfer_id, credit->balance_after_minor);
    if (done.ok()) return done;
    // The credit is durable; only our bookkeeping failed. A retry with the
    // same request_id completes it (the credit call is idempotent).
    log::Warning("redemption_complete_failed",
                 {{"redemption_id", pending.redemption_id}, {"status", done.status().ToString()}});
    return errors::Error(absl::StatusCode::kUnavailable, errors::reason::kDependencyUnavailable,
                         "the redemption is being finished; retry with the same request_id",
                         {{"redemption_id", pending.redemption_id}});
  }
  if (IsDefiniteRefusal(credit.status())) {
    absl::StatusOr<Redemption> rejected = store_.Reject(pending, credit.status());
    if (!rejected.ok()) {
      log::Warning("redemption_reject_failed", {{"redemption_id", pending.redemption_id},
                                                {"status", rejected.status().ToString()}});
    }
    return credit.status();
  }
  log::Warning("redemption_outcome_unknown",
               {{"redemption_id", pending.redemption_id}, {"status", credit.status().ToString()}});
  return errors::Error(absl::StatusCode::kUnavailable, errors::reason::kDependencyUnavailable,
                       "the credit could not be confirmed yet; retry with the same request_id",
                       {{"redemption_id", pending.redemption_id}});
}

}  // namespace giftcard::code_vault

// VaultService's issuance and the admin's bulk changes: issue, activate,
// void, block, unblock.
#include <algorithm>
#include <memory>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "codes/codes.h"
#include "errors/macros.h"
#include "errors/status.h"
#include "services/code_vault/domain/vault_service.h"
#include "validate/validate.h"

namespace giftcard::code_vault {
namespace {

constexpr size_t kMaxSerialsPerCall = 10000;

// Postgres stores timestamps to the year 294276; far-off expiries are a
// mistake, not a plan.
constexpr absl::Duration kMaxExpiry = absl::Hours(24 * 366 * 100);

absl::Status ValidateSelection(const std::string& batch_id,
                               const std::vector<std::string>& serials) {
  if (batch_id.empty() == serials.empty()) {
    return errors::InvalidField("batch_id", "give exactly one of batch_id or serials");
  }
  if (!batch_id.empty()) return validate::Id("batch_id", batch_id);
  if (serials.size() > kMaxSerialsPerCall) {
    return errors::InvalidField("serials",
                                absl::StrCat("at most ", kMaxSerialsPerCall, " per call"));
  }
  for (const auto& s : serials) GIFTCARD_RETURN_IF_ERROR(validate::Serial("serials", s));
  return absl::OkStatus();
}

}  // namespace

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
  if (command.expire_time && *command.expire_time > options_.now() + kMaxExpiry) {
    return errors::InvalidField("expire_time", "must be within 100 years");
  }

  BatchSpec spec;
  spec.principal = command.principal;
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

absl::StatusOr<BulkResult> VaultService::ActivateCodes(const std::string& batch_id,
                                                       const std::vector<std::string>& serials,
                                                       const std::string& request_id,
                                                       const std::string& principal) {
  BulkChange change;
  change.kind = BulkChange::Kind::kActivate;
  change.batch_id = batch_id;
  change.serials = serials;
  change.request_id = request_id;
  change.principal = principal;
  return ApplyBulkChange(std::move(change));
}

absl::StatusOr<BulkResult> VaultService::VoidCodes(const VoidCommand& command) {
  return ReasonedBulkChange(BulkKind::kVoid, command);
}

absl::StatusOr<BulkResult> VaultService::BlockCodes(const VoidCommand& command) {
  return ReasonedBulkChange(BulkKind::kBlock, command);
}

absl::StatusOr<BulkResult> VaultService::UnblockCodes(const VoidCommand& command) {
  return ReasonedBulkChange(BulkKind::kUnblock, command);
}

absl::StatusOr<BulkResult> VaultService::ReasonedBulkChange(BulkKind kind,
                                                            const VoidCommand& command) {
  GIFTCARD_RETURN_IF_ERROR(validate::Text("reason", command.reason, 512));
  if (command.reason.empty()) return errors::InvalidField("reason", "is required");
  BulkChange change;
  change.kind = kind;
  change.batch_id = command.batch_id;
  change.serials = command.serials;
  change.reason = command.reason;
  change.request_id = command.request_id;
  change.principal = command.principal;
  return ApplyBulkChange(std::move(change));
}

absl::StatusOr<BulkResult> VaultService::ApplyBulkChange(BulkChange change) {
  GIFTCARD_RETURN_IF_ERROR(ValidateSelection(change.batch_id, change.serials));
  GIFTCARD_RETURN_IF_ERROR(validate::Id("request_id", change.request_id));
  std::vector<std::string> sorted = change.serials;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  change.serials = sorted;
  // The kind's name in the fingerprint: one request id is one change.
  change.request_fingerprint = codes::Sha256Hex(
      absl::StrCat(absl::AsciiStrToLower(BulkKindName(change.kind)), "|", change.batch_id, "|",
                   absl::StrJoin(sorted, ","), "|", change.reason));
  return store_.ApplyBulkChange(change);
}

}  // namespace giftcard::code_vault

#include "services/code_vault/domain/vault_service.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "codes/codes.h"
#include "errors/macros.h"
#include "errors/status.h"
#include "log/log.h"
#include "validate/validate.h"

namespace giftcard::code_vault {
namespace {

constexpr size_t kMaxSerialsPerCall = 10000;
constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

// Postgres stores timestamps to the year 294276; far-off expiries are a
// mistake, not a plan.
constexpr absl::Duration kMaxExpiry = absl::Hours(24 * 366 * 100);

// A PENDING redemption as its completion writes it, for an answer that
// does not wait for that write.
Redemption Completed(Redemption pending, const CreditResult& credit) {
  pending.state = RedemptionState::kCompleted;
  pending.transfer_id = credit.transfer_id;
  pending.balance_after_minor = credit.balance_after_minor;
  return pending;
}

// Whether a code in `state` can be answered as anything but CODE_INVALID:
// the storefront must not tell unsold, voided, blocked or expired codes
// from codes that do not exist.
bool IsKnownToTheStorefront(CodeState state) {
  return state == CodeState::kActive || state == CodeState::kRedeeming ||
         state == CodeState::kRedeemed;
}

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

// Page tokens are opaque to callers: base64 of the query they continue and
// where the last page ended.
std::string EncodePageToken(const ListCodesQuery& q, const std::string& last_serial) {
  return absl::WebSafeBase64Escape(absl::StrCat(
      "v1\x1f", q.batch_id, "\x1f", q.state ? CodeStateName(*q.state) : "", "\x1f", last_serial));
}

// Fills the query's empty batch_id and state from its token and returns the
// serial to continue after; a token from another query is refused.
absl::StatusOr<std::string> ResolvePageToken(ListCodesQuery& q) {
  if (q.page_token.empty()) return std::string();
  std::string raw;
  if (q.page_token.size() > 512 || !absl::WebSafeBase64Unescape(q.page_token, &raw)) {
    return errors::InvalidField("page_token", "is not a token this API returned");
  }
  std::vector<std::string> parts = absl::StrSplit(raw, '\x1f');
  if (parts.size() != 4 || parts[0] != "v1" || !validate::Id("page_token", parts[3]).ok()) {
    return errors::InvalidField("page_token", "is not a token this API returned");
  }
  const std::optional<CodeState> token_state =
      parts[2].empty() ? std::nullopt : CodeStateFromName(parts[2]);
  if (!parts[2].empty() && !token_state) {
    return errors::InvalidField("page_token", "is not a token this API returned");
  }
  if ((!q.batch_id.empty() && q.batch_id != parts[1]) || (q.state && q.state != token_state)) {
    return errors::InvalidField("page_token", "belongs to another query or was altered");
  }
  q.batch_id = parts[1];
  q.state = token_state;
  return parts[3];
}

absl::Status ValidatePageSize(int page_size) {
  if (page_size < 0 || page_size > kMaxPageSize) {
    return errors::InvalidField("page_size", absl::StrCat("must be 0 to ", kMaxPageSize));
  }
  return absl::OkStatus();
}

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

VaultService::VaultService(CodeStore& store, RedemptionGuard& guard, CreditGateway& credit,
                           AttemptLimiter& limiter, const codes::CodeHasher& hasher,
                           Options options)
    : store_(store),
      guard_(guard),
      credit_(credit),
      limiter_(limiter),
      hasher_(hasher),
      options_(std::move(options)),
      sync_admission_(guard, limiter),
      sync_store_(store),
      sync_credit_(credit) {}

std::vector<LimitKey> VaultService::LimitKeys(const std::string& account_id,
                                              const std::string& client_key) const {
  std::vector<LimitKey> keys;
  if (!account_id.empty()) {
    keys.push_back({"acct:" + account_id, options_.max_failures_per_account});
  }
  keys.push_back({"ip:" + client_key, options_.max_failures_per_client});
  return keys;
}

// Refunds a charged attempt on the way out unless it was marked a failure.
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

absl::StatusOr<Clawback> VaultService::ReverseRedemption(const ReverseRedemptionCommand& command) {
  if (command.serial.empty() == command.redemption_id.empty()) {
    return errors::InvalidField("serial", "give exactly one of serial or redemption_id");
  }
  if (!command.serial.empty()) {
    GIFTCARD_RETURN_IF_ERROR(validate::Serial("serial", command.serial));
  } else if (!validate::IsUuid(command.redemption_id)) {
    return errors::InvalidField("redemption_id", "must be a redemption id (a UUID)");
  }
  GIFTCARD_RETURN_IF_ERROR(validate::Text("reason", command.reason, 512));
  if (command.reason.empty()) return errors::InvalidField("reason", "is required");
  GIFTCARD_RETURN_IF_ERROR(validate::Id("request_id", command.request_id));
  if (command.then_state != CodeState::kBlocked && command.then_state != CodeState::kVoided) {
    return errors::InvalidField("then_state", "must be CODE_STATE_BLOCKED or CODE_STATE_VOIDED");
  }
  ClawbackRequest request;
  request.serial = command.serial;
  request.redemption_id = command.redemption_id;
  request.then_state = *command.then_state;
  request.reason = command.reason;
  request.principal = command.principal;
  request.request_id = command.request_id;
  // Who asked is not part of the request: a replay by another admin is
  // still the same clawback.
  request.request_fingerprint =
      codes::Sha256Hex(absl::StrCat("clawback|", command.serial, "|", command.redemption_id, "|",
                                    CodeStateName(*command.then_state), "|", command.reason));
  GIFTCARD_ASSIGN_OR_RETURN(Clawback clawback, store_.StartClawback(request));
  switch (clawback.state) {
    case ClawbackState::kCompleted:
      return clawback;
    case ClawbackState::kRejected:
      return clawback.rejection;
    case ClawbackState::kPending:
      break;
  }
  return FinishClawback(clawback);
}

absl::StatusOr<ListCodesResult> VaultService::ListCodes(const ListCodesQuery& request) {
  ListCodesQuery query = request;
  GIFTCARD_RETURN_IF_ERROR(ValidatePageSize(query.page_size));
  GIFTCARD_ASSIGN_OR_RETURN(std::string after, ResolvePageToken(query));
  if (!query.batch_id.empty()) GIFTCARD_RETURN_IF_ERROR(validate::Id("batch_id", query.batch_id));
  const int limit = query.page_size == 0 ? kDefaultPageSize : query.page_size;
  GIFTCARD_ASSIGN_OR_RETURN(CodePage page,
                            store_.ListCodes(query.batch_id, query.state, after, limit));
  ListCodesResult out;
  const absl::Time now = options_.now();
  for (Code& c : page.codes) {
    c.state = EffectiveState(c, now);
    out.codes.push_back(std::move(c));
  }
  if (page.more && !out.codes.empty()) {
    out.next_page_token = EncodePageToken(query, out.codes.back().serial);
  }
  return out;
}

absl::StatusOr<ListBatchesResult> VaultService::ListBatches(int page_size,
                                                            const std::string& page_token) {
  GIFTCARD_RETURN_IF_ERROR(ValidatePageSize(page_size));
  int64_t before = 0;
  if (!page_token.empty()) {
    const absl::Status not_ours =
        errors::InvalidField("page_token", "is not a token this API returned");
    std::string raw;
    if (page_token.size() > 64 || !absl::WebSafeBase64Unescape(page_token, &raw)) return not_ours;
    absl::string_view number = raw;
    if (!absl::ConsumePrefix(&number, "b1\x1f") || !absl::SimpleAtoi(number, &before) ||
        before <= 0) {
      return not_ours;
    }
  }
  const int limit = page_size == 0 ? kDefaultPageSize : page_size;
  GIFTCARD_ASSIGN_OR_RETURN(BatchPage page, store_.ListBatches(before, limit));
  ListBatchesResult out;
  out.batches = std::move(page.batches);
  if (page.more && !out.batches.empty()) {
    out.next_page_token =
        absl::WebSafeBase64Escape(absl::StrCat("b1\x1f", out.batches.back().batch_no));
  }
  return out;
}

absl::StatusOr<CodeCheck> VaultService::CheckCode(const std::string& code,
                                                  const std::string& client_ip) {
  std::optional<absl::StatusOr<CodeCheck>> answer;
  StartCheckCode(SyncPorts(), code, client_ip,
                 [&answer](absl::StatusOr<CodeCheck> c) { answer = std::move(c); });
  if (!answer) return absl::InternalError("the blocking ports left a check unanswered");
  return *std::move(answer);
}

void VaultService::StartCheckCode(RedeemPorts ports, const std::string& code,
                                  const std::string& client_ip,
                                  Callback<absl::StatusOr<CodeCheck>> done) {
  // Without an account, the client address is the only key guessing can be
  // counted under, so it is required here.
  absl::StatusOr<std::string> client_key = validate::ClientAddressKey("client_ip", client_ip);
  if (!client_key.ok()) return std::move(done)(client_key.status());
  absl::StatusOr<std::string> normalized = codes::Normalize(code);
  if (!normalized.ok()) return std::move(done)(normalized.status());
  // Charged first, so parallel guesses cannot pass the limit; refunded
  // unless it was a guess (a code the storefront may not know).
  std::vector<LimitKey> keys = LimitKeys("", *client_key);
  ReserveRequest lookup{DigestsOf(hasher_.AllHashes(*normalized)), "", ""};
  ports.admission.Charge(keys, [this, ports, keys, lookup = std::move(lookup),
                                done = std::move(done)](absl::Status charged) mutable {
    if (!charged.ok()) return std::move(done)(charged);
    ports.store.Lookup(lookup, [this, ports, keys,
                                done = std::move(done)](absl::StatusOr<CodeLookup> found) mutable {
      if (!found.ok()) {
        ports.admission.Refund(keys);
        return std::move(done)(found.status());
      }
      const CodeState state =
          found->code ? EffectiveState(*found->code, options_.now()) : CodeState::kVoided;
      if (!IsKnownToTheStorefront(state)) return std::move(done)(CodeInvalid());
      ports.admission.Refund(keys);
      std::move(done)(
          CodeCheck{found->code->amount, found->code->region, state == CodeState::kActive});
    });
  });
}

namespace {

// A GetCodeStatus key, checked: the serial, or the PIN's normalized form.
struct CheckedCodeKey {
  std::string serial;
  std::string normalized_code;
};
absl::StatusOr<CheckedCodeKey> CheckCodeKey(const CodeKey& key) {
  if (key.serial.empty() == key.code.empty()) {
    return errors::InvalidField("key", "give exactly one of serial or code");
  }
  if (!key.serial.empty()) {
    GIFTCARD_RETURN_IF_ERROR(validate::Serial("serial", key.serial));
    return CheckedCodeKey{key.serial, ""};
  }
  GIFTCARD_ASSIGN_OR_RETURN(std::string normalized, codes::Normalize(key.code));
  return CheckedCodeKey{"", std::move(normalized)};
}

}  // namespace

absl::StatusOr<Code> VaultService::GetCodeStatus(const CodeKey& key) {
  GIFTCARD_ASSIGN_OR_RETURN(CheckedCodeKey checked, CheckCodeKey(key));
  absl::StatusOr<Code> code =
      checked.serial.empty()
          ? store_.GetCodeByHashes(DigestsOf(hasher_.AllHashes(checked.normalized_code)))
          : store_.GetCodeBySerial(checked.serial);
  if (!code.ok()) return code.status();
  code->state = EffectiveState(*code, options_.now());
  GIFTCARD_ASSIGN_OR_RETURN(code->last_change, store_.LastCodeChange(code->serial));
  return code;
}

void VaultService::StartGetCodeStatus(AsyncCodeReads& reads, const CodeKey& key,
                                      Callback<absl::StatusOr<Code>> done) {
  absl::StatusOr<CheckedCodeKey> checked = CheckCodeKey(key);
  if (!checked.ok()) return std::move(done)(checked.status());
  auto answer = [this, done = std::move(done)](absl::StatusOr<Code> code) mutable {
    if (code.ok()) code->state = EffectiveState(*code, options_.now());
    std::move(done)(std::move(code));
  };
  if (checked->serial.empty()) {
    reads.StatusByHashes(DigestsOf(hasher_.AllHashes(checked->normalized_code)), std::move(answer));
  } else {
    reads.StatusBySerial(checked->serial, std::move(answer));
  }
}

absl::StatusOr<ListCodeChangesResult> VaultService::ListCodeChanges(
    const ListCodeChangesQuery& query) {
  GIFTCARD_RETURN_IF_ERROR(validate::Serial("serial", query.serial));
  if (query.page_size < 0 || query.page_size > kMaxPageSize) {
    return errors::InvalidField("page_size", absl::StrCat("must be 0 to ", kMaxPageSize));
  }
  // Page tokens: base64 of the serial and the last change id returned.
  int64_t after = 0;
  if (!query.page_token.empty()) {
    std::string raw;
    std::vector<std::string> parts;
    if (query.page_token.size() <= 512 && absl::WebSafeBase64Unescape(query.page_token, &raw)) {
      parts = absl::StrSplit(raw, '|');
    }
    if (parts.size() != 3 || parts[0] != "v1" || parts[1] != query.serial ||
        !absl::SimpleAtoi(parts[2], &after) || after <= 0) {
      return errors::InvalidField("page_token", "is not a token this API returned for this serial");
    }
  }
  const int limit = query.page_size == 0 ? kDefaultPageSize : query.page_size;
  GIFTCARD_ASSIGN_OR_RETURN(CodeChangePage page,
                            store_.ListCodeChanges(query.serial, after, limit));
  ListCodeChangesResult out;
  out.changes = std::move(page.changes);
  if (page.more && !out.changes.empty()) {
    out.next_page_token = absl::WebSafeBase64Escape(
        absl::StrCat("v1|", query.serial, "|", out.changes.back().change_id));
  }
  return out;
}

// One redemption on its way through the saga: each step asks the ports and
// goes on in their callback, so on the engine nothing waits on I/O. The
// guard taken on admission is released when the answer goes out, unless it
// is left to expire (a code that does not exist).
class VaultService::RedeemCall : public std::enable_shared_from_this<RedeemCall> {
 public:
  RedeemCall(VaultService& service, RedeemPorts ports, RedeemCommand command, RedeemDone done)
      : service_(service), ports_(ports), command_(std::move(command)), done_(std::move(done)) {}

  void Start() {
    absl::Status valid = Validate();
    if (!valid.ok()) return Answer(valid);
    // One round trip to Redis checks the caller's limits and takes the
    // code's guard; one statement then reserves the code, or finds the
    // caller's own earlier attempt (a replay), or sees why not. A caller
    // over a limit, or a code another call holds, still gets its own
    // earlier attempt's outcome (a replay is answered before either). A
    // real code's attempt only has the limits checked, never counted; a
    // guess (a code the storefront may not know — unknown, unsold, voided,
    // blocked, expired) is counted after the reservation saw it,
    // atomically, so parallel guesses cannot pass the limit.
    limit_keys_ = service_.LimitKeys(command_.account_id, client_key_);
    guard_key_ = GuardKey(hashes_.front());
    request_ = {DigestsOf(hashes_), command_.account_id, command_.request_id, command_.principal};
    ports_.admission.Admit(
        limit_keys_, guard_key_, service_.options_.guard_ttl,
        [self = shared_from_this()](Admission a) { self->Admitted(std::move(a)); });
  }

 private:
  absl::Status Validate() {
    GIFTCARD_RETURN_IF_ERROR(validate::Id("account_id", command_.account_id));
    GIFTCARD_RETURN_IF_ERROR(validate::Id("request_id", command_.request_id));
    GIFTCARD_ASSIGN_OR_RETURN(client_key_,
                              validate::ClientAddressKey("client_ip", command_.client_ip));
    // Malformed and mistyped codes are answered here, before any storage.
    GIFTCARD_ASSIGN_OR_RETURN(std::string normalized, codes::Normalize(command_.code));
    hashes_ = service_.hasher_.AllHashes(normalized);
    return absl::OkStatus();
  }

  void Admitted(Admission admission) {
    guard_ = std::move(admission.guard);
    limits_ = std::move(admission.limits);
    const bool guard_held_elsewhere =
        !guard_.ok() && guard_.status().code() != absl::StatusCode::kUnavailable;
    if (!limits_.ok() || guard_held_elsewhere) {
      ports_.store.Lookup(request_, [self = shared_from_this()](absl::StatusOr<CodeLookup> lookup) {
        self->LookedUp(std::move(lookup));
      });
      return;
    }
    if (!guard_.ok()) {
      // Redis is only a guard: Postgres's conditional update still decides.
      service_.guard_bypasses_.fetch_add(1);
      log::Warning("redemption_guard_bypassed", {{"reason", "redis unavailable"}});
    }
    ports_.store.Reserve(request_, [self = shared_from_this()](absl::StatusOr<Reservation> r) {
      self->Reserved(std::move(r));
    });
  }

  // Over a limit, or the code held by another call.
  void LookedUp(absl::StatusOr<CodeLookup> lookup) {
    if (!lookup.ok()) return Answer(lookup.status());
    if (lookup->first) return Replay(*lookup->first);
    if (!limits_.ok()) return Answer(limits_);
    // Held by another call: "in progress" only for a code the storefront
    // may know, or parallel calls would tell an unsold code from an unknown one.
    if (!lookup->code ||
        !IsKnownToTheStorefront(EffectiveState(*lookup->code, service_.options_.now()))) {
      return ChargeAndRefuse();
    }
    Answer(guard_.status());
  }

  void Reserved(absl::StatusOr<Reservation> reservation) {
    if (!reservation.ok()) return Answer(reservation.status());
    switch (reservation->kind) {
      case Reservation::Kind::kRefused: {
        // Decided by the state the reserving statement itself saw.
        const CodeState seen = reservation->code
                                   ? EffectiveState(*reservation->code, service_.options_.now())
                                   : CodeState::kVoided;
        if (!IsKnownToTheStorefront(seen)) {
          // No such code at all: its guard guards nothing any call could
          // redeem, so it expires by itself and a guess costs no round trip
          // to give it back.
          keep_guard_ = !reservation->code.has_value();
          return ChargeAndRefuse();
        }
        if (seen == CodeState::kRedeemed) {
          return Answer(errors::Error(absl::StatusCode::kFailedPrecondition,
                                      errors::reason::kCodeAlreadyRedeemed,
                                      "this code has already been redeemed"));
        }
        // ACTIVE: a concurrent call reserved it first; REDEEMING: another
        // redemption is in flight.
        return Answer(errors::Error(absl::StatusCode::kAborted,
                                    errors::reason::kRedemptionInProgress,
                                    "this code is being redeemed right now"));
      }
      case Reservation::Kind::kReplay:
        // The caller's earlier call with this request id, or a concurrent one.
        return Replay(reservation->redemption);
      case Reservation::Kind::kReserved:
        return FinishCredit(reservation->redemption);
    }
    Answer(absl::InternalError("unreachable"));
  }

  // A guess: counted against the caller's limits, then answered as unknown.
  void ChargeAndRefuse() {
    ports_.admission.Charge(limit_keys_, [self = shared_from_this()](absl::Status charged) {
      self->Answer(charged.ok() ? CodeInvalid() : charged);
    });
  }

  void Replay(const Redemption& first) {
    bool same_code = false;
    for (const auto& h : hashes_) same_code |= (h.digest == first.code_hash);
    if (!same_code) {
      return Answer(errors::Error(absl::StatusCode::kInvalidArgument,
                                  errors::reason::kRequestIdReused,
                                  "request_id was already used with a different code",
                                  {{"request_id", command_.request_id}}));
    }
    if (first.state == RedemptionState::kCompleted) return Answer(first);
    if (first.state == RedemptionState::kRejected) return Answer(first.rejection);
    FinishCredit(first);  // Still PENDING: drive it to an outcome.
  }

  void FinishCredit(Redemption pending) {
    pending.traceparent = command_.traceparent;
    service_.FinishCreditAsync(
        ports_, pending, service_.options_.answer_before_completion,
        [self = shared_from_this()](absl::StatusOr<Redemption> r) { self->Answer(std::move(r)); });
  }

  void Answer(absl::StatusOr<Redemption> answer) {
    if (guard_.ok() && !keep_guard_) ports_.admission.Release(guard_key_, *guard_);
    std::move(done_)(std::move(answer));
  }

  VaultService& service_;
  const RedeemPorts ports_;
  const RedeemCommand command_;
  RedeemDone done_;
  std::string client_key_;
  std::vector<codes::CodeHash> hashes_;
  std::vector<LimitKey> limit_keys_;
  std::string guard_key_;
  ReserveRequest request_;
  absl::Status limits_;
  absl::StatusOr<std::string> guard_ = absl::UnavailableError("not taken");
  bool keep_guard_ = false;  // Left to expire with its TTL.
};

void VaultService::StartRedeem(RedeemPorts ports, RedeemCommand command, RedeemDone done) {
  std::make_shared<RedeemCall>(*this, ports, std::move(command), std::move(done))->Start();
}

absl::StatusOr<Redemption> VaultService::Redeem(const RedeemCommand& command) {
  std::optional<absl::StatusOr<Redemption>> answer;
  StartRedeem(SyncPorts(), command, [&answer](absl::StatusOr<Redemption> r) { answer = r; });
  if (!answer) return absl::InternalError("the blocking ports left a redemption unanswered");
  return *std::move(answer);
}

int VaultService::RecoverPending(absl::Duration min_age, int limit) {
  // Claimed rows are this worker's until their next attempt time (a lease
  // that grows with each attempt), so replicas split the work and a row that
  // keeps failing waits its turn behind the others.
  absl::StatusOr<std::vector<Redemption>> claimed = store_.ClaimPending(min_age, limit);
  if (!claimed.ok()) {
    log::Warning("recovery_scan_failed", {{"status", errors::Describe(claimed.status())}});
    return 0;
  }
  int finished = 0;
  for (const Redemption& r : *claimed) {
    absl::StatusOr<Redemption> outcome = FinishCredit(r);
    const bool settled = outcome.ok() || errors::IsRecordedDecision(outcome.status());
    if (settled) {
      log::Info("recovery_settled", {{"redemption_id", r.redemption_id},
                                     {"attempts", r.attempts},
                                     {"outcome", outcome.ok() ? "COMPLETED" : "REJECTED"}});
    }
    finished += settled ? 1 : 0;
  }
  absl::StatusOr<std::vector<Clawback>> clawbacks = store_.ClaimPendingClawbacks(min_age, limit);
  if (!clawbacks.ok()) {
    log::Warning("recovery_scan_failed", {{"status", errors::Describe(clawbacks.status())}});
    return finished;
  }
  for (const Clawback& c : *clawbacks) {
    absl::StatusOr<Clawback> outcome = FinishClawback(c);
    const bool settled = outcome.ok() || errors::IsRecordedDecision(outcome.status());
    if (settled) {
      log::Info("recovery_settled", {{"clawback_id", c.clawback_id},
                                     {"attempts", c.attempts},
                                     {"outcome", outcome.ok() ? "COMPLETED" : "REJECTED"}});
    }
    finished += settled ? 1 : 0;
  }
  return finished;
}

absl::StatusOr<Clawback> VaultService::FinishClawback(const Clawback& pending) {
  absl::StatusOr<ClawbackOutcome> reversal =
      credit_.ClawBack(pending.credit_transfer_id, ClawbackLedgerRequestId(pending.clawback_id));
  if (reversal.ok()) {
    absl::StatusOr<Clawback> done = store_.CompleteClawback(
        pending, reversal->transfer_id, reversal->clawed_back_minor, reversal->balance_after_minor);
    if (done.ok()) return done;
    log::Warning("clawback_complete_failed", {{"clawback_id", pending.clawback_id},
                                              {"status", errors::Describe(done.status())}});
    return errors::Error(absl::StatusCode::kUnavailable, errors::reason::kDependencyUnavailable,
                         "the clawback is being finished; retry with the same request_id",
                         {{"clawback_id", pending.clawback_id}});
  }
  // As for a credit: only the ledger's recorded answer ends it as refused.
  if (errors::IsRecordedDecision(reversal.status())) {
    absl::StatusOr<Clawback> rejected = store_.RejectClawback(pending, reversal.status());
    if (!rejected.ok()) {
      log::Warning("clawback_reject_failed", {{"clawback_id", pending.clawback_id},
                                              {"status", errors::Describe(rejected.status())}});
    }
    return reversal.status();
  }
  unknown_outcomes_.fetch_add(1);
  if (pending.attempts <= 1) {
    log::Warning("clawback_outcome_unknown", {{"clawback_id", pending.clawback_id},
                                              {"status", errors::Describe(reversal.status())}});
  }
  return errors::Error(absl::StatusCode::kUnavailable, errors::reason::kDependencyUnavailable,
                       "the clawback could not be confirmed yet; retry with the same request_id",
                       {{"clawback_id", pending.clawback_id}});
}

absl::StatusOr<Redemption> VaultService::FinishCredit(const Redemption& pending) {
  std::optional<absl::StatusOr<Redemption>> answer;
  FinishCreditAsync(SyncPorts(), pending, false,
                    [&answer](absl::StatusOr<Redemption> r) { answer = r; });
  if (!answer) return absl::InternalError("the blocking ports left a redemption unanswered");
  return *std::move(answer);
}

void VaultService::FinishCreditAsync(RedeemPorts ports, const Redemption& pending,
                                     bool answer_first, RedeemDone done) {
  ports.credit.Credit(pending, [this, ports, pending, answer_first, done = std::move(done)](
                                   absl::StatusOr<CreditResult> credit) mutable {
    if (credit.ok() && answer_first) {
      std::move(done)(Completed(pending, *credit));
      ports.store.Complete(pending, *credit, [pending](absl::StatusOr<Redemption> completed) {
        // Left PENDING: the recovery worker completes it with the same credit.
        if (!completed.ok()) {
          log::Warning("redemption_complete_failed",
                       {{"redemption_id", pending.redemption_id},
                        {"status", errors::Describe(completed.status())}});
        }
      });
      return;
    }
    if (credit.ok()) {
      ports.store.Complete(
          pending, *credit,
          [pending, done = std::move(done)](absl::StatusOr<Redemption> completed) mutable {
            if (completed.ok()) return std::move(done)(std::move(completed));
            // The credit is durable; only our bookkeeping failed. A retry with
            // the same request_id completes it (the credit call is idempotent).
            log::Warning("redemption_complete_failed",
                         {{"redemption_id", pending.redemption_id},
                          {"status", errors::Describe(completed.status())}});
            std::move(done)(errors::Error(
                absl::StatusCode::kUnavailable, errors::reason::kDependencyUnavailable,
                "the redemption is being finished; retry with the same request_id",
                {{"redemption_id", pending.redemption_id}}));
          });
      return;
    }
    // Only account-credit's recorded answer for this request id ends the
    // saga as refused; anything else (even UNAUTHENTICATED or
    // INVALID_ARGUMENT) says nothing about whether the credit exists, so the
    // code stays REDEEMING and the redemption PENDING for the recovery worker.
    if (errors::IsRecordedDecision(credit.status())) {
      const absl::Status refusal = credit.status();
      ports.store.Reject(
          pending, refusal,
          [pending, refusal, done = std::move(done)](absl::StatusOr<Redemption> rejected) mutable {
            if (!rejected.ok()) {
              log::Warning("redemption_reject_failed",
                           {{"redemption_id", pending.redemption_id},
                            {"status", errors::Describe(rejected.status())}});
            }
            std::move(done)(refusal);
          });
      return;
    }
    unknown_outcomes_.fetch_add(1);
    // Logged when the saga becomes stuck, not on every retry (the metric counts those).
    if (pending.attempts <= 1) {
      log::Warning("redemption_outcome_unknown", {{"redemption_id", pending.redemption_id},
                                                  {"status", errors::Describe(credit.status())}});
    }
    std::move(done)(
        errors::Error(absl::StatusCode::kUnavailable, errors::reason::kDependencyUnavailable,
                      "the credit could not be confirmed yet; retry with the same request_id",
                      {{"redemption_id", pending.redemption_id}}));
  });
}

}  // namespace giftcard::code_vault

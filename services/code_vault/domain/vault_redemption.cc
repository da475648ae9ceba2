// VaultService's redemption saga (admission, reservation, credit,
// completion), written once in continuation style for the engine and, through
// the Sync ports, for the blocking path and the recovery worker; and CheckCode.
#include <algorithm>
#include <memory>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "codes/codes.h"
#include "errors/macros.h"
#include "errors/status.h"
#include "log/log.h"
#include "services/code_vault/domain/vault_service.h"
#include "validate/validate.h"

namespace giftcard::code_vault {
namespace {

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

}  // namespace

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
  ReserveRequest lookup{codes::DigestsOf(hasher_.AllHashes(*normalized)), "", ""};
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
    request_ = {codes::DigestsOf(hashes_), command_.account_id, command_.request_id,
                command_.principal};
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
      // Answered once the completion is ordered before anything this
      // service does next (a status read, another redemption of the code):
      // they see it, unless it fails, which leaves the redemption PENDING
      // for the recovery worker to complete with the same credit.
      ports.store.CompleteOrdered(
          pending, *credit,
          [done = std::move(done), answer = Completed(pending, *credit)]() mutable {
            std::move(done)(std::move(answer));
          },
          [pending](absl::StatusOr<Redemption> completed) {
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

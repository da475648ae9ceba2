// What a redemption asks the outside, without waiting: each answer comes
// back through its callback. In the service the engine's ports answer on
// the engine's one thread (Redis, Postgres and account-credit over
// non-blocking connections: storage/loop_*.h, peers/loop_*.h); the Sync*
// ports answer at once on the caller's thread through the blocking ports,
// for the recovery worker and unit tests with fakes. The saga's rules are
// written once, in VaultService, against these interfaces.
#ifndef GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_REDEEM_PORTS_H_
#define GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_REDEEM_PORTS_H_

#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/code_vault/domain/ports.h"

namespace giftcard::code_vault {

template <typename T>
using Callback = absl::AnyInvocable<void(T) &&>;

// The guard and the attempt limits (Redis, with the in-process fallback).
class AsyncAdmission {
 public:
  virtual ~AsyncAdmission() = default;
  // RedemptionGuard::Admit.
  virtual void Admit(const std::vector<LimitKey>& keys, const std::string& guard_key,
                     absl::Duration ttl, Callback<Admission> done) = 0;
  // RedemptionGuard::Release; nobody waits for it.
  virtual void Release(const std::string& key, const std::string& token) = 0;
  // AttemptLimiter::Charge.
  virtual void Charge(const std::vector<LimitKey>& keys, Callback<absl::Status> done) = 0;
  // AttemptLimiter::Refund; nobody waits for it.
  virtual void Refund(const std::vector<LimitKey>& keys) = 0;
};

// The redemption's rows (Postgres).
class AsyncRedemptionStore {
 public:
  virtual ~AsyncRedemptionStore() = default;
  // CodeStore::Lookup of the request's hashes, account and request id.
  virtual void Lookup(const ReserveRequest& request, Callback<absl::StatusOr<CodeLookup>> done) = 0;
  // CodeStore::Reserve.
  virtual void Reserve(const ReserveRequest& request,
                       Callback<absl::StatusOr<Reservation>> done) = 0;
  // CodeStore::Complete.
  virtual void Complete(const Redemption& pending, const CreditResult& credit,
                        Callback<absl::StatusOr<Redemption>> done) = 0;
  // Complete, and `ordered` as soon as every statement this store runs
  // after it is bound to see the completion (or its failure): for a store
  // whose statements go out in order on one connection, once it is sent;
  // here, when it is done. `done` still tells the completion's outcome.
  virtual void CompleteOrdered(const Redemption& pending, const CreditResult& credit,
                               absl::AnyInvocable<void() &&> ordered,
                               Callback<absl::StatusOr<Redemption>> done) {
    Complete(pending, credit,
             [ordered = std::move(ordered),
              done = std::move(done)](absl::StatusOr<Redemption> completed) mutable {
               std::move(ordered)();
               std::move(done)(std::move(completed));
             });
  }
  // CodeStore::Reject.
  virtual void Reject(const Redemption& pending, const absl::Status& refusal,
                      Callback<absl::StatusOr<Redemption>> done) = 0;
};

// The credit (account-credit).
class AsyncCredit {
 public:
  virtual ~AsyncCredit() = default;
  // CreditGateway::Credit of a PENDING redemption (its id is the request id).
  virtual void Credit(const Redemption& pending, Callback<absl::StatusOr<CreditResult>> done) = 0;
};

// GetCodeStatus's read (Postgres): a code with its last change
// (Code::last_change), or NOT_FOUND with CODE_NOT_FOUND.
class AsyncCodeReads {
 public:
  virtual ~AsyncCodeReads() = default;
  virtual void StatusBySerial(const std::string& serial, Callback<absl::StatusOr<Code>> done) = 0;
  // The code with one of these hashes (a PIN's, under each pepper).
  virtual void StatusByHashes(const std::vector<std::string>& code_hashes,
                              Callback<absl::StatusOr<Code>> done) = 0;
};

struct RedeemPorts {
  AsyncAdmission& admission;
  AsyncRedemptionStore& store;
  AsyncCredit& credit;
};

// The blocking ports behind the async ones: every callback runs before the
// call returns.
class SyncAdmission : public AsyncAdmission {
 public:
  SyncAdmission(RedemptionGuard& guard, AttemptLimiter& limiter)
      : guard_(guard), limiter_(limiter) {}
  void Admit(const std::vector<LimitKey>& keys, const std::string& guard_key, absl::Duration ttl,
             Callback<Admission> done) override {
    std::move(done)(guard_.Admit(limiter_, keys, guard_key, ttl));
  }
  void Release(const std::string& key, const std::string& token) override {
    guard_.Release(key, token);
  }
  void Charge(const std::vector<LimitKey>& keys, Callback<absl::Status> done) override {
    std::move(done)(limiter_.Charge(keys));
  }
  void Refund(const std::vector<LimitKey>& keys) override { (void)limiter_.Refund(keys); }

 private:
  RedemptionGuard& guard_;
  AttemptLimiter& limiter_;
};

class SyncRedemptionStore : public AsyncRedemptionStore {
 public:
  explicit SyncRedemptionStore(CodeStore& store) : store_(store) {}
  void Lookup(const ReserveRequest& request, Callback<absl::StatusOr<CodeLookup>> done) override {
    std::move(done)(store_.Lookup(request.code_hashes, request.account_id, request.request_id));
  }
  void Reserve(const ReserveRequest& request, Callback<absl::StatusOr<Reservation>> done) override {
    std::move(done)(store_.Reserve(request));
  }
  void Complete(const Redemption& pending, const CreditResult& credit,
                Callback<absl::StatusOr<Redemption>> done) override {
    std::move(done)(store_.Complete(pending, credit.transfer_id, credit.balance_after_minor));
  }
  void Reject(const Redemption& pending, const absl::Status& refusal,
              Callback<absl::StatusOr<Redemption>> done) override {
    std::move(done)(store_.Reject(pending, refusal));
  }

 private:
  CodeStore& store_;
};

class SyncCredit : public AsyncCredit {
 public:
  explicit SyncCredit(CreditGateway& credit) : credit_(credit) {}
  void Credit(const Redemption& pending, Callback<absl::StatusOr<CreditResult>> done) override {
    std::move(done)(credit_.Credit(pending.account_id, pending.amount, pending.region,
                                   pending.redemption_id, pending.serial, pending.traceparent));
  }

 private:
  CreditGateway& credit_;
};

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_DOMAIN_REDEEM_PORTS_H_

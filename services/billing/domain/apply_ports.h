// What applying credit to an invoice asks the outside, without waiting:
// each answer comes back through its callback. In the service the engine's
// ports answer on the engine's one thread (Postgres and account-credit over
// non-blocking connections: storage/loop_application_store.h,
// peers/loop_account_debit.h); the Sync* ports answer at once on the
// caller's thread through the blocking ports, for the recovery worker, the
// reversal and unit tests with fakes. The saga is written once, in
// BillingService, against these interfaces.
#ifndef GIFTCARD_SERVICES_BILLING_DOMAIN_APPLY_PORTS_H_
#define GIFTCARD_SERVICES_BILLING_DOMAIN_APPLY_PORTS_H_

#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "services/billing/domain/ports.h"

namespace giftcard::billing {

template <typename T>
using Callback = absl::AnyInvocable<void(T) &&>;

// The applications' rows (Postgres).
class AsyncApplicationStore {
 public:
  virtual ~AsyncApplicationStore() = default;
  // ApplicationStore::Start.
  virtual void Start(const CreditApplication& pending,
                     Callback<absl::StatusOr<CreditApplication>> done) = 0;
  // ApplicationStore::MarkApplied.
  virtual void MarkApplied(const std::string& invoice_id, const DebitResult& debit,
                           absl::Time update_time,
                           Callback<absl::StatusOr<CreditApplication>> done) = 0;
  // MarkApplied, and `ordered` as soon as every statement this store runs
  // after it is bound to see the mark (or its failure): for a store whose
  // statements go out in order on one connection, once it is sent; here,
  // when it is done. `done` still tells the mark's outcome.
  virtual void MarkAppliedOrdered(const std::string& invoice_id, const DebitResult& debit,
                                  absl::Time update_time, absl::AnyInvocable<void() &&> ordered,
                                  Callback<absl::StatusOr<CreditApplication>> done) {
    MarkApplied(invoice_id, debit, update_time,
                [ordered = std::move(ordered),
                 done = std::move(done)](absl::StatusOr<CreditApplication> applied) mutable {
                  std::move(ordered)();
                  std::move(done)(std::move(applied));
                });
  }
  // ApplicationStore::DropPending.
  virtual void DropPending(const std::string& invoice_id, Callback<absl::Status> done) = 0;
};

// The debit (account-credit).
class AsyncDebit {
 public:
  virtual ~AsyncDebit() = default;
  // DebitGateway::DebitUpTo.
  virtual void DebitUpTo(const std::string& account_id, const money::Money& max_amount,
                         const std::string& request_id, const std::string& reference,
                         const std::string& traceparent,
                         Callback<absl::StatusOr<DebitResult>> done) = 0;
};

struct ApplyPorts {
  AsyncApplicationStore& store;
  AsyncDebit& debit;
};

// The blocking ports behind the async ones: every callback runs before the
// call returns.
class SyncApplicationStore : public AsyncApplicationStore {
 public:
  explicit SyncApplicationStore(ApplicationStore& store) : store_(store) {}
  void Start(const CreditApplication& pending,
             Callback<absl::StatusOr<CreditApplication>> done) override {
    std::move(done)(store_.Start(pending));
  }
  void MarkApplied(const std::string& invoice_id, const DebitResult& debit, absl::Time update_time,
                   Callback<absl::StatusOr<CreditApplication>> done) override {
    std::move(done)(store_.MarkApplied(invoice_id, debit.transfer_id, debit.amount_minor,
                                       debit.balance_after_minor, update_time));
  }
  void DropPending(const std::string& invoice_id, Callback<absl::Status> done) override {
    std::move(done)(store_.DropPending(invoice_id));
  }

 private:
  ApplicationStore& store_;
};

class SyncDebit : public AsyncDebit {
 public:
  explicit SyncDebit(DebitGateway& debit) : debit_(debit) {}
  void DebitUpTo(const std::string& account_id, const money::Money& max_amount,
                 const std::string& request_id, const std::string& reference,
                 const std::string& traceparent,
                 Callback<absl::StatusOr<DebitResult>> done) override {
    std::move(done)(debit_.DebitUpTo(account_id, max_amount, request_id, reference, traceparent));
  }

 private:
  DebitGateway& debit_;
};

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_DOMAIN_APPLY_PORTS_H_

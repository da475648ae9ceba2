// In-memory fakes of billing's ports (domain/ports.h), for unit tests of its rules.
#ifndef GIFTCARD_TESTS_SUPPORT_FAKES_BILLING_FAKES_H_
#define GIFTCARD_TESTS_SUPPORT_FAKES_BILLING_FAKES_H_

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "errors/status.h"
#include "services/billing/domain/ports.h"

namespace giftcard::billing::fakes {

class FakeStore : public ApplicationStore {
 public:
  std::map<std::string, CreditApplication> rows;
  absl::Status fail_marks = absl::OkStatus();  // What MarkApplied fails with, if not OK.
  absl::StatusOr<CreditApplication> Start(const CreditApplication& p) override {
    if (!rows.count(p.invoice_id)) rows[p.invoice_id] = p;
    return rows[p.invoice_id];
  }
  absl::StatusOr<CreditApplication> MarkApplied(const std::string& id, const std::string& t,
                                                int64_t applied, int64_t remaining,
                                                absl::Time update_time) override {
    if (!fail_marks.ok()) return fail_marks;
    auto& r = rows[id];
    if (r.state == ApplicationState::kPending) {
      r.state = ApplicationState::kApplied;
      r.debit_transfer_id = t;
      r.applied_minor = applied;
      r.remaining_credit_minor = remaining;
      r.update_time = update_time;
    }
    return r;
  }
  absl::Status DropPending(const std::string& id) override {
    if (rows[id].state == ApplicationState::kPending) rows.erase(id);
    return absl::OkStatus();
  }
  absl::StatusOr<CreditApplication> MarkReversalPending(const std::string& id,
                                                        const std::string&) override {
    if (rows[id].state == ApplicationState::kApplied)
      rows[id].state = ApplicationState::kReversalPending;
    return rows[id];
  }
  absl::StatusOr<CreditApplication> MarkReversed(const std::string& id, const std::string& t,
                                                 int64_t remaining) override {
    auto& r = rows[id];
    if (r.state == ApplicationState::kReversalPending) {
      r.state = ApplicationState::kReversed;
      r.reversal_transfer_id = t;
      r.remaining_credit_minor = remaining;
    }
    return r;
  }
  absl::StatusOr<CreditApplication> CancelReversal(const std::string& id) override {
    if (rows[id].state == ApplicationState::kReversalPending)
      rows[id].state = ApplicationState::kApplied;
    return rows[id];
  }
  absl::StatusOr<std::vector<CreditApplication>> ClaimUnsettled(absl::Duration, int) override {
    std::vector<CreditApplication> out;
    for (auto& [id, r] : rows) {
      if (r.state == ApplicationState::kPending || r.state == ApplicationState::kReversalPending) {
        ++r.attempts;
        out.push_back(r);
      }
    }
    return out;
  }
  absl::StatusOr<CreditApplication> Get(const std::string& id) override {
    if (!rows.count(id)) return absl::NotFoundError("x");
    return rows[id];
  }
};

class FakeDebit : public DebitGateway {
 public:
  int64_t balance = 0;
  absl::Status next = absl::OkStatus();
  std::map<std::string, DebitResult> done;  // Idempotent on request id, like the real one.
  int effects = 0;
  absl::StatusOr<DebitResult> DebitUpTo(const std::string&, const money::Money& max,
                                        const std::string& request_id, const std::string&,
                                        const std::string&) override {
    if (!next.ok()) return next;
    if (done.count(request_id)) return done[request_id];
    ++effects;
    const int64_t take = std::min(balance, max.amount_minor);
    balance -= take;
    return done[request_id] = DebitResult{"t-" + request_id, take, balance};
  }
  absl::StatusOr<DebitResult> Reverse(const std::string& transfer_id,
                                      const std::string& request_id) override {
    if (!next.ok()) return next;
    if (done.count(request_id)) return done[request_id];
    for (const auto& [id, d] : done) {
      if (d.transfer_id == transfer_id) {
        ++effects;
        balance += d.amount_minor;
        return done[request_id] = DebitResult{"r-" + request_id, d.amount_minor, balance};
      }
    }
    return errors::MarkRecordedDecision(
        errors::Error(absl::StatusCode::kNotFound, "TRANSFER_NOT_FOUND", ""));
  }
};

}  // namespace giftcard::billing::fakes

#endif  // GIFTCARD_TESTS_SUPPORT_FAKES_BILLING_FAKES_H_

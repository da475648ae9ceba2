// In-memory fakes of code-vault's ports (domain/ports.h), for unit tests of its rules.
#ifndef GIFTCARD_TESTS_SUPPORT_FAKES_CODE_VAULT_FAKES_H_
#define GIFTCARD_TESTS_SUPPORT_FAKES_CODE_VAULT_FAKES_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "errors/status.h"
#include "services/code_vault/domain/ports.h"

namespace giftcard::code_vault::fakes {

class FakeCodeStore : public CodeStore {
 public:
  // The database's clock: the reservation refuses a code expired by it.
  std::function<absl::Time()> now = [] { return absl::Now(); };
  int calls = 0;
  absl::Status complete_error;        // What Complete answers instead, when set.
  std::map<std::string, Code> codes;  // By hash.
  std::map<std::pair<std::string, std::string>, Redemption> redemptions;
  std::vector<NewCode> last_batch;
  BulkChange last_change;
  std::string list_after;
  std::string list_batch_id;
  std::optional<CodeState> list_state;
  int64_t list_batches_before = -1;
  std::map<std::string, Clawback> clawbacks;  // By request id.
  // The state the next reservation "saw" when it reserved nothing.
  std::optional<CodeState> refuse_next_reservation_as;

  void AddActive(const std::string& hash, const std::string& serial) {
    Code c;
    c.serial = serial;
    c.state = CodeState::kActive;
    c.amount = {"EUR", 2500};
    c.region = "DE";
    codes[hash] = c;
  }

  absl::StatusOr<Batch> CreateBatch(const BatchSpec& spec,
                                    const std::vector<NewCode>& in) override {
    ++calls;
    Batch b;
    b.batch_id = "batch-" + spec.request_id;
    b.replayed = batches_.count(spec.request_id) > 0;
    if (!b.replayed) {
      last_batch = in;
      batches_[spec.request_id] = in.size();
    }
    for (size_t i = 0; i < batches_[spec.request_id]; ++i)
      b.serials.push_back(MakeSerial(1, i + 1));
    return b;
  }
  absl::StatusOr<BulkResult> ApplyBulkChange(const BulkChange& change) override {
    ++calls;
    last_change = change;
    return BulkResult{static_cast<int64_t>(change.serials.size()), 0, 0};
  }
  absl::StatusOr<BatchPage> ListBatches(int64_t before, int limit) override {
    ++calls;
    list_batches_before = before;
    BatchPage page;
    for (int i = 0; i < limit; ++i) {
      BatchInfo b;
      b.batch_no = (before == 0 ? 1000 : before) - 1 - i;
      page.batches.push_back(b);
    }
    page.more = true;
    return page;
  }
  absl::StatusOr<CodePage> ListCodes(const std::string& batch_id, std::optional<CodeState> state,
                                     const std::string& after, int limit) override {
    ++calls;
    list_after = after;
    list_batch_id = batch_id;
    list_state = state;
    CodePage page;
    for (int i = 0; i < limit; ++i) {
      Code c;
      c.serial = after + "x";
      page.codes.push_back(c);
    }
    page.more = true;
    return page;
  }
  absl::StatusOr<std::vector<Redemption>> ClaimPending(absl::Duration, int) override {
    ++calls;
    std::vector<Redemption> out;
    for (auto& [key, r] : redemptions) {
      if (r.state != RedemptionState::kPending) continue;
      ++r.attempts;
      out.push_back(r);
    }
    return out;
  }
  absl::StatusOr<CodeLookup> Lookup(const std::vector<std::string>& hashes,
                                    const std::string& account_id,
                                    const std::string& request_id) override {
    ++calls;
    CodeLookup out;
    for (const auto& h : hashes)
      if (codes.count(h)) out.code = codes[h];
    auto it = redemptions.find({account_id, request_id});
    if (it != redemptions.end()) out.first = it->second;
    return out;
  }
  // Changes by serial, as the test sets them.
  std::map<std::string, std::vector<CodeChange>> changes;
  absl::StatusOr<CodeChangePage> ListCodeChanges(const std::string& serial, int64_t after,
                                                 int limit) override {
    ++calls;
    if (!changes.count(serial)) {
      return errors::Error(absl::StatusCode::kNotFound, errors::reason::kCodeNotFound, "no code");
    }
    CodeChangePage page;
    for (const CodeChange& c : changes[serial]) {
      if (c.change_id <= after) continue;
      if (static_cast<int>(page.changes.size()) == limit) {
        page.more = true;
        break;
      }
      page.changes.push_back(c);
    }
    return page;
  }
  absl::StatusOr<std::optional<CodeChange>> LastCodeChange(const std::string& serial) override {
    if (!changes.count(serial) || changes[serial].empty()) return std::nullopt;
    return changes[serial].back();
  }
  absl::StatusOr<Code> GetCodeBySerial(const std::string&) override {
    ++calls;
    return absl::NotFoundError("x");
  }
  absl::StatusOr<Code> GetCodeByHashes(const std::vector<std::string>& hashes) override {
    ++calls;
    for (const auto& h : hashes)
      if (codes.count(h)) return codes[h];
    return absl::NotFoundError("x");
  }
  absl::StatusOr<Reservation> Reserve(const ReserveRequest& r) override {
    ++calls;
    Reservation out;
    if (refuse_next_reservation_as) {
      out.code = codes.begin()->second;
      out.code->state = *refuse_next_reservation_as;
      refuse_next_reservation_as.reset();
      return out;
    }
    auto key = std::make_pair(r.account_id, r.request_id);
    if (redemptions.count(key)) {
      out.kind = Reservation::Kind::kReplay;
      out.redemption = redemptions[key];
      return out;
    }
    for (const auto& h : r.code_hashes) {
      if (!codes.count(h)) continue;
      Code& c = codes[h];
      if (c.state != CodeState::kActive || (c.expire_time && *c.expire_time <= now())) {
        out.code = c;
        return out;
      }
      c.state = CodeState::kRedeeming;
      Redemption red;
      red.redemption_id = absl::StrCat("red-", ++next_id_);
      red.account_id = r.account_id;
      red.request_id = r.request_id;
      red.code_hash = h;
      red.serial = c.serial;
      red.amount = c.amount;
      red.region = c.region;
      redemptions[key] = red;
      out.kind = Reservation::Kind::kReserved;
      out.redemption = red;
      return out;
    }
    return out;
  }
  absl::StatusOr<Redemption> Complete(const Redemption& red, const std::string& transfer_id,
                                      int64_t balance) override {
    ++calls;
    if (!complete_error.ok()) return complete_error;
    Redemption& r = redemptions[{red.account_id, red.request_id}];
    if (r.state == RedemptionState::kPending) {
      r.state = RedemptionState::kCompleted;
      r.transfer_id = transfer_id;
      r.balance_after_minor = balance;
      codes[r.code_hash].state = CodeState::kRedeemed;
    }
    return r;
  }
  absl::StatusOr<Redemption> Reject(const Redemption& red, const absl::Status& refusal) override {
    ++calls;
    Redemption& r = redemptions[{red.account_id, red.request_id}];
    if (r.state == RedemptionState::kPending) {
      r.state = RedemptionState::kRejected;
      r.rejection = refusal;
      codes[r.code_hash].state = CodeState::kActive;
    }
    return r;
  }

  // Clawbacks of a REDEEMED code found by serial or by redemption id; the
  // credit transfer is "transfer-" + the redemption id (FakeCredit's).
  absl::StatusOr<Clawback> StartClawback(const ClawbackRequest& r) override {
    ++calls;
    if (auto it = clawbacks.find(r.request_id); it != clawbacks.end()) return it->second;
    for (auto& [hash, code] : codes) {
      if (r.serial.empty() ? code.redemption_id != r.redemption_id : code.serial != r.serial) {
        continue;
      }
      for (const auto& [key, c] : clawbacks) {
        if (c.redemption_id == code.redemption_id && c.state != ClawbackState::kRejected) {
          return errors::Error(absl::StatusCode::kFailedPrecondition,
                               errors::reason::kAlreadyClawedBack, "clawed back");
        }
      }
      if (code.state != CodeState::kRedeemed) {
        return errors::Error(absl::StatusCode::kFailedPrecondition, errors::reason::kNotRedeemed,
                             "not redeemed");
      }
      Clawback c;
      c.clawback_id = absl::StrCat("clawback-", ++next_id_);
      c.request_id = r.request_id;
      c.redemption_id = code.redemption_id;
      c.serial = code.serial;
      c.account_id = code.redeemed_by_account_id;
      c.credit_transfer_id = "transfer-" + code.redemption_id;
      c.amount = code.amount;
      c.then_state = r.then_state;
      c.reason = r.reason;
      c.principal = r.principal;
      return clawbacks[r.request_id] = c;
    }
    return errors::Error(absl::StatusCode::kNotFound, errors::reason::kCodeNotFound, "no code");
  }
  absl::StatusOr<Clawback> CompleteClawback(const Clawback& clawback,
                                            const std::string& transfer_id, int64_t clawed_back,
                                            int64_t balance) override {
    ++calls;
    Clawback& c = clawbacks[clawback.request_id];
    if (c.state == ClawbackState::kPending) {
      c.state = ClawbackState::kCompleted;
      c.transfer_id = transfer_id;
      c.clawed_back_minor = clawed_back;
      c.balance_after_minor = balance;
      for (auto& [hash, code] : codes) {
        if (code.serial == c.serial) code.state = c.then_state;
      }
    }
    return c;
  }
  absl::StatusOr<Clawback> RejectClawback(const Clawback& clawback,
                                          const absl::Status& refusal) override {
    ++calls;
    Clawback& c = clawbacks[clawback.request_id];
    if (c.state == ClawbackState::kPending) {
      c.state = ClawbackState::kRejected;
      c.rejection = refusal;
    }
    return c;
  }
  absl::StatusOr<std::vector<Clawback>> ClaimPendingClawbacks(absl::Duration, int) override {
    ++calls;
    std::vector<Clawback> out;
    for (auto& [key, c] : clawbacks) {
      if (c.state != ClawbackState::kPending) continue;
      ++c.attempts;
      out.push_back(c);
    }
    return out;
  }

 private:
  std::map<std::string, size_t> batches_;
  int next_id_ = 0;
};

class FakeGuard : public RedemptionGuard {
 public:
  absl::Status next = absl::OkStatus();
  int acquired = 0, released = 0;
  absl::StatusOr<std::string> Acquire(const std::string&, absl::Duration) override {
    if (!next.ok()) return next;
    ++acquired;
    return std::string("token");
  }
  void Release(const std::string&, const std::string&) override { ++released; }
};

class FakeCredit : public CreditGateway {
 public:
  absl::Status next = absl::OkStatus();
  std::vector<std::string> request_ids;
  absl::StatusOr<CreditResult> Credit(const std::string&, const money::Money& amount,
                                      const std::string&, const std::string& request_id,
                                      const std::string&, const std::string&) override {
    request_ids.push_back(request_id);
    if (!next.ok()) return next;
    return CreditResult{"transfer-" + request_id, amount.amount_minor};
  }
  // What ClawBack finds left on the account: it takes min(left, credit).
  int64_t balance_left = 1 << 30;
  absl::Status next_clawback = absl::OkStatus();
  std::vector<std::pair<std::string, std::string>> clawbacks;  // (transfer, request) asked.
  absl::StatusOr<ClawbackOutcome> ClawBack(const std::string& credit_transfer_id,
                                           const std::string& request_id) override {
    clawbacks.emplace_back(credit_transfer_id, request_id);
    if (!next_clawback.ok()) return next_clawback;
    return ClawbackOutcome{"reversal-" + request_id, balance_left, 0};
  }
};

}  // namespace giftcard::code_vault::fakes

#endif  // GIFTCARD_TESTS_SUPPORT_FAKES_CODE_VAULT_FAKES_H_

#include "services/account_credit/storage/ledger_batch.h"

#include <algorithm>

namespace giftcard::account_credit {

std::vector<std::string> AccountIdsOf(const std::vector<Posting>& batch) {
  std::vector<std::string> ids;
  for (const Posting& p : batch) ids.push_back(p.account_id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::vector<std::string> RequestIdsOf(const std::vector<Posting>& batch) {
  std::vector<std::string> ids;
  for (const Posting& p : batch) ids.push_back(p.request_id);
  return ids;
}

std::vector<std::vector<std::optional<std::string>>> RefusalParams(
    const std::vector<Posting>& batch, const BatchPlan& plan) {
  std::vector<std::vector<std::optional<std::string>>> out;
  for (const BatchPlan::Refusal& r : plan.refusals) {
    const Posting& p = batch[r.i];
    out.push_back({p.request_id, p.request_fingerprint,
                   std::to_string(static_cast<int>(r.why.code())), errors::ReasonOf(r.why),
                   std::string(r.why.message())});
  }
  return out;
}

std::vector<std::optional<std::string>> WriteTransfersParams(const std::vector<Posting>& batch,
                                                             const BatchPlan& plan) {
  if (plan.writes.empty()) return {};
  std::vector<std::string> ids, fingerprints, kinds, accts, counters, currencies, amounts, balances,
      references, deltas, owed_added, owed_repaid;
  for (const BatchPlan::Write& w : plan.writes) {
    const Posting& p = batch[w.i];
    if (w.repayment) {
      const Posting r = RepaymentOf(p, p.reference);
      ids.push_back(r.request_id);
      fingerprints.push_back(r.request_fingerprint);
      kinds.push_back(KindName(r.kind));
      counters.push_back(r.counter_account_id);
    } else {
      ids.push_back(p.request_id);
      fingerprints.push_back(p.request_fingerprint);
      kinds.push_back(KindName(p.kind));
      counters.push_back(p.counter_account_id);
    }
    accts.push_back(p.account_id);
    currencies.push_back(p.currency_code);
    amounts.push_back(std::to_string(w.amount_minor));
    balances.push_back(std::to_string(w.balance_after_minor));
    references.push_back(p.reference);
    deltas.push_back(std::to_string(w.delta));
    owed_added.push_back(std::to_string(w.owed_added));
    owed_repaid.push_back(std::to_string(w.owed_repaid));
  }
  return {pg::TextArray(ids),     pg::TextArray(fingerprints), pg::TextArray(kinds),
          pg::TextArray(accts),   pg::TextArray(counters),     pg::TextArray(currencies),
          pg::TextArray(amounts), pg::TextArray(balances),     pg::TextArray(references),
          pg::TextArray(deltas),  pg::TextArray(owed_added),   pg::TextArray(owed_repaid)};
}

std::vector<absl::StatusOr<Transfer>> AnswerBatch(
    const std::vector<Posting>& batch, BatchPlan plan,
    const std::vector<std::pair<std::string, int64_t>>& written) {
  for (size_t k = 0; k < plan.writes.size(); ++k) {
    const BatchPlan::Write& w = plan.writes[k];
    if (w.repayment) continue;  // Part of the credit before it.
    const Posting& p = batch[w.i];
    const auto& [transfer_id, create_micros] = written[k];
    Transfer t;
    t.transfer_id = transfer_id;
    t.request_id = p.request_id;
    t.kind = p.kind;
    t.account_id = p.account_id;
    t.counter_account_id = p.counter_account_id;
    t.amount = {p.currency_code, w.amount_minor};
    t.balance_after_minor = w.balance_after_minor - w.owed_repaid;
    t.owed_added_minor = w.owed_added;
    t.owed_repaid_minor = w.owed_repaid;
    t.create_time = absl::FromUnixMicros(create_micros);
    t.reference = p.reference;
    plan.answers[w.i] = t;
  }
  for (BatchPlan::Refusal& r : plan.refusals) {
    plan.answers[r.i] = errors::MarkRecordedDecision(std::move(r.why));
  }
  // A request id twice in one batch: the second is a replay of the first.
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!plan.same_as[i]) continue;
    const size_t first = *plan.same_as[i];
    plan.answers[i] = batch[i].request_fingerprint == batch[first].request_fingerprint
                          ? plan.answers[first]
                          : absl::StatusOr<Transfer>(Reused(batch[i]));
  }
  return std::move(plan.answers);
}

absl::Status DecidedConcurrently() {
  return errors::Error(absl::StatusCode::kAborted, errors::reason::kConflict,
                       "concurrent request with the same request_id; retry");
}

}  // namespace giftcard::account_credit

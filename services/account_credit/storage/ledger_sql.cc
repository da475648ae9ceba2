#include "services/account_credit/storage/ledger_sql.h"

#include <algorithm>

namespace giftcard::account_credit {

namespace {

// A decision row for each request id: ON CONFLICT DO NOTHING leaves out
// one another transaction decided first (the caller sees the row missing);
// without it, that request id fails the statement (23505: a conflict).
std::string DecideSql(const std::string& select, bool skip_decided) {
  return absl::StrCat("INSERT INTO decisions (request_id, kind) ", select,
                      skip_decided ? " ON CONFLICT (request_id) DO NOTHING" : "",
                      " RETURNING request_id");
}

std::string InsertRefusalSql(bool skip_decided) {
  return absl::StrCat("WITH d AS (", DecideSql("VALUES ($1, 'REFUSAL')", skip_decided),
                      ") "
                      "INSERT INTO refusals (request_id, request_fingerprint, code, reason, "
                      "message) SELECT d.request_id, $2, $3, $4, $5 FROM d RETURNING 1");
}

}  // namespace

// A refusal becomes the request's answer only if no other decision
// took its request id first (no row back: rerun and replay that one).
const pg::Statement kInsertRefusal{"ac_insert_refusal", InsertRefusalSql(true)};
// The same, failing on a request id decided already (the engine's flight
// that ends in COMMIT must not commit a batch with one missing).
const pg::Statement kInsertRefusalOrFail{"ac_insert_refusal_or_fail", InsertRefusalSql(false)};
// The accounts of a batch's postings, locked in account order: concurrent
// batches lock in one order and never deadlock each other.
const pg::Statement kLockAccounts{"ac_lock_accounts",
                                  "SELECT " + AccountColumns() +
                                      " FROM accounts WHERE account_id = ANY($1::text[]) "
                                      "ORDER BY account_id FOR UPDATE"};
// What each request id of a batch already decided (ac_find_request's
// columns after the item's 1-based index).
const pg::Statement kFindRequests{
    "ac_find_requests", "SELECT q.i, " + TransferColumns() +
                            ", r.request_fingerprint, r.code, r.reason, r.message "
                            "FROM unnest($1::text[]) WITH ORDINALITY AS q(request_id, i) "
                            "LEFT JOIN transfers t ON t.request_id = q.request_id "
                            "LEFT JOIN refusals r ON r.request_id = q.request_id ORDER BY q.i"};
// ac_write_transfer for a batch: every transfer, its two entries and each
// account's new balance (the sum of its deltas) in one statement. A request
// id another transaction decided first is missing from the result (or, not
// skipping decided ones, fails the statement). Each
// row names its input's ordinal (request ids are distinct here: a repeat
// within a batch never reaches this statement). A credit that repays owed
// is followed by its repayment's row.
namespace {

std::string WriteTransfersSql(bool skip_decided) {
  return "WITH input AS ("
         " SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],"
         "   $6::text[], $7::bigint[], $8::bigint[], $9::text[], $10::bigint[], $11::bigint[],"
         "   $12::bigint[]) WITH ORDINALITY"
         "   AS i(request_id, request_fingerprint, kind, account_id, counter_account_id,"
         "     currency_code, amount_minor, balance_after_minor, reference, delta, owed_added,"
         "     owed_repaid, ord)), "
         "d AS (" +
         DecideSql("SELECT request_id, 'TRANSFER' FROM input ORDER BY ord", skip_decided) +
         "), "
         "t AS ("
         " INSERT INTO transfers (request_id, request_fingerprint, kind, account_id,"
         "   counter_account_id, currency_code, amount_minor, balance_after_minor, reference,"
         "   owed_added_minor, owed_repaid_minor)"
         " SELECT i.request_id, i.request_fingerprint, i.kind, i.account_id, i.counter_account_id,"
         "   i.currency_code, i.amount_minor, i.balance_after_minor, i.reference, i.owed_added,"
         "   i.owed_repaid"
         " FROM input i JOIN d USING (request_id) ORDER BY i.ord"
         " RETURNING request_id, transfer_id, create_time), "
         "e AS ("
         " INSERT INTO ledger_entries (account_id, transfer_id, currency_code, amount_minor)"
         " SELECT v.account_id, t.transfer_id, i.currency_code, v.amount"
         " FROM t JOIN input i USING (request_id)"
         " CROSS JOIN LATERAL (VALUES (i.account_id, i.delta, 1), (i.counter_account_id, -i.delta, "
         "2))"
         "   AS v(account_id, amount, side)"
         " WHERE i.delta <> 0 ORDER BY i.ord, v.side), "
         "b AS ("
         " UPDATE accounts a SET balance_minor = a.balance_minor + s.delta,"
         "   owed_minor = a.owed_minor + s.owed, currency_locked = true, update_time = now()"
         " FROM (SELECT i.account_id, sum(i.delta)::bigint AS delta,"
         "     sum(i.owed_added - i.owed_repaid)::bigint AS owed FROM input i"
         "   JOIN t USING (request_id) WHERE i.delta <> 0 OR i.owed_added <> 0 OR i.owed_repaid <> "
         "0"
         "   GROUP BY i.account_id) s"
         " WHERE a.account_id = s.account_id) "
         "SELECT i.ord, t.transfer_id::text, " +
         Micros("t.create_time") + " FROM t JOIN input i USING (request_id) ORDER BY i.ord";
}

}  // namespace

const pg::Statement kWriteTransfers{"ac_write_transfers", WriteTransfersSql(true)};
const pg::Statement kWriteTransfersOrFail{"ac_write_transfers_or_fail", WriteTransfersSql(false)};

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

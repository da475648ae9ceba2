// account-credit's posting, shared by the blocking store (PgLedgerStore,
// libpqxx) and the engine's (LoopLedgerStore, pipelined libpq): rows to
// values for either kind of row (a pqxx::row or a pg::TextRow), read by
// column name from the statements of storage/sql/ (sql::k<Name>), and the
// plan that decides a batch's postings on their locked accounts.
#ifndef GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_LEDGER_BATCH_H_
#define GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_LEDGER_BATCH_H_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "errors/status.h"
#include "pg/pool.h"
#include "pg/text_row.h"
#include "services/account_credit/storage/sql/statements.h"
#include "services/account_credit/domain/ledger_store.h"
#include "services/account_credit/domain/model.h"

namespace giftcard::account_credit {

// An account of a row of the statements that return one (get_account,
// lock_accounts, ...); `prefix` names its columns in a wider row
// (find_request_lock_account's "locked_").
template <typename Row>
Account AccountFromRow(const Row& row, std::string_view prefix = "") {
  const pg::NamedRow<Row> r(row, prefix);
  Account a;
  a.account_id = pg::Text(r["account_id"]);
  a.country = pg::Text(r["country"]);
  a.currency_code = pg::Text(r["currency_code"]);
  a.billing_channel =
      BillingChannelFromName(pg::Text(r["billing_channel"])).value_or(BillingChannel::kUnspecified);
  a.balance_minor = pg::Int64(r["balance_minor"]);
  a.create_time = absl::FromUnixMicros(pg::Int64(r["create_time_us"]));
  a.update_time = absl::FromUnixMicros(pg::Int64(r["update_time_us"]));
  a.closed = pg::Bool(r["closed"]);
  a.currency_locked = pg::Bool(r["currency_locked"]);
  a.owed_minor = pg::Int64(r["owed_minor"]);
  return a;
}

inline TransferKind KindFromName(const std::string& name) {
  if (name == "DEBIT") return TransferKind::kDebit;
  if (name == "REVERSAL") return TransferKind::kReversal;
  if (name == "REPAYMENT") return TransferKind::kRepayment;
  return TransferKind::kCredit;
}

inline const char* KindName(TransferKind kind) {
  switch (kind) {
    case TransferKind::kDebit:
      return "DEBIT";
    case TransferKind::kReversal:
      return "REVERSAL";
    case TransferKind::kRepayment:
      return "REPAYMENT";
    case TransferKind::kCredit:
      break;
  }
  return "CREDIT";
}

// A transfer of a row with a transfer's columns (transfer_by_id,
// find_request, find_requests).
template <typename Row>
Transfer TransferFromRow(const Row& row) {
  const pg::NamedRow<Row> r(row);
  Transfer t;
  t.transfer_id = pg::Text(r["transfer_id"]);
  t.kind = KindFromName(pg::Text(r["kind"]));
  t.account_id = pg::Text(r["account_id"]);
  t.amount = {pg::Text(r["currency_code"]), pg::Int64(r["amount_minor"])};
  const int64_t balance_after_entry = pg::Int64(r["balance_after_minor"]);
  t.reverses_transfer_id = pg::Text(r["reverses_transfer_id"]);
  t.create_time = absl::FromUnixMicros(pg::Int64(r["create_time_us"]));
  t.request_id = pg::Text(r["request_id"]);
  t.counter_account_id = pg::Text(r["counter_account_id"]);
  t.owed_added_minor = pg::Int64(r["owed_added_minor"]);
  t.owed_repaid_minor = pg::Int64(r["owed_repaid_minor"]);
  t.reference = pg::Text(r["reference"]);
  // The row keeps the balance its own entry left; the caller is answered
  // the balance after the posting, its repayment included.
  t.balance_after_minor = balance_after_entry - t.owed_repaid_minor;
  return t;
}

// The repayment a credit posting makes when it pays owed: from the account
// back to gift-funding, under a request id derived from the credit's.
// `reference` names what paid it (the serial or the invoice id).
inline Posting RepaymentOf(const Posting& credit, const std::string& reference) {
  Posting r;
  r.kind = TransferKind::kRepayment;
  r.account_id = credit.account_id;
  r.counter_account_id = GiftFundingAccount(credit.currency_code);
  r.currency_code = credit.currency_code;
  r.request_id = RepaymentRequestId(credit.request_id);
  r.request_fingerprint = "repayment|" + credit.request_id;
  r.reference = reference;
  return r;
}

inline absl::Status AccountNotFound(const std::string& account_id) {
  return errors::Error(absl::StatusCode::kNotFound, errors::reason::kAccountNotFound,
                       "no such account", {{"account_id", account_id}});
}

// Read from the request id's recorded decision: it is decided, for another
// request, so this one will never happen — a final answer too.
inline absl::Status Reused(const Posting& posting) {
  return errors::MarkRecordedDecision(errors::Error(
      absl::StatusCode::kInvalidArgument, errors::reason::kRequestIdReused,
      "request_id was already used for a different request", {{"request_id", posting.request_id}}));
}

// What the posting's request id decided before, from a row of
// find_request(s): a transfer (replayed, if the request is the same), a
// recorded refusal, or nothing yet (nullopt).
template <typename Row>
std::optional<absl::StatusOr<Transfer>> RecordedAnswer(const Row& row, const Posting& posting) {
  const pg::NamedRow<Row> r(row);
  if (!r["transfer_id"].is_null()) {
    if (pg::Text(r["request_fingerprint"]) != posting.request_fingerprint) return Reused(posting);
    return TransferFromRow(row);
  }
  if (!r["refusal_request_fingerprint"].is_null()) {
    if (pg::Text(r["refusal_request_fingerprint"]) != posting.request_fingerprint) {
      return Reused(posting);
    }
    return errors::MarkRecordedDecision(
        errors::Error(static_cast<absl::StatusCode>(pg::Int32(r["refusal_code"])),
                      pg::Text(r["refusal_reason"]), pg::Text(r["refusal_message"])));
  }
  return std::nullopt;
}

// The domain's refusals that become the request's recorded answer (a failed
// precondition, an unknown account or transfer), as opposed to failures to
// answer it, which write nothing.
inline bool IsRecordedRefusal(const absl::Status& status) {
  return status.code() == absl::StatusCode::kFailedPrecondition ||
         status.code() == absl::StatusCode::kNotFound;
}

// A batch of postings decided in order on their locked accounts: what to
// write, what to refuse (recorded), and the answers known already.
struct BatchPlan {
  struct Write {
    size_t i;
    int64_t amount_minor, balance_after_minor, delta, owed_added, owed_repaid;
    bool repayment = false;  // The repayment that follows posting i's credit.
  };
  struct Refusal {
    size_t i;
    absl::Status why;
  };
  std::vector<absl::StatusOr<Transfer>> answers;
  std::vector<Write> writes;
  std::vector<Refusal> refusals;
  std::vector<std::optional<size_t>> same_as;  // A request id seen earlier in the batch.
};

// The batch's account ids, sorted and distinct (lock_accounts' order), and
// its request ids in order (find_requests').
std::vector<std::string> AccountIdsOf(const std::vector<Posting>& batch);
std::vector<std::string> RequestIdsOf(const std::vector<Posting>& batch);

// Decides each posting in order, on the balance the earlier ones left.
// `found[i]`: find_requests' row of posting i.
template <typename Row>
BatchPlan PlanBatch(const std::vector<Posting>& batch, std::map<std::string, Account> accounts,
                    const std::vector<Row>& found) {
  const size_t n = batch.size();
  BatchPlan plan;
  plan.answers.assign(n, absl::UnknownError("not decided"));
  plan.same_as.assign(n, std::nullopt);
  std::map<std::string, size_t> first_with_id;
  for (size_t i = 0; i < n; ++i) {
    const Posting& p = batch[i];
    if (auto it = first_with_id.find(p.request_id); it != first_with_id.end()) {
      plan.same_as[i] = it->second;
      continue;
    }
    first_with_id[p.request_id] = i;
    if (auto recorded = RecordedAnswer(found[i], p)) {
      plan.answers[i] = *std::move(recorded);
      continue;
    }
    auto account = accounts.find(p.account_id);
    if (account == accounts.end()) {
      plan.refusals.push_back({i, AccountNotFound(p.account_id)});
      continue;
    }
    absl::StatusOr<Movement> movement = p.decide(PostingContext{account->second, nullptr, false});
    if (!movement.ok()) {
      if (IsRecordedRefusal(movement.status())) {
        plan.refusals.push_back({i, movement.status()});
      } else {
        plan.answers[i] = movement.status();  // Not an answer to record: nothing written.
      }
      continue;
    }
    const int64_t delta = movement->direction * movement->amount_minor;
    Account& a = account->second;
    a.balance_minor += delta;
    a.owed_minor += movement->owed_added_minor - movement->owed_repaid_minor;
    if (delta != 0) a.currency_locked = true;
    plan.writes.push_back({i, movement->amount_minor, a.balance_minor, delta,
                           movement->owed_added_minor, movement->owed_repaid_minor});
    if (const int64_t repaid = movement->owed_repaid_minor; repaid > 0) {
      a.balance_minor -= repaid;
      plan.writes.push_back({i, repaid, a.balance_minor, -repaid, 0, 0, /*repayment=*/true});
    }
  }
  return plan;
}

// insert_refusal's parameters for each refusal, and write_transfers'
// twelve arrays for the writes (empty when there is none).
std::vector<std::vector<std::optional<std::string>>> RefusalParams(
    const std::vector<Posting>& batch, const BatchPlan& plan);
std::vector<std::optional<std::string>> WriteTransfersParams(const std::vector<Posting>& batch,
                                                             const BatchPlan& plan);

// The answers once the writes are in: `written[k]` is write k's transfer id
// and create time (write_transfers' rows by ordinal); refusals become
// their recorded answers, and a repeated request id replays its first.
std::vector<absl::StatusOr<Transfer>> AnswerBatch(
    const std::vector<Posting>& batch, BatchPlan plan,
    const std::vector<std::pair<std::string, int64_t>>& written);

// The conflict a batch is rerun for: a request id decided meanwhile.
absl::Status DecidedConcurrently();

}  // namespace giftcard::account_credit

#endif  // GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_LEDGER_BATCH_H_

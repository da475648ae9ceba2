// account-credit's batch posting, shared by the blocking store
// (PgLedgerStore, libpqxx) and the engine's (LoopLedgerStore, pipelined
// libpq): the statements, rows to values for either kind of row (a
// pqxx::row or a pg::TextRow), and the plan that decides a batch's
// postings on their locked accounts.
#ifndef GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_LEDGER_SQL_H_
#define GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_LEDGER_SQL_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "errors/status.h"
#include "pg/pool.h"
#include "pg/text_row.h"
#include "services/account_credit/domain/ledger_store.h"
#include "services/account_credit/domain/model.h"

namespace giftcard::account_credit {

using pg::Micros;

inline const std::string& AccountColumns() {
  static const auto* cols = new std::string(absl::StrCat(
      "account_id, country, currency_code, billing_channel, balance_minor, ", Micros("create_time"),
      ", ", Micros("update_time"), ", closed, currency_locked, owed_minor"));
  return *cols;
}

// The columns TransferFromRow reads, from a table aliased `t`.
inline const std::string& TransferColumns() {
  static const auto* cols = new std::string(absl::StrCat(
      "t.request_fingerprint, t.transfer_id::text, t.kind, t.account_id, t.currency_code, "
      "t.amount_minor, t.balance_after_minor, coalesce(t.reverses_transfer_id::text, ''), ",
      Micros("t.create_time"),
      ", t.request_id, t.counter_account_id, coalesce(t.owed_added_minor, 0), "
      "t.owed_repaid_minor, t.reference"));
  return *cols;
}

// Index of the refusal's columns after the transfer's in ac_find_request.
inline constexpr int kRefusalColumn = 14;
// ac_find_request_lock_account: the account's columns follow the refusal's.
inline constexpr int kAccountColumn = kRefusalColumn + 4;

template <typename Row>
Account AccountFromRow(const Row& row) {
  Account a;
  a.account_id = pg::Text(row[0]);
  a.country = pg::Text(row[1]);
  a.currency_code = pg::Text(row[2]);
  a.billing_channel =
      BillingChannelFromName(pg::Text(row[3])).value_or(BillingChannel::kUnspecified);
  a.balance_minor = pg::Int64(row[4]);
  a.create_time = absl::FromUnixMicros(pg::Int64(row[5]));
  a.update_time = absl::FromUnixMicros(pg::Int64(row[6]));
  a.closed = pg::Bool(row[7]);
  a.currency_locked = pg::Bool(row[8]);
  a.owed_minor = pg::Int64(row[9]);
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

template <typename Row>
Transfer TransferFromRow(const Row& row) {
  Transfer t;
  t.transfer_id = pg::Text(row[1]);
  t.kind = KindFromName(pg::Text(row[2]));
  t.account_id = pg::Text(row[3]);
  t.amount = {pg::Text(row[4]), pg::Int64(row[5])};
  t.reverses_transfer_id = pg::Text(row[7]);
  t.create_time = absl::FromUnixMicros(pg::Int64(row[8]));
  t.request_id = pg::Text(row[9]);
  t.counter_account_id = pg::Text(row[10]);
  t.owed_added_minor = pg::Int64(row[11]);
  t.owed_repaid_minor = pg::Int64(row[12]);
  t.reference = pg::Text(row[13]);
  // The row keeps the balance its own entry left; the caller is answered
  // the balance after the posting, its repayment included.
  t.balance_after_minor = pg::Int64(row[6]) - t.owed_repaid_minor;
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

// A replay: the same request_id must carry the same request.
template <typename Row>
absl::StatusOr<Transfer> Replay(const Row& row, const Posting& posting) {
  if (pg::Text(row[0]) != posting.request_fingerprint) return Reused(posting);
  return TransferFromRow(row);
}

// The domain's refusals that become the request's recorded answer (a failed
// precondition, an unknown account or transfer), as opposed to failures to
// answer it, which write nothing.
inline bool IsRecordedRefusal(const absl::Status& status) {
  return status.code() == absl::StatusCode::kFailedPrecondition ||
         status.code() == absl::StatusCode::kNotFound;
}

// ac_insert_refusal, ac_lock_accounts, ac_find_requests,
// ac_write_transfers: see ledger_sql.cc. The *OrFail forms fail the
// statement (a unique violation: ABORTED/CONFLICT) on a request id another
// transaction decided, where the others leave its row out.
extern const pg::Statement kInsertRefusal;
extern const pg::Statement kInsertRefusalOrFail;
extern const pg::Statement kLockAccounts;
extern const pg::Statement kFindRequests;
extern const pg::Statement kWriteTransfers;
extern const pg::Statement kWriteTransfersOrFail;

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

// The batch's account ids, sorted and distinct (ac_lock_accounts' order),
// and its request ids in order (ac_find_requests').
std::vector<std::string> AccountIdsOf(const std::vector<Posting>& batch);
std::vector<std::string> RequestIdsOf(const std::vector<Posting>& batch);

// Decides each posting in order, on the balance the earlier ones left.
// `found[i]`: ac_find_requests' row of posting i without its index.
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
    const Row& decided = found[i];
    if (!decided[0].is_null()) {
      plan.answers[i] = Replay(decided, p);
      continue;
    }
    if (!decided[kRefusalColumn].is_null()) {
      plan.answers[i] =
          pg::Text(decided[kRefusalColumn]) != p.request_fingerprint
              ? Reused(p)
              : errors::MarkRecordedDecision(errors::Error(
                    static_cast<absl::StatusCode>(pg::Int32(decided[kRefusalColumn + 1])),
                    pg::Text(decided[kRefusalColumn + 2]), pg::Text(decided[kRefusalColumn + 3])));
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

// ac_insert_refusal's parameters for each refusal, and ac_write_transfers'
// twelve arrays for the writes (empty when there is none).
std::vector<std::vector<std::optional<std::string>>> RefusalParams(
    const std::vector<Posting>& batch, const BatchPlan& plan);
std::vector<std::optional<std::string>> WriteTransfersParams(const std::vector<Posting>& batch,
                                                             const BatchPlan& plan);

// The answers once the writes are in: `written[k]` is write k's transfer id
// and create time (ac_write_transfers' rows by ordinal); refusals become
// their recorded answers, and a repeated request id replays its first.
std::vector<absl::StatusOr<Transfer>> AnswerBatch(
    const std::vector<Posting>& batch, BatchPlan plan,
    const std::vector<std::pair<std::string, int64_t>>& written);

// The conflict a batch is rerun for: a request id decided meanwhile.
absl::Status DecidedConcurrently();

}  // namespace giftcard::account_credit

#endif  // GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_LEDGER_SQL_H_

#include "services/account_credit/storage/pg_ledger_store.h"

#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "errors/macros.h"
#include "errors/status.h"
#include "services/account_credit/storage/ledger_batch.h"
#include "validate/validate.h"

namespace giftcard::account_credit {
namespace {

// Credits are redemptions and debits invoices; a reversal gives an invoice
// its credit back, or (of a credit) takes a redemption's back; a repayment
// pays what a clawback left owed.
EntryKind EntryKindOf(const std::string& transfer_kind, const std::string& reversed_kind) {
  if (transfer_kind == "DEBIT") return EntryKind::kInvoice;
  if (transfer_kind == "REPAYMENT") return EntryKind::kOwedRepayment;
  if (transfer_kind == "REVERSAL") {
    return reversed_kind == "CREDIT" ? EntryKind::kClawback : EntryKind::kInvoiceReversal;
  }
  return EntryKind::kRedemption;
}

// One posting in a transaction of its own (a reversal, or a posting alone):
// replay what its request id decided, or decide it on the locked account
// and write the transfer; a definite refusal is recorded (refusal()). The
// first lookup ran in a snapshot taken before the account lock was
// granted: a concurrent call with this request id may have decided since.
// The decisions row settles it; the loser is rerun and replays.
class SinglePosting {
 public:
  SinglePosting(pqxx::work& tx, const Posting& posting)
      : tx_(tx),
        posting_(posting),
        account_id_(posting.account_id),
        counter_account_id_(posting.counter_account_id),
        currency_code_(posting.currency_code) {}

  absl::Status Run(Transfer& out) {
    // 1. Replays: a transfer or a refusal already recorded under this id.
    // A credit or debit names its account: lock it in the same round trip.
    const pqxx::row first = is_reversal()
                                ? tx_.exec_prepared1(sql::kFindRequest.name, posting_.request_id)
                                : tx_.exec_prepared1(sql::kFindRequestLockAccount.name,
                                                     posting_.request_id, posting_.account_id);
    if (auto recorded = RecordedAnswer(first, posting_)) {
      if (!recorded->ok()) return recorded->status();
      out = **recorded;
      return absl::OkStatus();
    }
    // 2. The transfer a reversal reverses decides the accounts and currency.
    if (is_reversal()) {
      if (absl::Status s = FindOriginal(); !s.ok() || !refusal_.ok()) return s;
    }
    // 3. The rules, on the locked account.
    std::optional<Account> locked;
    if (!is_reversal()) {
      if (!pg::NamedRow(first, "locked_")["account_id"].is_null()) {
        locked = AccountFromRow(first, "locked_");
      }
    } else if (pqxx::result r = tx_.exec_prepared(sql::kLockAccount.name, account_id_);
               !r.empty()) {
      locked = AccountFromRow(r[0]);
    }
    if (!locked) return Refuse(AccountNotFound(account_id_));
    absl::StatusOr<Movement> movement = posting_.decide(
        PostingContext{*locked, original_ ? &*original_ : nullptr, original_reversed_});
    if (!movement.ok()) {
      if (IsRecordedRefusal(movement.status())) return Refuse(movement.status());
      return movement.status();
    }
    // 4. The transfer, its entries, the balance; then its repayment.
    return Write(*locked, *movement, out);
  }

  const absl::Status& refusal() const { return refusal_; }

 private:
  bool is_reversal() const { return !posting_.reverses_transfer_id.empty(); }

  absl::Status Refuse(absl::Status why) {
    refusal_ = std::move(why);
    // A request id decided meanwhile fails the statement: ABORTED, rerun.
    tx_.exec_prepared(sql::kInsertRefusal.name, posting_.request_id, posting_.request_fingerprint,
                      static_cast<int>(refusal_.code()), errors::ReasonOf(refusal_),
                      std::string(refusal_.message()));
    return absl::OkStatus();
  }

  absl::Status FindOriginal() {
    pqxx::result found =
        validate::IsUuid(posting_.reverses_transfer_id)
            ? tx_.exec_prepared(sql::kTransferById.name, posting_.reverses_transfer_id)
            : pqxx::result();
    if (found.empty()) {
      return Refuse(errors::Error(absl::StatusCode::kNotFound, errors::reason::kTransferNotFound,
                                  "no such transfer",
                                  {{"transfer_id", posting_.reverses_transfer_id}}));
    }
    original_ = TransferFromRow(found[0]);
    original_reversed_ = !tx_.exec_prepared(sql::kReversalOf.name, original_->transfer_id).empty();
    account_id_ = original_->account_id;
    counter_account_id_ = original_->counter_account_id;
    currency_code_ = original_->amount.currency_code;
    return absl::OkStatus();
  }

  absl::Status Write(const Account& account, const Movement& movement, Transfer& out) {
    const int64_t delta = movement.direction * movement.amount_minor;
    const int64_t balance_after = account.balance_minor + delta;
    pqxx::result inserted = tx_.exec_prepared(
        sql::kWriteTransfer.name, posting_.request_id, posting_.request_fingerprint,
        KindName(posting_.kind), account_id_, counter_account_id_, currency_code_,
        movement.amount_minor, balance_after, posting_.reference, posting_.reverses_transfer_id,
        delta, movement.owed_added_minor, movement.owed_repaid_minor);
    if (inserted.empty()) return DecidedConcurrently();
    // The part that paid what the account owed goes back where the
    // clawed-back credit came from.
    if (const int64_t repaid = movement.owed_repaid_minor; repaid > 0) {
      Posting credit = posting_;
      credit.currency_code = currency_code_;
      credit.account_id = account_id_;
      const Posting r = RepaymentOf(credit, original_ ? original_->reference : posting_.reference);
      if (tx_.exec_prepared(sql::kWriteTransfer.name, r.request_id, r.request_fingerprint,
                            KindName(r.kind), account_id_, r.counter_account_id, currency_code_,
                            repaid, balance_after - repaid, r.reference, std::string(), -repaid,
                            int64_t{0}, int64_t{0})
              .empty()) {
        return DecidedConcurrently();
      }
    }
    out.transfer_id = inserted[0]["transfer_id"].as<std::string>();
    out.request_id = posting_.request_id;
    out.kind = posting_.kind;
    out.account_id = account_id_;
    out.counter_account_id = counter_account_id_;
    out.amount = {currency_code_, movement.amount_minor};
    out.balance_after_minor = balance_after - movement.owed_repaid_minor;
    out.owed_added_minor = movement.owed_added_minor;
    out.owed_repaid_minor = movement.owed_repaid_minor;
    out.reverses_transfer_id = posting_.reverses_transfer_id;
    out.reference = posting_.reference;
    out.create_time = absl::FromUnixMicros(inserted[0]["create_time_us"].as<int64_t>());
    return absl::OkStatus();
  }

  pqxx::work& tx_;
  const Posting& posting_;
  std::string account_id_, counter_account_id_, currency_code_;
  std::optional<Transfer> original_;
  bool original_reversed_ = false;
  absl::Status refusal_;  // Recorded as the request's answer.
};

}  // namespace

std::vector<pg::Statement> PgLedgerStore::Statements() {
  return {sql::kUpsertAccount,          sql::kGetAccount,    sql::kLockAccount, sql::kFindRequest,
          sql::kFindRequestLockAccount, sql::kTransferById,  sql::kReversalOf,  sql::kInsertRefusal,
          sql::kWriteTransfer,          sql::kAccountExists, sql::kListEntries, sql::kLockAccounts,
          sql::kFindRequests,           sql::kWriteTransfers};
}

absl::StatusOr<Account> PgLedgerStore::UpsertAccount(const Account& account,
                                                     std::optional<bool> closed) {
  Account out;
  absl::Status s = pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_prepared(sql::kUpsertAccount.name, account.account_id, account.country,
                                      account.currency_code,
                                      BillingChannelName(account.billing_channel), closed);
    if (r.empty()) {
      return errors::Error(absl::StatusCode::kFailedPrecondition, errors::reason::kCurrencyLocked,
                           "the currency of an account with ledger entries cannot change",
                           {{"account_id", account.account_id}});
    }
    out = AccountFromRow(r[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<Account> PgLedgerStore::GetAccount(const std::string& account_id) {
  Account out;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    pqxx::result r = tx.exec_prepared(sql::kGetAccount.name, account_id);
    if (r.empty()) return AccountNotFound(account_id);
    out = AccountFromRow(r[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

PgLedgerStore::PgLedgerStore(pg::Pool& pool, Options options)
    : pool_(pool),
      options_(options),
      postings_([this](const std::vector<Posting>& batch) { return PostBatch(batch); },
                {.max_batch = options.max_batch,
                 .max_in_flight = options.batches_in_flight,
                 .on_batch = batch::SizeObserver("ac_post")},
                [] {
                  // A stalled database held the batch before this one.
                  return absl::StatusOr<Transfer>(errors::DependencyUnavailable(
                      "postgres",
                      "the call's deadline passed while it waited for a batch; nothing was "
                      "written"));
                }) {}

absl::StatusOr<Transfer> PgLedgerStore::Post(const Posting& posting) {
  // A reversal decides its accounts from the transfer it reverses: alone.
  if (!posting.reverses_transfer_id.empty() || options_.max_batch <= 1) return PostOne(posting);
  return postings_.Run(posting);
}

std::vector<absl::StatusOr<Transfer>> PgLedgerStore::PostAll(const std::vector<Posting>& postings) {
  std::vector<absl::StatusOr<Transfer>> out;
  out.reserve(postings.size());
  std::vector<Posting> chunk;
  auto flush = [&] {
    for (auto& answer : PostBatch(chunk)) out.push_back(std::move(answer));
    chunk.clear();
  };
  for (const Posting& p : postings) {
    if (!p.reverses_transfer_id.empty()) {
      if (!chunk.empty()) flush();
      out.push_back(PostOne(p));
      continue;
    }
    chunk.push_back(p);
    if (chunk.size() >= std::max<size_t>(1, options_.max_batch)) flush();
  }
  if (!chunk.empty()) flush();
  return out;
}

std::vector<absl::StatusOr<Transfer>> PgLedgerStore::PostBatch(const std::vector<Posting>& batch) {
  // Alone: the statements of a single posting, no arrays.
  if (batch.size() == 1) return {PostOne(batch[0])};
  const size_t n = batch.size();
  std::vector<absl::StatusOr<Transfer>> answers;
  absl::Status s = pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    // 1. The accounts, locked; from here on the batch owns their balances.
    std::map<std::string, Account> accounts;
    for (const auto& row :
         tx.exec_prepared(sql::kLockAccounts.name, pg::TextArray(AccountIdsOf(batch)))) {
      Account a = AccountFromRow(row);
      accounts[a.account_id] = a;
    }
    // 2. What each request id decided before; read after the locks, so a
    // posting to the same account that committed meanwhile is seen.
    const pqxx::result found =
        tx.exec_prepared(sql::kFindRequests.name, pg::TextArray(RequestIdsOf(batch)));
    if (found.size() != n) return absl::InternalError("find_requests lost a row");
    std::vector<pqxx::row> decided(found.begin(), found.end());
    // 3. Each posting decided in order, on the balance the earlier ones left.
    BatchPlan plan = PlanBatch(batch, std::move(accounts), decided);
    // 4. The refusals, then every transfer, its entries and the balances in
    // one statement. A request id decided by another transaction since
    // step 2 fails its statement (ABORTED): the batch reruns and replays it.
    for (const auto& r : RefusalParams(batch, plan)) {
      tx.exec_prepared(sql::kInsertRefusal.name, *r[0], *r[1], std::stoi(*r[2]), *r[3], *r[4]);
    }
    std::vector<std::pair<std::string, int64_t>> written(plan.writes.size());
    if (!plan.writes.empty()) {
      const std::vector<std::optional<std::string>> w = WriteTransfersParams(batch, plan);
      const pqxx::result rows =
          tx.exec_prepared(sql::kWriteTransfers.name, *w[0], *w[1], *w[2], *w[3], *w[4], *w[5],
                           *w[6], *w[7], *w[8], *w[9], *w[10], *w[11]);
      if (rows.size() != plan.writes.size()) {
        return absl::InternalError("write_transfers answered another number of rows");
      }
      // Answered by the write's ordinal (1-based), never by its request id.
      for (const auto& row : rows) {
        const size_t ord = row["ordinal"].as<size_t>();
        if (ord < 1 || ord > plan.writes.size()) {
          return absl::InternalError("write_transfers ordinal");
        }
        written[ord - 1] = {row["transfer_id"].as<std::string>(),
                            row["create_time_us"].as<int64_t>()};
      }
    }
    answers = AnswerBatch(batch, std::move(plan), written);
    return absl::OkStatus();
  });
  if (!s.ok()) return std::vector<absl::StatusOr<Transfer>>(n, s);
  return answers;
}

absl::StatusOr<Transfer> PgLedgerStore::PostOne(const Posting& posting) {
  Transfer out;
  absl::Status refusal;  // A definite refusal, committed as the request's answer.
  absl::Status s = pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    SinglePosting one(tx, posting);
    absl::Status run = one.Run(out);
    refusal = one.refusal();
    return run;
  });
  if (!s.ok()) return s;
  // Committed (or replayed) under the request id: the request's final answer.
  if (!refusal.ok()) return errors::MarkRecordedDecision(refusal);
  return out;
}

absl::StatusOr<EntryPage> PgLedgerStore::ListEntries(const std::string& account_id,
                                                     int64_t before_entry_id, int limit,
                                                     const TimeRange& range) {
  auto micros = [](const std::optional<absl::Time>& t) -> std::optional<int64_t> {
    if (!t) return std::nullopt;
    return absl::ToUnixMicros(*t);
  };
  EntryPage out;
  pg::Pool& pool = options_.standby != nullptr ? *options_.standby : pool_;
  absl::Status s = pool.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    out = EntryPage{};
    if (!IsSystemAccount(account_id) &&
        tx.exec_prepared(sql::kAccountExists.name, account_id).empty()) {
      return AccountNotFound(account_id);
    }
    for (const auto& row : tx.exec_prepared(sql::kListEntries.name, account_id, before_entry_id,
                                            limit + 1, micros(range.start), micros(range.end))) {
      if (static_cast<int>(out.entries.size()) == limit) {
        out.more = true;
        break;
      }
      LedgerEntry e;
      e.entry_id = row["entry_id"].as<int64_t>();
      e.transfer_id = row["transfer_id"].as<std::string>();
      e.account_id = row["account_id"].as<std::string>();
      e.amount = {row["currency_code"].as<std::string>(), row["amount_minor"].as<int64_t>()};
      e.create_time = absl::FromUnixMicros(row["create_time_us"].as<int64_t>());
      e.kind = EntryKindOf(row["kind"].as<std::string>(), row["reversed_kind"].as<std::string>());
      e.reference = row["reference"].as<std::string>();
      if (!row["balance_after_minor"].is_null()) {
        e.balance_after_minor = row["balance_after_minor"].as<int64_t>();
      }
      out.entries.push_back(std::move(e));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace giftcard::account_credit

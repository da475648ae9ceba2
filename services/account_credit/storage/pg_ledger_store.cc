#include "services/account_credit/storage/pg_ledger_store.h"

#include <algorithm>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "errors/macros.h"
#include "errors/status.h"
#include "services/account_credit/storage/ledger_sql.h"
#include "validate/validate.h"

namespace giftcard::account_credit {
namespace {

using pg::Micros;

// The statements, each named once: the name prepares and executes it.
// ON CONFLICT's WHERE sees the row as locked, after any posting that
// set the currency lock has committed. $5 NULL keeps the state.
const pg::Statement kUpsertAccount{
    "ac_upsert_account",
    "INSERT INTO accounts AS a (account_id, country, currency_code, billing_channel, closed) "
    "VALUES ($1, $2, $3, $4, coalesce($5::boolean, false)) ON CONFLICT (account_id) DO UPDATE "
    "SET country = EXCLUDED.country, currency_code = EXCLUDED.currency_code, "
    "billing_channel = EXCLUDED.billing_channel, closed = coalesce($5::boolean, a.closed), "
    "update_time = now() "
    "WHERE NOT a.currency_locked OR a.currency_code = EXCLUDED.currency_code "
    "RETURNING " +
        AccountColumns()};
const pg::Statement kGetAccount{
    "ac_get_account", "SELECT " + AccountColumns() + " FROM accounts WHERE account_id = $1"};
const pg::Statement kLockAccount{
    "ac_lock_account",
    "SELECT " + AccountColumns() + " FROM accounts WHERE account_id = $1 FOR UPDATE"};
// Whatever a request_id already decided, a transfer or a refusal, in
// one round trip.
const pg::Statement kFindRequest{"ac_find_request",
                                 "SELECT " + TransferColumns() +
                                     ", r.request_fingerprint, r.code, r.reason, r.message "
                                     "FROM (SELECT $1::text AS request_id) q "
                                     "LEFT JOIN transfers t ON t.request_id = q.request_id "
                                     "LEFT JOIN refusals r ON r.request_id = q.request_id"};
// The same, and the account of a credit or debit locked for the
// posting, in one round trip (its columns are null when there is no
// such account).
const pg::Statement kFindRequestLockAccount{
    "ac_find_request_lock_account",
    "SELECT " + TransferColumns() +
        ", r.request_fingerprint, r.code, r.reason, r.message, a.* "
        "FROM (SELECT $1::text AS request_id) q "
        "LEFT JOIN transfers t ON t.request_id = q.request_id "
        "LEFT JOIN refusals r ON r.request_id = q.request_id "
        "LEFT JOIN LATERAL (SELECT " +
        AccountColumns() + " FROM accounts WHERE account_id = $2 FOR UPDATE) a ON true"};
const pg::Statement kTransferById{
    "ac_transfer_by_id",
    "SELECT " + TransferColumns() + " FROM transfers t WHERE transfer_id = $1::uuid"};
const pg::Statement kReversalOf{"ac_reversal_of",
                                "SELECT 1 FROM transfers WHERE reverses_transfer_id = $1::uuid"};
// The transfer, its two entries, the new balance and owed amount in one
// statement (one round trip). $11 is the signed change for the customer; a
// transfer of 0 has no entries. $12/$13: what it adds to and repays of the
// account's owed amount (a repayment's money moves in its own transfer). When the request_id is
// decided already (a concurrent call's transfer or refusal), nothing is written and no row comes
// back. The first entry locks the account's currency.
const pg::Statement kWriteTransfer{
    "ac_write_transfer",
    "WITH d AS (INSERT INTO decisions (request_id, kind) VALUES ($1, 'TRANSFER')"
    " ON CONFLICT (request_id) DO NOTHING RETURNING request_id), "
    "t AS ("
    " INSERT INTO transfers (request_id, request_fingerprint, kind, account_id,"
    "   counter_account_id, currency_code, amount_minor, balance_after_minor, reference,"
    "   reverses_transfer_id, owed_added_minor, owed_repaid_minor)"
    " SELECT d.request_id, $2, $3, $4, $5, $6, $7, $8, $9, nullif($10, '')::uuid, $12::bigint,"
    " $13::bigint"
    " FROM d"
    " RETURNING transfer_id, create_time), "
    "e AS ("
    " INSERT INTO ledger_entries (account_id, transfer_id, currency_code, amount_minor)"
    " SELECT v.account_id, t.transfer_id, $6, v.amount"
    " FROM t, (VALUES ($4, $11::bigint), ($5, -$11::bigint)) AS v(account_id, amount)"
    " WHERE $11::bigint <> 0), "
    "b AS ("
    " UPDATE accounts SET balance_minor = balance_minor + $11::bigint,"
    "   owed_minor = owed_minor + $12::bigint - $13::bigint, currency_locked = true,"
    "   update_time = now()"
    " WHERE account_id = $4 AND ($11::bigint <> 0 OR $12::bigint <> 0 OR $13::bigint <> 0)"
    " AND EXISTS (SELECT 1 FROM t)) "
    "SELECT transfer_id::text, " +
        Micros("create_time") + " FROM t"};
const pg::Statement kAccountExists{"ac_account_exists",
                                   "SELECT 1 FROM accounts WHERE account_id = $1"};
// A statement's lines: each entry with its transfer's kind (a reversal's
// with its original's too), its reference (a reversal's is its original's:
// the invoice id) and, on the transfer's own account, the
// balance the transfer left. Entries of one account are written under its
// row lock, so their ids run in the order of those balances. $4/$5: the
// time range in microseconds since the epoch, NULL for unbounded.
const pg::Statement kListEntries{
    "ac_list_entries",
    "SELECT e.entry_id, e.transfer_id::text, e.account_id, e.currency_code, e.amount_minor, " +
        Micros("e.create_time") +
        ", t.kind, COALESCE(o.kind, ''), "
        "CASE WHEN t.kind = 'REVERSAL' THEN COALESCE(o.reference, '') ELSE t.reference END, "
        "CASE WHEN t.account_id = e.account_id THEN t.balance_after_minor END "
        "FROM ledger_entries e JOIN transfers t ON t.transfer_id = e.transfer_id "
        "LEFT JOIN transfers o ON o.transfer_id = t.reverses_transfer_id "
        "WHERE e.account_id = $1 AND ($2 = 0 OR e.entry_id < $2) "
        "AND ($4::bigint IS NULL OR e.create_time >= to_timestamp($4::bigint / 1e6)) "
        "AND ($5::bigint IS NULL OR e.create_time < to_timestamp($5::bigint / 1e6)) "
        "ORDER BY e.entry_id DESC LIMIT $3"};

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

}  // namespace

std::vector<pg::Statement> PgLedgerStore::Statements() {
  return {kUpsertAccount, kGetAccount,   kLockAccount,   kFindRequest,   kFindRequestLockAccount,
          kTransferById,  kReversalOf,   kInsertRefusal, kWriteTransfer, kAccountExists,
          kListEntries,   kLockAccounts, kFindRequests,  kWriteTransfers};
}

absl::StatusOr<Account> PgLedgerStore::UpsertAccount(const Account& account,
                                                     std::optional<bool> closed) {
  Account out;
  absl::Status s = pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_prepared(kUpsertAccount.name, account.account_id, account.country,
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
    pqxx::result r = tx.exec_prepared(kGetAccount.name, account_id);
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
         tx.exec_prepared(kLockAccounts.name, pg::TextArray(AccountIdsOf(batch)))) {
      Account a = AccountFromRow(row);
      accounts[a.account_id] = a;
    }
    // 2. What each request id decided before; read after the locks, so a
    // posting to the same account that committed meanwhile is seen.
    const pqxx::result found =
        tx.exec_prepared(kFindRequests.name, pg::TextArray(RequestIdsOf(batch)));
    if (found.size() != n) return absl::InternalError("ac_find_requests lost a row");
    std::vector<pqxx::row> decided;
    for (const auto& row : found) decided.push_back(row.slice(1, row.size()));
    // 3. Each posting decided in order, on the balance the earlier ones left.
    BatchPlan plan = PlanBatch(batch, std::move(accounts), decided);
    // 4. The refusals, then every transfer, its entries and the balances in
    // one statement. A request id decided by another transaction since
    // step 2: rerun the batch, which then replays it.
    for (const auto& r : RefusalParams(batch, plan)) {
      if (tx.exec_prepared(kInsertRefusal.name, *r[0], *r[1], std::stoi(*r[2]), *r[3], *r[4])
              .empty()) {
        return DecidedConcurrently();
      }
    }
    std::vector<std::pair<std::string, int64_t>> written(plan.writes.size());
    if (!plan.writes.empty()) {
      const std::vector<std::optional<std::string>> w = WriteTransfersParams(batch, plan);
      const pqxx::result rows =
          tx.exec_prepared(kWriteTransfers.name, *w[0], *w[1], *w[2], *w[3], *w[4], *w[5], *w[6],
                           *w[7], *w[8], *w[9], *w[10], *w[11]);
      if (rows.size() != plan.writes.size()) return DecidedConcurrently();
      // Answered by the write's ordinal (1-based), never by its request id.
      for (const auto& row : rows) {
        const size_t ord = row[0].as<size_t>();
        if (ord < 1 || ord > plan.writes.size()) {
          return absl::InternalError("ac_write_transfers ordinal");
        }
        written[ord - 1] = {row[1].as<std::string>(), row[2].as<int64_t>()};
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
    refusal = absl::OkStatus();
    // 1. Replays: a transfer or a refusal already recorded under this id.
    // A credit or debit names its account: lock it in the same round trip.
    const bool is_reversal = !posting.reverses_transfer_id.empty();
    const pqxx::row first = is_reversal ? tx.exec_prepared1(kFindRequest.name, posting.request_id)
                                        : tx.exec_prepared1(kFindRequestLockAccount.name,
                                                            posting.request_id, posting.account_id);
    if (!first[0].is_null()) {
      auto replay = Replay(first, posting);
      if (!replay.ok()) return replay.status();
      out = *replay;
      return absl::OkStatus();
    }
    if (!first[kRefusalColumn].is_null()) {
      if (first[kRefusalColumn].as<std::string>() != posting.request_fingerprint) {
        return Reused(posting);
      }
      refusal = errors::Error(static_cast<absl::StatusCode>(first[kRefusalColumn + 1].as<int>()),
                              first[kRefusalColumn + 2].as<std::string>(),
                              first[kRefusalColumn + 3].as<std::string>());
      return absl::OkStatus();
    }
    // The lookup above ran in a snapshot taken before the account lock
    // was granted: a concurrent call with this request id may have decided
    // since. The decisions row settles it; the loser is rerun and replays.
    auto decided_concurrently = [] {
      return errors::Error(absl::StatusCode::kAborted, errors::reason::kConflict,
                           "concurrent request with the same request_id; retry");
    };
    auto refuse = [&](absl::Status why) {
      refusal = std::move(why);
      if (tx.exec_prepared(kInsertRefusal.name, posting.request_id, posting.request_fingerprint,
                           static_cast<int>(refusal.code()), errors::ReasonOf(refusal),
                           std::string(refusal.message()))
              .empty()) {
        return decided_concurrently();
      }
      return absl::OkStatus();
    };

    // 2. The transfer a reversal reverses decides the accounts and currency.
    std::string account_id = posting.account_id;
    std::string counter_account_id = posting.counter_account_id;
    std::string currency_code = posting.currency_code;
    std::optional<Transfer> original;
    bool original_reversed = false;
    if (is_reversal) {
      pqxx::result found = validate::IsUuid(posting.reverses_transfer_id)
                               ? tx.exec_prepared(kTransferById.name, posting.reverses_transfer_id)
                               : pqxx::result();
      if (found.empty()) {
        return refuse(errors::Error(absl::StatusCode::kNotFound, errors::reason::kTransferNotFound,
                                    "no such transfer",
                                    {{"transfer_id", posting.reverses_transfer_id}}));
      }
      original = TransferFromRow(found[0]);
      original_reversed = !tx.exec_prepared(kReversalOf.name, original->transfer_id).empty();
      account_id = original->account_id;
      counter_account_id = original->counter_account_id;
      currency_code = original->amount.currency_code;
    }

    // 3. The rules, on the locked account.
    std::optional<Account> locked;
    if (!is_reversal) {
      if (!first[kAccountColumn].is_null()) {
        locked = AccountFromRow(first.slice(kAccountColumn, first.size()));
      }
    } else if (pqxx::result r = tx.exec_prepared(kLockAccount.name, account_id); !r.empty()) {
      locked = AccountFromRow(r[0]);
    }
    if (!locked) return refuse(AccountNotFound(account_id));
    const Account account = *locked;
    absl::StatusOr<Movement> movement =
        posting.decide(PostingContext{account, original ? &*original : nullptr, original_reversed});
    if (!movement.ok()) {
      if (IsRecordedRefusal(movement.status())) return refuse(movement.status());
      return movement.status();
    }
    const int64_t delta = movement->direction * movement->amount_minor;
    const int64_t balance_after = account.balance_minor + delta;

    // 4. The transfer, its entries, the balance.
    pqxx::result inserted = tx.exec_prepared(
        kWriteTransfer.name, posting.request_id, posting.request_fingerprint,
        KindName(posting.kind), account_id, counter_account_id, currency_code,
        movement->amount_minor, balance_after, posting.reference, posting.reverses_transfer_id,
        delta, movement->owed_added_minor, movement->owed_repaid_minor);
    if (inserted.empty()) return decided_concurrently();
    // 5. The part that paid what the account owed goes back where the
    // clawed-back credit came from.
    if (const int64_t repaid = movement->owed_repaid_minor; repaid > 0) {
      Posting credit = posting;
      credit.currency_code = currency_code;
      credit.account_id = account_id;
      const Posting r = RepaymentOf(credit, original ? original->reference : posting.reference);
      if (tx.exec_prepared(kWriteTransfer.name, r.request_id, r.request_fingerprint,
                           KindName(r.kind), account_id, r.counter_account_id, currency_code,
                           repaid, balance_after - repaid, r.reference, std::string(), -repaid,
                           int64_t{0}, int64_t{0})
              .empty()) {
        return decided_concurrently();
      }
    }
    const std::string transfer_id = inserted[0][0].as<std::string>();
    out.transfer_id = transfer_id;
    out.request_id = posting.request_id;
    out.kind = posting.kind;
    out.account_id = account_id;
    out.counter_account_id = counter_account_id;
    out.amount = {currency_code, movement->amount_minor};
    out.balance_after_minor = balance_after - movement->owed_repaid_minor;
    out.owed_added_minor = movement->owed_added_minor;
    out.owed_repaid_minor = movement->owed_repaid_minor;
    out.reverses_transfer_id = posting.reverses_transfer_id;
    out.reference = posting.reference;
    out.create_time = absl::FromUnixMicros(inserted[0][1].as<int64_t>());
    return absl::OkStatus();
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
    if (!IsSystemAccount(account_id) && tx.exec_prepared(kAccountExists.name, account_id).empty()) {
      return AccountNotFound(account_id);
    }
    for (const auto& row : tx.exec_prepared(kListEntries.name, account_id, before_entry_id,
                                            limit + 1, micros(range.start), micros(range.end))) {
      if (static_cast<int>(out.entries.size()) == limit) {
        out.more = true;
        break;
      }
      LedgerEntry e;
      e.entry_id = row[0].as<int64_t>();
      e.transfer_id = row[1].as<std::string>();
      e.account_id = row[2].as<std::string>();
      e.amount = {row[3].as<std::string>(), row[4].as<int64_t>()};
      e.create_time = absl::FromUnixMicros(row[5].as<int64_t>());
      e.kind = EntryKindOf(row[6].as<std::string>(), row[7].as<std::string>());
      e.reference = row[8].as<std::string>();
      if (!row[9].is_null()) e.balance_after_minor = row[9].as<int64_t>();
      out.entries.push_back(std::move(e));
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace giftcard::account_credit

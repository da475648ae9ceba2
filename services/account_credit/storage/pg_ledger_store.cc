#include "storage/pg_ledger_store.h"

#include "errors/status.h"

namespace giftcard::account_credit {
namespace {

constexpr char kAccountColumns[] =
    "account_id, country, currency_code, billing_channel, balance_minor, "
    "(extract(epoch FROM create_time) * 1000000)::bigint, "
    "(extract(epoch FROM update_time) * 1000000)::bigint";

constexpr char kTransferColumns[] =
    "request_fingerprint, transfer_id::text, kind, account_id, currency_code, amount_minor, "
    "balance_after_minor, coalesce(reverses_transfer_id::text, ''), "
    "(extract(epoch FROM create_time) * 1000000)::bigint";

Account AccountFromRow(const pqxx::row& row) {
  Account a;
  a.account_id = row[0].as<std::string>();
  a.country = row[1].as<std::string>();
  a.currency_code = row[2].as<std::string>();
  a.billing_channel =
      BillingChannelFromName(row[3].as<std::string>()).value_or(BillingChannel::kUnspecified);
  a.balance_minor = row[4].as<int64_t>();
  a.create_time = absl::FromUnixMicros(row[5].as<int64_t>());
  a.update_time = absl::FromUnixMicros(row[6].as<int64_t>());
  return a;
}

TransferKind KindFromName(const std::string& name) {
  if (name == "DEBIT") return TransferKind::kDebit;
  if (name == "REVERSAL") return TransferKind::kReversal;
  return TransferKind::kCredit;
}

const char* KindName(TransferKind kind) {
  switch (kind) {
    case TransferKind::kDebit:
      return "DEBIT";
    case TransferKind::kReversal:
      return "REVERSAL";
    case TransferKind::kCredit:
      break;
  }
  return "CREDIT";
}

// Columns of kTransferColumns, request_id given.
Transfer TransferFromRow(const pqxx::row& row, const std::string& request_id) {
  Transfer t;
  t.request_id = request_id;
  t.transfer_id = row[1].as<std::string>();
  t.kind = KindFromName(row[2].as<std::string>());
  t.account_id = row[3].as<std::string>();
  t.amount = {row[4].as<std::string>(), row[5].as<int64_t>()};
  t.balance_after_minor = row[6].as<int64_t>();
  t.reverses_transfer_id = row[7].as<std::string>();
  t.create_time = absl::FromUnixMicros(row[8].as<int64_t>());
  return t;
}

absl::Status AccountNotFound(const std::string& account_id) {
  return errors::Error(absl::StatusCode::kNotFound, errors::reason::kAccountNotFound,
                       "no such account", {{"account_id", account_id}});
}

absl::Status Reused(const Posting& posting) {
  return errors::Error(absl::StatusCode::kInvalidArgument, errors::reason::kRequestIdReused,
                       "request_id was already used for a different request",
                       {{"request_id", posting.request_id}});
}

// A replay: the same request_id must carry the same request.
absl::StatusOr<Transfer> Replay(const pqxx::row& row, const Posting& posting) {
  if (row[0].as<std::string>() != posting.request_fingerprint) return Reused(posting);
  return TransferFromRow(row, posting.request_id);
}

// Refusals that are the request's answer, not a failure to answer it.
bool IsDefiniteRefusal(const absl::Status& status) {
  return status.code() == absl::StatusCode::kFailedPrecondition ||
         status.code() == absl::StatusCode::kNotFound;
}

}  // namespace

std::vector<pg::Statement> PgLedgerStore::Statements() {
  using std::string;
  return {
      {"ac_upsert_account",
       string("INSERT INTO accounts AS a (account_id, country, currency_code, billing_channel) "
              "VALUES ($1, $2, $3, $4) ON CONFLICT (account_id) DO UPDATE SET "
              "country = EXCLUDED.country, currency_code = EXCLUDED.currency_code, "
              "billing_channel = EXCLUDED.billing_channel, update_time = now() "
              "WHERE a.balance_minor = 0 OR a.currency_code = EXCLUDED.currency_code "
              "RETURNING ") +
           kAccountColumns},
      {"ac_get_account",
       string("SELECT ") + kAccountColumns + " FROM accounts WHERE account_id = $1"},
      {"ac_lock_account",
       string("SELECT ") + kAccountColumns + " FROM accounts WHERE account_id = $1 FOR UPDATE"},
      {"ac_find_transfer",
       string("SELECT ") + kTransferColumns + " FROM transfers WHERE request_id = $1"},
      {"ac_insert_transfer",
       "INSERT INTO transfers (request_id, request_fingerprint, kind, account_id, "
       "counter_account_id, currency_code, amount_minor, balance_after_minor, reference) "
       "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (request_id) DO NOTHING "
       "RETURNING transfer_id::text, (extract(epoch FROM create_time) * 1000000)::bigint"},
      {"ac_insert_entries",
       "INSERT INTO ledger_entries (account_id, transfer_id, currency_code, amount_minor) "
       "VALUES ($1, $3::uuid, $4, $5), ($2, $3::uuid, $4, -$5::bigint)"},
      {"ac_find_refusal",
       "SELECT request_fingerprint, code, reason, message FROM refusals WHERE request_id = $1"},
      {"ac_insert_refusal",
       "INSERT INTO refusals (request_id, request_fingerprint, code, reason, message) "
       "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (request_id) DO NOTHING"},
      {"ac_update_balance",
       "UPDATE accounts SET balance_minor = balance_minor + $2, update_time = now() "
       "WHERE account_id = $1 RETURNING balance_minor"},
  };
}

absl::StatusOr<Account> PgLedgerStore::UpsertAccount(const Account& account) {
  Account out;
  absl::Status s = pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    pqxx::result r =
        tx.exec_prepared("ac_upsert_account", account.account_id, account.country,
                         account.currency_code, BillingChannelName(account.billing_channel));
    if (r.empty()) {
      return errors::Error(absl::StatusCode::kFailedPrecondition, "ACCOUNT_HAS_CREDIT",
                           "the currency of an account that holds credit cannot change",
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
  absl::Status s = pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    pqxx::result r = tx.exec_prepared("ac_get_account", account_id);
    if (r.empty()) return AccountNotFound(account_id);
    out = AccountFromRow(r[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<Transfer> PgLedgerStore::Post(const Posting& posting) {
  Transfer out;
  absl::Status refusal;  // A definite refusal, committed as such.
  absl::Status s = pool_.Transact([&](pqxx::work& tx) -> absl::Status {
    refusal = absl::OkStatus();
    pqxx::result existing = tx.exec_prepared("ac_find_transfer", posting.request_id);
    if (!existing.empty()) {
      auto replay = Replay(existing[0], posting);
      if (!replay.ok()) return replay.status();
      out = *replay;
      return absl::OkStatus();
    }
    pqxx::result refused = tx.exec_prepared("ac_find_refusal", posting.request_id);
    if (!refused.empty()) {
      if (refused[0][0].as<std::string>() != posting.request_fingerprint) return Reused(posting);
      refusal = errors::Error(static_cast<absl::StatusCode>(refused[0][1].as<int>()),
                              refused[0][2].as<std::string>(), refused[0][3].as<std::string>());
      return absl::OkStatus();
    }
    pqxx::result locked = tx.exec_prepared("ac_lock_account", posting.account_id);
    absl::StatusOr<int64_t> amount = locked.empty()
                                         ? absl::StatusOr<int64_t>(AccountNotFound(posting.account_id))
                                         : posting.decide(AccountFromRow(locked[0]));
    if (!amount.ok()) {
      if (!IsDefiniteRefusal(amount.status())) return amount.status();
      // Remember the refusal: the same request_id must get it again.
      refusal = amount.status();
      tx.exec_prepared("ac_insert_refusal", posting.request_id, posting.request_fingerprint,
                       static_cast<int>(refusal.code()), errors::ReasonOf(refusal),
                       std::string(refusal.message()));
      return absl::OkStatus();
    }
    const Account account = AccountFromRow(locked[0]);
    const int64_t delta = posting.direction * *amount;
    const int64_t balance_after = account.balance_minor + delta;

    pqxx::result inserted = tx.exec_prepared(
        "ac_insert_transfer", posting.request_id, posting.request_fingerprint,
        KindName(posting.kind), posting.account_id, posting.counter_account_id,
        posting.currency_code, *amount, balance_after, posting.reference);
    if (inserted.empty()) {
      // A concurrent call with the same request_id committed after our first
      // look; it is now visible, so answer as a replay.
      pqxx::result now = tx.exec_prepared("ac_find_transfer", posting.request_id);
      if (now.empty()) {
        return errors::Error(absl::StatusCode::kAborted, errors::reason::kConflict,
                             "concurrent request with the same request_id; retry");
      }
      auto replay = Replay(now[0], posting);
      if (!replay.ok()) return replay.status();
      out = *replay;
      return absl::OkStatus();
    }
    const std::string transfer_id = inserted[0][0].as<std::string>();
    if (*amount > 0) {
      tx.exec_prepared("ac_insert_entries", posting.account_id, posting.counter_account_id,
                       transfer_id, posting.currency_code, delta);
      tx.exec_prepared("ac_update_balance", posting.account_id, delta);
    }
    out.transfer_id = transfer_id;
    out.request_id = posting.request_id;
    out.kind = posting.kind;
    out.account_id = posting.account_id;
    out.amount = {posting.currency_code, *amount};
    out.balance_after_minor = balance_after;
    out.create_time = absl::FromUnixMicros(inserted[0][1].as<int64_t>());
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (!refusal.ok()) return refusal;
  return out;
}

}  // namespace giftcard::account_credit

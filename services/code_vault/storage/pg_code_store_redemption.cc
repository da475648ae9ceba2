// PgCodeStore's redemption: a code looked up and reserved with its PENDING
// redemption, then completed or rejected, and the recovery worker's claim
// on redemptions left PENDING. Concurrent calls go to Postgres as one
// statement per batch (the *_many statements).
#include <map>
#include <set>
#include <utility>

#include "errors/status.h"
#include "services/code_vault/storage/pg_code_store.h"
#include "services/code_vault/storage/rows.h"

namespace giftcard::code_vault {

absl::StatusOr<CodeLookup> PgCodeStore::Lookup(const std::vector<std::string>& code_hashes,
                                               const std::string& account_id,
                                               const std::string& request_id) {
  return lookups_.Run({code_hashes, account_id, request_id});
}

std::vector<absl::StatusOr<CodeLookup>> PgCodeStore::LookupBatch(
    const std::vector<ReserveRequest>& batch) {
  if (batch.size() == 1) {
    return {LookupOne(batch[0].code_hashes, batch[0].account_id, batch[0].request_id)};
  }
  const BatchParams params = ParamsOf(batch);
  std::vector<CodeLookup> found(batch.size());
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    const pqxx::result rows =
        tx.exec_prepared(sql::kLookupMany.name, params.account_ids, params.request_ids,
                         params.hash_items, params.hashes);
    if (rows.size() != batch.size()) return absl::InternalError("cv_lookup_many lost a row");
    for (size_t i = 0; i < batch.size(); ++i) {
      found[i] = CodeLookupFromRow(rows[static_cast<pqxx::result::size_type>(i)]);
    }
    return absl::OkStatus();
  });
  std::vector<absl::StatusOr<CodeLookup>> out;
  for (CodeLookup& l : found) {
    if (s.ok()) {
      out.push_back(std::move(l));
    } else {
      out.push_back(s);
    }
  }
  return out;
}

absl::StatusOr<CodeLookup> PgCodeStore::LookupOne(const std::vector<std::string>& code_hashes,
                                                  const std::string& account_id,
                                                  const std::string& request_id) {
  CodeLookup out;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    out = CodeLookupFromRow(
        tx.exec_prepared1(sql::kLookup.name, pg::ByteaArray(code_hashes), account_id, request_id));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<Reservation> PgCodeStore::Reserve(const ReserveRequest& request) {
  return reservations_.Run(request);
}

std::vector<absl::StatusOr<Reservation>> PgCodeStore::ReserveBatch(
    const std::vector<ReserveRequest>& batch) {
  if (batch.size() == 1) return {ReserveOne(batch[0])};
  // One (account, request id) twice in a batch: the later item must see the
  // earlier one's redemption as a call after it would (a replay, or
  // REQUEST_ID_REUSED for another code), so it runs after the batch, alone.
  std::vector<size_t> firsts, repeats;
  {
    std::set<std::pair<std::string, std::string>> seen;
    for (size_t i = 0; i < batch.size(); ++i) {
      (seen.insert({batch[i].account_id, batch[i].request_id}).second ? firsts : repeats)
          .push_back(i);
    }
  }
  if (!repeats.empty()) {
    std::vector<ReserveRequest> first_items;
    for (size_t i : firsts) first_items.push_back(batch[i]);
    std::vector<absl::StatusOr<Reservation>> first_answers = ReserveBatch(first_items);
    std::vector<absl::StatusOr<Reservation>> out(batch.size(), absl::InternalError("unanswered"));
    for (size_t k = 0; k < firsts.size(); ++k) out[firsts[k]] = std::move(first_answers[k]);
    for (size_t i : repeats) out[i] = ReserveOne(batch[i]);
    return out;
  }
  const BatchParams params = ParamsOf(batch);
  std::vector<Reservation> reservations(batch.size());
  bool request_id_taken = false;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    request_id_taken = false;
    pqxx::result rows;
    try {
      rows = tx.exec_prepared(sql::kReserveMany.name, params.account_ids, params.request_ids,
                              params.hash_items, params.hashes, params.principals);
    } catch (const pqxx::unique_violation&) {
      request_id_taken = true;  // Nothing changed; item by item below.
      return absl::OkStatus();
    }
    if (rows.size() != batch.size()) return absl::InternalError("cv_reserve_many lost a row");
    for (size_t i = 0; i < batch.size(); ++i) {
      reservations[i] = ReservationFromRow(rows[static_cast<pqxx::result::size_type>(i)]);
    }
    return absl::OkStatus();
  });
  std::vector<absl::StatusOr<Reservation>> out;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (request_id_taken) {
      out.push_back(ReserveOne(batch[i]));
    } else if (!s.ok()) {
      out.push_back(s);
    } else {
      out.push_back(std::move(reservations[i]));
    }
  }
  return out;
}

absl::StatusOr<Reservation> PgCodeStore::ReserveOne(const ReserveRequest& request) {
  Reservation out;
  const std::string hashes = pg::ByteaArray(request.code_hashes);
  // Each statement commits on its own: reserve is the one write, and it is
  // atomic by itself (the code and its PENDING redemption, or neither).
  // First calls, the common case, take one round trip.
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    out = Reservation{};
    pqxx::result reserved;
    try {
      reserved = tx.exec_prepared(sql::kReserve.name, hashes, request.account_id,
                                  request.request_id, request.principal);
    } catch (const pqxx::unique_violation&) {
      // (account_id, request_id) is taken, by an earlier call (its refusal
      // put the code back to ACTIVE) or a concurrent first call that has
      // committed: the statement changed nothing; that call is a replay.
      pqxx::result first =
          tx.exec_prepared(sql::kFindRedemption.name, request.account_id, request.request_id);
      if (first.empty()) return absl::InternalError("request id taken but not found");
      out.kind = Reservation::Kind::kReplay;
      out.redemption = RedemptionFromRow(first[0]);
      return absl::OkStatus();
    }
    if (reserved.size() != 1) return absl::InternalError("cv_reserve returned no row");
    out = ReservationFromRow(reserved[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<Redemption> PgCodeStore::Complete(const Redemption& redemption,
                                                 const std::string& transfer_id,
                                                 int64_t balance_after_minor) {
  return completions_.Run({redemption, transfer_id, balance_after_minor});
}

std::vector<absl::StatusOr<Redemption>> PgCodeStore::CompleteBatch(
    const std::vector<Completion>& batch) {
  std::vector<std::string> accounts, requests, transfers, balances;
  for (const Completion& c : batch) {
    accounts.push_back(c.redemption.account_id);
    requests.push_back(c.redemption.request_id);
    transfers.push_back(c.transfer_id);
    balances.push_back(std::to_string(c.balance_after_minor));
  }
  std::map<std::pair<std::string, std::string>, Redemption> settled;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    settled.clear();
    pqxx::result done =
        tx.exec_prepared(sql::kCompleteMany.name, pg::TextArray(accounts), pg::TextArray(requests),
                         pg::TextArray(transfers), pg::TextArray(balances));
    for (const auto& row : done) {
      Redemption r = RedemptionFromRow(row);
      settled[{r.account_id, r.request_id}] = std::move(r);
    }
    // Missing: no longer PENDING (a concurrent retry or the recovery worker
    // settled it first); answer with what it became.
    for (const Completion& c : batch) {
      const auto key = std::make_pair(c.redemption.account_id, c.redemption.request_id);
      if (settled.count(key)) continue;
      pqxx::result r = tx.exec_prepared(sql::kFindRedemption.name, key.first, key.second);
      if (!r.empty()) settled[key] = RedemptionFromRow(r[0]);
    }
    return absl::OkStatus();
  });
  std::vector<absl::StatusOr<Redemption>> out;
  for (const Completion& c : batch) {
    if (!s.ok()) {
      out.push_back(s);
      continue;
    }
    auto it = settled.find({c.redemption.account_id, c.redemption.request_id});
    if (it == settled.end()) {
      out.push_back(absl::InternalError("redemption vanished"));
    } else {
      out.push_back(it->second);
    }
  }
  return out;
}

absl::StatusOr<Redemption> PgCodeStore::Reject(const Redemption& redemption,
                                               const absl::Status& refusal) {
  Redemption out;
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    pqxx::result r = tx.exec_prepared(sql::kReject.name, redemption.account_id,
                                      redemption.request_id, static_cast<int>(refusal.code()),
                                      errors::ReasonOf(refusal), std::string(refusal.message()));
    // Empty: no longer PENDING (a concurrent retry or the recovery worker
    // settled it first); answer with what it became.
    if (r.empty()) {
      r = tx.exec_prepared(sql::kFindRedemption.name, redemption.account_id, redemption.request_id);
    }
    if (r.empty()) return absl::InternalError("redemption vanished");
    out = RedemptionFromRow(r[0]);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<Redemption>> PgCodeStore::ClaimPending(absl::Duration min_age,
                                                                  int limit) {
  std::vector<Redemption> out;
  // One statement: safe to rerun (a lost answer only delays those rows).
  absl::Status s = pool_.Autocommit([&](pqxx::transaction_base& tx) -> absl::Status {
    out.clear();
    for (const auto& row :
         tx.exec_prepared(sql::kClaimPending.name, absl::ToInt64Milliseconds(min_age), limit,
                          absl::ToInt64Milliseconds(kMaxRetryBackoff))) {
      out.push_back(RedemptionFromRow(row));
      out.back().attempts = pg::Int32(pg::NamedRow(row)["attempts"]);
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace giftcard::code_vault

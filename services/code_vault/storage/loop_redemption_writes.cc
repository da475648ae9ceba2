// LoopRedemptionStore's writes: reservations and completions, which share
// one stage so that a flight carries both in one transaction.
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "errors/status.h"
#include "pg/text_row.h"
#include "services/code_vault/storage/loop_redemption_store.h"
#include "services/code_vault/storage/rows.h"

namespace giftcard::code_vault {
namespace {

using Rows = pg::PipelineRows;
using Results = absl::StatusOr<std::vector<Rows>>;

// The reservation statement for a batch: cv_reserve for one, else
// cv_reserve_many. Either answers one row per item, in order.
pg::PipelineQuery ReserveQuery(const std::vector<ReserveRequest>& batch) {
  if (batch.size() == 1) {
    const ReserveRequest& r = batch.front();
    return {sql::kReserve.name,
            {pg::ByteaArray(r.code_hashes), r.account_id, r.request_id, r.principal}};
  }
  const BatchParams params = ParamsOf(batch);
  return {sql::kReserveMany.name,
          {params.account_ids, params.request_ids, params.hash_items, params.hashes,
           params.principals}};
}

std::vector<absl::StatusOr<Reservation>> ReservationsFromRows(size_t n, const Rows& rows) {
  if (rows.size() != n) {
    return std::vector<absl::StatusOr<Reservation>>(
        n, absl::InternalError("a reservation statement lost a row"));
  }
  std::vector<absl::StatusOr<Reservation>> out;
  for (const pg::TextRow row : rows) out.push_back(ReservationFromRow(row));
  return out;
}

// One (account, request id) twice in a batch: the later item must see the
// earlier one's redemption as a call after it would (a replay, or
// REQUEST_ID_REUSED for another code), so it runs after the batch, alone.
bool HasRepeats(const std::vector<ReserveRequest>& batch) {
  std::set<std::pair<std::string, std::string>> seen;
  for (const ReserveRequest& r : batch) {
    if (!seen.insert({r.account_id, r.request_id}).second) return true;
  }
  return false;
}

// The completion statement for a batch (of the store's private Completion).
template <typename CompletionT>
pg::PipelineQuery CompleteQuery(const std::vector<CompletionT>& batch) {
  std::vector<std::string> accounts, requests, transfers, balances;
  for (const CompletionT& c : batch) {
    accounts.push_back(c.redemption.account_id);
    requests.push_back(c.redemption.request_id);
    transfers.push_back(c.credit.transfer_id);
    balances.push_back(std::to_string(c.credit.balance_after_minor));
  }
  return {sql::kCompleteMany.name,
          {pg::TextArray(accounts), pg::TextArray(requests), pg::TextArray(transfers),
           pg::TextArray(balances)}};
}

}  // namespace

void LoopRedemptionStore::Reserve(const ReserveRequest& request,
                                  Callback<absl::StatusOr<Reservation>> done) {
  writes_.PushFirst(request, std::move(done));
}

void LoopRedemptionStore::Complete(const Redemption& pending, const CreditResult& credit,
                                   Callback<absl::StatusOr<Redemption>> done) {
  CompleteOrdered(pending, credit, nullptr, std::move(done));
}

void LoopRedemptionStore::CompleteOrdered(const Redemption& pending, const CreditResult& credit,
                                          absl::AnyInvocable<void() &&> ordered,
                                          Callback<absl::StatusOr<Redemption>> done) {
  if (&completion_client_ != &client_) {
    // Another connection: later statements on this one may run first.
    if (ordered == nullptr) return completions_.Push({pending, credit, nullptr}, std::move(done));
    return AsyncRedemptionStore::CompleteOrdered(pending, credit, std::move(ordered),
                                                 std::move(done));
  }
  auto shared = ordered == nullptr
                    ? nullptr
                    : std::make_shared<absl::AnyInvocable<void() &&>>(std::move(ordered));
  writes_.PushSecond(Completion{pending, credit, std::move(shared)}, std::move(done));
}

void LoopRedemptionStore::WriteFlight(std::vector<ReserveRequest> reserves,
                                      std::vector<Completion> completions,
                                      Answers<Reservation> reserved,
                                      Answers<Redemption> completed) {
  std::vector<std::shared_ptr<absl::AnyInvocable<void() &&>>> ordered;
  for (Completion& c : completions) {
    if (c.ordered) ordered.push_back(std::move(c.ordered));
  }
  if (!reserves.empty() && !completions.empty() && !HasRepeats(reserves)) {
    WriteJointly(std::move(reserves), std::move(completions), reserved, completed);
  } else {
    if (reserves.empty()) {
      reserved({});
    } else {
      ReserveBatch(std::move(reserves), reserved);
    }
    if (completions.empty()) {
      completed({});
    } else {
      CompleteBatch(std::move(completions), completed);
    }
  }
  // Sent: whatever the connection carries from now on runs after them.
  for (auto& o : ordered) std::move (*o)();
}

void LoopRedemptionStore::WriteJointly(std::vector<ReserveRequest> reserves,
                                       std::vector<Completion> completions,
                                       Answers<Reservation> reserved,
                                       Answers<Redemption> completed) {
  // The queries first: the answers below take the batches.
  pg::PipelineQuery reserve = ReserveQuery(reserves), complete = CompleteQuery(completions);
  auto parts = std::make_shared<std::pair<std::vector<ReserveRequest>, std::vector<Completion>>>(
      std::move(reserves), std::move(completions));
  pg::SendJointly(
      client_, std::move(reserve), std::move(complete),
      {.rows =
           [this, parts, reserved, completed](const Rows& reserve_rows, const Rows& complete_rows) {
             reserved(ReservationsFromRows(parts->first.size(), reserve_rows));
             CompletedFromRows(std::move(parts->second), complete_rows, completed);
           },
       // A request id a concurrent call took, or a deadlock: a
       // reservation's conflict is then settled item by item.
       .split =
           [this, parts, reserved, completed] {
             ReserveBatch(std::move(parts->first), reserved);
             CompleteBatch(std::move(parts->second), completed);
           },
       .failed =
           [parts, reserved, completed](const absl::Status& status) {
             reserved(std::vector<absl::StatusOr<Reservation>>(parts->first.size(), status));
             completed(std::vector<absl::StatusOr<Redemption>>(parts->second.size(), status));
           }});
}

void LoopRedemptionStore::ReserveBatch(std::vector<ReserveRequest> batch,
                                       Answers<Reservation> done) {
  // Repeats (HasRepeats) run after the batch, alone.
  std::vector<size_t> firsts, repeats;
  {
    std::set<std::pair<std::string, std::string>> seen;
    for (size_t i = 0; i < batch.size(); ++i) {
      (seen.insert({batch[i].account_id, batch[i].request_id}).second ? firsts : repeats)
          .push_back(i);
    }
  }
  if (repeats.empty()) return ReserveMany(std::move(batch), std::move(done));
  std::vector<ReserveRequest> first_items;
  for (size_t i : firsts) first_items.push_back(batch[i]);
  auto out = std::make_shared<std::vector<absl::StatusOr<Reservation>>>(
      batch.size(), absl::InternalError("unanswered"));
  ReserveMany(std::move(first_items), [this, batch, firsts, repeats, out,
                                       done](std::vector<absl::StatusOr<Reservation>> answers) {
    for (size_t k = 0; k < firsts.size(); ++k) (*out)[firsts[k]] = std::move(answers[k]);
    auto left = std::make_shared<size_t>(repeats.size());
    for (size_t i : repeats) {
      ReserveOne(batch[i], 3, [out, i, left, done](absl::StatusOr<Reservation> r) {
        (*out)[i] = std::move(r);
        if (--*left == 0) done(std::move(*out));
      });
    }
  });
}

void LoopRedemptionStore::ReserveMany(std::vector<ReserveRequest> batch,
                                      Answers<Reservation> done) {
  const size_t n = batch.size();
  if (n == 1) {
    ReserveOne(std::move(batch[0]), 3,
               [done](absl::StatusOr<Reservation> r) { done({std::move(r)}); });
    return;
  }
  // The query first: the callback below takes the batch.
  const pg::PipelineQuery query = ReserveQuery(batch);
  client_.Send({query}, [this, batch = std::move(batch), done, n](Results results) {
    if (!results.ok() && results.status().code() == absl::StatusCode::kAborted) {
      // A request id a concurrent call took (unique violation), or a
      // deadlock: nothing changed; item by item, all in one flight.
      auto out = std::make_shared<std::vector<absl::StatusOr<Reservation>>>(
          n, absl::InternalError("unanswered"));
      auto left = std::make_shared<size_t>(n);
      for (size_t i = 0; i < n; ++i) {
        ReserveOne(batch[i], 3, [out, i, left, done](absl::StatusOr<Reservation> r) {
          (*out)[i] = std::move(r);
          if (--*left == 0) done(std::move(*out));
        });
      }
      return;
    }
    if (!results.ok()) {
      return done(std::vector<absl::StatusOr<Reservation>>(n, results.status()));
    }
    done(ReservationsFromRows(n, results->front()));
  });
}

void LoopRedemptionStore::ReserveOne(ReserveRequest request, int tries_left,
                                     std::function<void(absl::StatusOr<Reservation>)> done) {
  client_.Send({ReserveQuery({request})}, [this, request, tries_left, done](Results results) {
    if (results.ok()) {
      if (results->empty()) return done(absl::InternalError("cv_reserve returned no result"));
      return done(std::move(ReservationsFromRows(1, results->front()).front()));
    }
    if (results.status().code() != absl::StatusCode::kAborted) return done(results.status());
    // (account_id, request_id) is taken, by an earlier call (its refusal
    // put the code back to ACTIVE) or a concurrent first call that has
    // committed: the statement changed nothing; find that call.
    client_.Send(
        {{sql::kFindRedemption.name, {request.account_id, request.request_id}}},
        [this, request, tries_left, done](Results found) {
          if (!found.ok()) return done(found.status());
          if (!found->empty() && !found->front().empty()) {
            Reservation out;
            out.kind = Reservation::Kind::kReplay;
            out.redemption = RedemptionFromRow(found->front().front());
            return done(std::move(out));
          }
          // Not a taken request id (a deadlock): try again.
          if (tries_left <= 1) {
            return done(errors::Error(absl::StatusCode::kAborted, errors::reason::kConflict,
                                      "concurrent update; retry"));
          }
          ReserveOne(request, tries_left - 1, done);
        });
  });
}

void LoopRedemptionStore::CompleteBatch(std::vector<Completion> batch, Answers<Redemption> done) {
  // The query first: the callback below takes the batch.
  const pg::PipelineQuery query = CompleteQuery(batch);
  completion_client_.Send({query}, [this, batch = std::move(batch), done](Results results) mutable {
    if (!results.ok()) {
      return done(std::vector<absl::StatusOr<Redemption>>(batch.size(), results.status()));
    }
    CompletedFromRows(std::move(batch), results->front(), done);
  });
}

void LoopRedemptionStore::CompletedFromRows(std::vector<Completion> batch, const Rows& rows,
                                            Answers<Redemption> done) {
  const size_t n = batch.size();
  auto settled = std::make_shared<std::map<std::pair<std::string, std::string>, Redemption>>();
  for (const pg::TextRow row : rows) {
    Redemption r = RedemptionFromRow(row);
    (*settled)[{r.account_id, r.request_id}] = std::move(r);
  }
  // Missing: no longer PENDING (a concurrent retry or the recovery worker
  // settled it first); answer with what it became.
  std::vector<pg::PipelineQuery> finds;
  for (const Completion& c : batch) {
    if (!settled->count({c.redemption.account_id, c.redemption.request_id})) {
      finds.push_back(
          {sql::kFindRedemption.name, {c.redemption.account_id, c.redemption.request_id}});
    }
  }
  auto answer = [batch = std::move(batch), settled, done] {
    std::vector<absl::StatusOr<Redemption>> out;
    for (const Completion& c : batch) {
      auto it = settled->find({c.redemption.account_id, c.redemption.request_id});
      if (it == settled->end()) {
        out.push_back(absl::InternalError("redemption vanished"));
      } else {
        out.push_back(it->second);
      }
    }
    done(std::move(out));
  };
  if (finds.empty()) return answer();
  completion_client_.Send(finds, [settled, answer, done, n](Results found) {
    if (!found.ok()) return done(std::vector<absl::StatusOr<Redemption>>(n, found.status()));
    for (const Rows& rows : *found) {
      if (rows.empty()) continue;
      Redemption r = RedemptionFromRow(rows.front());
      (*settled)[{r.account_id, r.request_id}] = std::move(r);
    }
    answer();
  });
}

}  // namespace giftcard::code_vault

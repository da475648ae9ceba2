#include "services/account_credit/storage/loop_ledger_store.h"

#include <map>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "errors/status.h"
#include "pg/text_row.h"
#include "services/account_credit/storage/ledger_batch.h"

namespace giftcard::account_credit {
namespace {

using Rows = pg::PipelineRows;
using Results = absl::StatusOr<std::vector<Rows>>;

}  // namespace

std::vector<pg::Statement> LoopLedgerStore::Statements() {
  return {pg::kBegin,         pg::kCommit,         pg::kRollback,       sql::kLockAccounts,
          sql::kFindRequests, sql::kInsertRefusal, sql::kWriteTransfers};
}

LoopLedgerStore::LoopLedgerStore(engine::Loop& loop, pg::LoopClient& client, Options options)
    : client_(client),
      options_(options),
      postings_(
          loop,
          [this](std::vector<Posting> batch, engine::Stage<Posting, Result>::BatchDone done) {
            auto shared =
                std::make_shared<engine::Stage<Posting, Result>::BatchDone>(std::move(done));
            PostBatch(
                std::move(batch), options_.max_retries + 1,
                [shared](std::vector<Result> answers) { std::move (*shared)(std::move(answers)); });
          },
          {.max_batch = options.max_batch, .max_in_flight = 1, .on_batch = options.on_batch}) {}

void LoopLedgerStore::PostAll(std::vector<Posting> postings, PostAllDone done) {
  struct Gather {
    std::vector<Result> answers;
    size_t left;
    PostAllDone done;
  };
  auto gather = std::make_shared<Gather>();
  gather->answers.assign(postings.size(), absl::UnknownError("not answered"));
  gather->left = postings.size();
  gather->done = std::move(done);
  for (size_t i = 0; i < postings.size(); ++i) {
    if (!postings[i].reverses_transfer_id.empty()) {
      // Never sent here (batch calls credit and debit); refuse rather than guess.
      gather->answers[i] = absl::InternalError("a reversal cannot be posted on the engine");
      if (--gather->left == 0) std::move(gather->done)(std::move(gather->answers));
      continue;
    }
    postings_.Push(std::move(postings[i]), [gather, i](Result r) {
      gather->answers[i] = std::move(r);
      if (--gather->left == 0) std::move(gather->done)(std::move(gather->answers));
    });
  }
}

void LoopLedgerStore::Abandon(std::function<void()> then) {
  client_.Send({{pg::kRollback.name, {}}}, [then](Results) { then(); });
}

void LoopLedgerStore::PostBatch(std::vector<Posting> batch, int tries_left, Answers done) {
  const size_t n = batch.size();
  auto fail_all = [done, n](const absl::Status& why) { done(std::vector<Result>(n, why)); };
  // Flight 1: the accounts locked (in account order: concurrent batches
  // never deadlock each other), then what each request id decided before,
  // read after the locks.
  // (Built before the callback takes the batch.)
  const std::vector<pg::PipelineQuery> reads = {
      {pg::kBegin.name, {}},
      {sql::kLockAccounts.name, {pg::TextArray(AccountIdsOf(batch))}},
      {sql::kFindRequests.name, {pg::TextArray(RequestIdsOf(batch))}}};
  client_.Send(
      reads, [this, batch = std::move(batch), tries_left, done, fail_all](Results read) mutable {
        if (!read.ok()) return Abandon([fail_all, s = read.status()] { fail_all(s); });
        const size_t n = batch.size();
        if (read->size() != 3 || (*read)[2].size() != n) {
          const std::string what =
              absl::StrCat("find_requests lost a row: ", read->size(), " results, ",
                           read->size() == 3 ? (*read)[2].size() : 0, " rows for ", n);
          return Abandon([fail_all, what] { fail_all(absl::InternalError(what)); });
        }
        std::map<std::string, Account> accounts;
        for (const pg::TextRow row : (*read)[1]) {
          Account a = AccountFromRow(row);
          accounts[a.account_id] = a;
        }
        std::vector<pg::TextRow> decided;
        for (const pg::TextRow row : (*read)[2]) decided.push_back(row);
        // The plan: each posting decided in order on the locked balances.
        auto plan = std::make_shared<BatchPlan>(PlanBatch(batch, std::move(accounts), decided));
        WriteBatch(std::move(batch), std::move(plan), tries_left, done);
      });
}

void LoopLedgerStore::WriteBatch(std::vector<Posting> batch, std::shared_ptr<BatchPlan> plan,
                                 int tries_left, Answers done) {
  const size_t n = batch.size();
  auto fail_all = [done, n](const absl::Status& why) { done(std::vector<Result>(n, why)); };
  // Flight 2: the refusals, every transfer with its entries and the
  // balances in one statement, and COMMIT. A request id another
  // transaction decided since flight 1 fails its statement (a unique
  // violation), so COMMIT never runs on a batch with one missing.
  std::vector<pg::PipelineQuery> writes;
  for (auto& params : RefusalParams(batch, *plan)) {
    writes.push_back({sql::kInsertRefusal.name, std::move(params)});
  }
  if (!plan->writes.empty()) {
    writes.push_back({sql::kWriteTransfers.name, WriteTransfersParams(batch, *plan)});
  }
  writes.push_back({pg::kCommit.name, {}});
  client_.Send(writes, [this, batch = std::move(batch), plan, tries_left, done,
                        fail_all](Results wrote) mutable {
    if (!wrote.ok()) {
      // Nothing of this transaction stays. A conflict (that request id
      // decided elsewhere, or a deadlock): rerun, which replays it. Lost on
      // the way, the outcome is unknown (UNAVAILABLE); the caller's retry
      // replays it.
      const bool conflict = errors::ReasonOf(wrote.status()) == errors::reason::kConflict;
      return Abandon([this, batch = std::move(batch), tries_left, done, fail_all, conflict,
                      why = wrote.status()]() mutable {
        if (!conflict) return fail_all(why);
        if (tries_left <= 1) return fail_all(DecidedConcurrently());
        PostBatch(std::move(batch), tries_left - 1, done);
      });
    }
    std::optional<std::vector<std::pair<std::string, int64_t>>> written = Written(*wrote, *plan);
    if (!written) {
      // Committed, yet not the rows the plan wrote (never expected): no
      // answer is guessed; a retry replays what was written.
      return fail_all(errors::DependencyUnavailable(
          "postgres", "the batch's writes came back incomplete; retry"));
    }
    done(AnswerBatch(batch, std::move(*plan), *written));
  });
}

std::optional<std::vector<std::pair<std::string, int64_t>>> LoopLedgerStore::Written(
    const std::vector<Rows>& wrote, const BatchPlan& plan) {
  const size_t refusals = plan.refusals.size();
  if (wrote.size() != refusals + (plan.writes.empty() ? 0 : 1) + 1) return std::nullopt;
  for (size_t k = 0; k < refusals; ++k) {
    if (wrote[k].size() != 1) return std::nullopt;
  }
  std::vector<std::pair<std::string, int64_t>> written(plan.writes.size());
  if (plan.writes.empty()) return written;
  const Rows& rows = wrote[refusals];
  if (rows.size() != plan.writes.size()) return std::nullopt;
  for (const pg::TextRow row : rows) {
    const pg::NamedRow r(row);
    const int64_t ord = pg::Int64(r["ordinal"]);
    if (ord < 1 || ord > static_cast<int64_t>(written.size())) return std::nullopt;
    written[static_cast<size_t>(ord - 1)] = {pg::Text(r["transfer_id"]),
                                             pg::Int64(r["create_time_us"])};
  }
  return written;
}

}  // namespace giftcard::account_credit

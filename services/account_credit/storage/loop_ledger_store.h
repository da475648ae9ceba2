// The engine's posting store (AsyncPostings) on pg::LoopClient. Postings
// of concurrent calls gather while a batch is in flight (engine::Stage) and
// go as the next batch, which is one transaction in two flights on the
// stage's own connection:
//   1. BEGIN, lock the batch's accounts (lock_accounts), and read what each
//      request id decided before (find_requests); the plan (ledger_batch.h,
//      the blocking store's very code) then decides each posting on the
//      locked balances;
//   2. its refusals and transfers (insert_refusal, write_transfers) and
//      COMMIT together. A request id decided
//      meanwhile fails its statement, so COMMIT never runs on a batch with
//      one missing: ROLLBACK, and the batch runs again (then it replays
//      that decision).
// The connection is the stage's alone: a transaction spans flights.
#ifndef GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_LOOP_LEDGER_STORE_H_
#define GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_LOOP_LEDGER_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/loop.h"
#include "engine/stage.h"
#include "pg/loop_client.h"
#include "services/account_credit/domain/ledger_store.h"
#include "services/account_credit/storage/ledger_batch.h"

namespace giftcard::account_credit {

class LoopLedgerStore : public AsyncPostings {
 public:
  struct Options {
    size_t max_batch = 256;
    int max_retries = 4;  // Reruns after a conflict (a request id decided meanwhile).
    std::function<void(size_t)> on_batch = nullptr;
  };
  // The loop's thread; `client` has prepared Statements() and is this
  // store's alone.
  LoopLedgerStore(engine::Loop& loop, pg::LoopClient& client, Options options);

  static std::vector<pg::Statement> Statements();

  // Credits and debits only (a reversal names no account: the blocking
  // store posts those).
  void PostAll(std::vector<Posting> postings, PostAllDone done) override;

 private:
  using Result = absl::StatusOr<Transfer>;
  using Answers = std::function<void(std::vector<Result>)>;
  // Flight 1: BEGIN, the accounts locked, what each request id decided;
  // then the plan, and WriteBatch.
  void PostBatch(std::vector<Posting> batch, int tries_left, Answers done);
  // Flight 2: the plan's refusals and transfers, and COMMIT.
  void WriteBatch(std::vector<Posting> batch, std::shared_ptr<BatchPlan> plan, int tries_left,
                  Answers done);
  // Each write's transfer id and create time from flight 2's results, by
  // the write's ordinal; nullopt unless every statement answered as planned.
  static std::optional<std::vector<std::pair<std::string, int64_t>>> Written(
      const std::vector<pg::PipelineRows>& wrote, const BatchPlan& plan);
  // Ends the open transaction with ROLLBACK, then answers.
  void Abandon(std::function<void()> then);

  pg::LoopClient& client_;
  const Options options_;
  engine::Stage<Posting, Result> postings_;
};

}  // namespace giftcard::account_credit

#endif  // GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_LOOP_LEDGER_STORE_H_

// The engine's application store (AsyncApplicationStore) on pg::LoopClient:
// the blocking store's statements (storage/sql) and row reader
// (application_rows.h), with batches formed at the connection
// (engine::Stage): while one insert batch is in flight the next gathers,
// and goes out as one statement when it returns.
// The marks of applied debits batch the same way.
#ifndef GIFTCARD_SERVICES_BILLING_STORAGE_LOOP_APPLICATION_STORE_H_
#define GIFTCARD_SERVICES_BILLING_STORAGE_LOOP_APPLICATION_STORE_H_

#include <functional>
#include <string>
#include <vector>

#include "engine/loop.h"
#include "engine/stage.h"
#include "pg/loop_client.h"
#include "services/billing/domain/apply_ports.h"

namespace giftcard::billing {

class LoopApplicationStore : public AsyncApplicationStore {
 public:
  struct Options {
    size_t max_batch = 256;
    // Told each stage's batch sizes (metrics), by stage name.
    std::function<std::function<void(size_t)>(const std::string& stage)> on_batch = nullptr;
  };
  // The loop's thread; `client` has prepared Statements().
  LoopApplicationStore(engine::Loop& loop, pg::LoopClient& client, Options options);

  // What the connection must have prepared.
  static std::vector<pg::Statement> Statements();

  void Start(const CreditApplication& pending,
             Callback<absl::StatusOr<CreditApplication>> done) override;
  void MarkApplied(const std::string& invoice_id, const DebitResult& debit,
                   Callback<absl::StatusOr<CreditApplication>> done) override;
  void DropPending(const std::string& invoice_id, Callback<absl::Status> done) override;

 private:
  struct Applied {
    std::string invoice_id;
    DebitResult debit;
  };
  using Result = absl::StatusOr<CreditApplication>;
  using Answers = std::function<void(std::vector<Result>)>;

  void StartBatch(std::vector<CreditApplication> batch, Answers done);
  void MarkAppliedBatch(std::vector<Applied> batch, Answers done);
  // Each item's row from `rows` (the first item of an invoice), else its row
  // as it is now (bl_get, all in one flight); `missing` answers an item
  // whose invoice has no row.
  void RowsOrGet(const pg::PipelineRows& rows, std::vector<std::string> ids,
                 std::function<absl::Status(const std::string&)> missing, Answers done);

  pg::LoopClient& client_;
  engine::Stage<CreditApplication, Result> starts_;
  engine::Stage<Applied, Result> applied_;
};

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_STORAGE_LOOP_APPLICATION_STORE_H_

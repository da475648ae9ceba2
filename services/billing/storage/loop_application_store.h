// The engine's application store (AsyncApplicationStore) on pg::LoopClient:
// the blocking store's statements (storage/sql) and row reader
// (application_rows.h), with batches formed at the connection
// (engine::JointStage): while one flight is in flight the next gathers,
// and goes out when it returns. Inserts and the marks of applied debits
// share that stage, so a flight carries both kinds in one transaction: one
// commit for every application the flight holds at either step.
#ifndef GIFTCARD_SERVICES_BILLING_STORAGE_LOOP_APPLICATION_STORE_H_
#define GIFTCARD_SERVICES_BILLING_STORAGE_LOOP_APPLICATION_STORE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/joint_stage.h"
#include "engine/loop.h"
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
  void MarkApplied(const std::string& invoice_id, const DebitResult& debit, absl::Time update_time,
                   Callback<absl::StatusOr<CreditApplication>> done) override;
  // Ordered once sent: the store's statements go out in order on one
  // connection.
  void MarkAppliedOrdered(const std::string& invoice_id, const DebitResult& debit,
                          absl::Time update_time, absl::AnyInvocable<void() &&> ordered,
                          Callback<absl::StatusOr<CreditApplication>> done) override;
  void DropPending(const std::string& invoice_id, Callback<absl::Status> done) override;

 private:
  struct Applied {
    std::string invoice_id;
    DebitResult debit;
    absl::Time update_time;
    // MarkAppliedOrdered's `ordered`, run once the mark is sent.
    std::shared_ptr<absl::AnyInvocable<void() &&>> ordered;
  };
  using Result = absl::StatusOr<CreditApplication>;
  using Answers = std::function<void(std::vector<Result>)>;

  // One flight of the write stage: what gathered of both kinds.
  void WriteFlight(std::vector<CreditApplication> starts, std::vector<Applied> marks,
                   Answers started, Answers marked);
  void SendFlight(std::vector<CreditApplication> starts, std::vector<Applied> marks,
                  Answers started, Answers marked);
  void WriteJointly(std::vector<CreditApplication> starts, std::vector<Applied> marks,
                    Answers started, Answers marked);
  void StartBatch(std::vector<CreditApplication> batch, Answers done);
  void MarkAppliedBatch(std::vector<Applied> batch, Answers done);
  // Each item's row from `rows` (the first item of an invoice), else its row
  // as it is now (bl_get, all in one flight); `missing` answers an item
  // whose invoice has no row.
  void RowsOrGet(const pg::PipelineRows& rows, std::vector<std::string> ids,
                 std::function<absl::Status(const std::string&)> missing, Answers done);

  pg::LoopClient& client_;
  engine::JointStage<CreditApplication, Result, Applied, Result> writes_;
};

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_STORAGE_LOOP_APPLICATION_STORE_H_

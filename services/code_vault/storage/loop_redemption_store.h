// The engine's redemption store (AsyncRedemptionStore) on pg::LoopClient:
// the statements of the blocking store (rows.h, storage/sql), with batches
// formed at the connection (engine::Stage): while one batch of writes is in
// flight the next gathers, and goes out when it returns. Reservations and
// completions share that stage, so one flight carries both kinds in one
// transaction: one commit, one wake of the server's backend, for every
// redemption the flight holds at either step. Lookups batch the same way.
#ifndef GIFTCARD_SERVICES_CODE_VAULT_STORAGE_LOOP_REDEMPTION_STORE_H_
#define GIFTCARD_SERVICES_CODE_VAULT_STORAGE_LOOP_REDEMPTION_STORE_H_

#include <functional>
#include <memory>
#include <vector>

#include "engine/joint_stage.h"
#include "engine/loop.h"
#include "engine/stage.h"
#include "pg/loop_client.h"
#include "services/code_vault/domain/redeem_ports.h"

namespace giftcard::code_vault {

class LoopRedemptionStore : public AsyncRedemptionStore, public AsyncCodeReads {
 public:
  struct Options {
    size_t max_batch = 256;
    // Completions go out on this connection when set (else on `client`): one
    // whose session commits without waiting for the WAL flush
    // (synchronous_commit = off). Losing a completion is safe, the saga
    // survives it: the credit is durable in account-credit, and the recovery
    // worker completes a redemption left PENDING (a replayed credit).
    pg::LoopClient* completion_client = nullptr;
    // GetCodeStatus reads on this connection when set (a standby's: a
    // status may be a moment stale), else on `client`; it has prepared
    // StatusStatements().
    pg::LoopClient* status_client = nullptr;
    // Told each stage's batch sizes (metrics), by stage name.
    std::function<std::function<void(size_t)>(const std::string& stage)> on_batch = nullptr;
  };
  // The loop's thread; `client` has prepared Statements().
  LoopRedemptionStore(engine::Loop& loop, pg::LoopClient& client, Options options);

  // What the connection must have prepared.
  static std::vector<pg::Statement> Statements();
  static std::vector<pg::Statement> StatusStatements();

  void Lookup(const ReserveRequest& request, Callback<absl::StatusOr<CodeLookup>> done) override;
  void Reserve(const ReserveRequest& request, Callback<absl::StatusOr<Reservation>> done) override;
  void Complete(const Redemption& pending, const CreditResult& credit,
                Callback<absl::StatusOr<Redemption>> done) override;
  // Ordered once sent: the store's statements go out in order on one
  // connection (unless completions have a connection of their own).
  void CompleteOrdered(const Redemption& pending, const CreditResult& credit,
                       absl::AnyInvocable<void() &&> ordered,
                       Callback<absl::StatusOr<Redemption>> done) override;
  void Reject(const Redemption& pending, const absl::Status& refusal,
              Callback<absl::StatusOr<Redemption>> done) override;
  void StatusBySerial(const std::string& serial, Callback<absl::StatusOr<Code>> done) override;
  void StatusByHashes(const std::vector<std::string>& code_hashes,
                      Callback<absl::StatusOr<Code>> done) override;

 private:
  struct Completion {
    Redemption redemption;
    CreditResult credit;
    // CompleteOrdered's `ordered`, run once the completion is sent.
    std::shared_ptr<absl::AnyInvocable<void() &&>> ordered;
  };
  template <typename T>
  using Answers = std::function<void(std::vector<absl::StatusOr<T>>)>;

  // One flight of the write stage: what gathered of both kinds.
  void WriteFlight(std::vector<ReserveRequest> reserves, std::vector<Completion> completions,
                   Answers<Reservation> reserved, Answers<Redemption> completed);
  void WriteJointly(std::vector<ReserveRequest> reserves, std::vector<Completion> completions,
                    Answers<Reservation> reserved, Answers<Redemption> completed);
  void CompletedFromRows(std::vector<Completion> batch, const pg::PipelineRows& rows,
                         Answers<Redemption> done);

  void LookupBatch(std::vector<ReserveRequest> batch, Answers<CodeLookup> done);
  void ReserveBatch(std::vector<ReserveRequest> batch, Answers<Reservation> done);
  void ReserveMany(std::vector<ReserveRequest> batch, Answers<Reservation> done);
  void ReserveOne(ReserveRequest request, int tries_left,
                  std::function<void(absl::StatusOr<Reservation>)> done);
  void CompleteBatch(std::vector<Completion> batch, Answers<Redemption> done);
  void StatusBatch(std::vector<std::string> serials, Answers<Code> done);

  pg::LoopClient& client_;
  pg::LoopClient& completion_client_;
  pg::LoopClient& status_client_;
  engine::Stage<ReserveRequest, absl::StatusOr<CodeLookup>> lookups_;
  // Reservations, and completions unless they have a connection of their own.
  engine::JointStage<ReserveRequest, absl::StatusOr<Reservation>, Completion,
                     absl::StatusOr<Redemption>>
      writes_;
  // Completions on completion_client, when there is one.
  engine::Stage<Completion, absl::StatusOr<Redemption>> completions_;
  engine::Stage<std::string, absl::StatusOr<Code>> statuses_;
};

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_STORAGE_LOOP_REDEMPTION_STORE_H_

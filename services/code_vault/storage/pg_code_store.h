// CodeStore on Postgres (libpqxx), one file per job: reads and listings
// (pg_code_store.cc), issuance and bulk changes (pg_code_store_issuance.cc),
// redemption (pg_code_store_redemption.cc) and clawbacks
// (pg_code_store_clawback.cc). The statements are storage/sql/*.sql. The
// reservation is one statement: a conditional UPDATE (state = 'ACTIVE')
// feeding the INSERT of the PENDING redemption, so of any number of
// concurrent redemptions of one code exactly one can win, with or without
// the Redis guard.
#ifndef GIFTCARD_SERVICES_CODE_VAULT_STORAGE_PG_CODE_STORE_H_
#define GIFTCARD_SERVICES_CODE_VAULT_STORAGE_PG_CODE_STORE_H_

#include <vector>

#include "batch/batcher.h"
#include "pg/pool.h"
#include "services/code_vault/domain/ports.h"

namespace giftcard::code_vault {

class PgCodeStore : public CodeStore {
 public:
  struct Options {
    // Concurrent completions go to Postgres together, up to this many in one
    // statement (1: each alone), with at most batches_in_flight at once.
    size_t max_batch = 64;
    int batches_in_flight = 1;
    // Reads by serial or PIN hash (GetCodeStatus, CheckCode, the lookups
    // of a redemption's rare paths) batch the same way, on their own.
    int read_batches_in_flight = 2;
    // Where the reads that may be a moment stale go (ListCodes, codes by
    // serial: GetCodeStatus), a standby; nullptr: the primary's pool. A
    // lookup by PIN hash stays on the primary: redemptions use it.
    pg::Pool* standby = nullptr;
  };

  explicit PgCodeStore(pg::Pool& pool) : PgCodeStore(pool, Options{}) {}
  PgCodeStore(pg::Pool& pool, Options options);

  static std::vector<pg::Statement> Statements();

  absl::StatusOr<Batch> CreateBatch(const BatchSpec& spec,
                                    const std::vector<NewCode>& codes) override;
  absl::StatusOr<BulkResult> ApplyBulkChange(const BulkChange& change) override;
  absl::StatusOr<BatchPage> ListBatches(int64_t before_batch_no, int limit) override;
  absl::StatusOr<CodePage> ListCodes(const std::string& batch_id, std::optional<CodeState> state,
                                     const std::string& after_serial, int limit) override;
  absl::StatusOr<std::vector<Redemption>> ClaimPending(absl::Duration min_age, int limit) override;
  absl::StatusOr<Code> GetCodeBySerial(const std::string& serial) override;
  absl::StatusOr<CodeChangePage> ListCodeChanges(const std::string& serial, int64_t after_change_id,
                                                 int limit) override;
  absl::StatusOr<std::optional<CodeChange>> LastCodeChange(const std::string& serial) override;
  absl::StatusOr<Code> GetCodeByHashes(const std::vector<std::string>& code_hashes) override;
  absl::StatusOr<CodeLookup> Lookup(const std::vector<std::string>& code_hashes,
                                    const std::string& account_id,
                                    const std::string& request_id) override;
  absl::StatusOr<Reservation> Reserve(const ReserveRequest& request) override;
  absl::StatusOr<Redemption> Complete(const Redemption& redemption, const std::string& transfer_id,
                                      int64_t balance_after_minor) override;
  absl::StatusOr<Redemption> Reject(const Redemption& redemption,
                                    const absl::Status& refusal) override;
  absl::StatusOr<Clawback> StartClawback(const ClawbackRequest& request) override;
  absl::StatusOr<Clawback> CompleteClawback(const Clawback& clawback,
                                            const std::string& transfer_id,
                                            int64_t clawed_back_minor,
                                            int64_t balance_after_minor) override;
  absl::StatusOr<Clawback> RejectClawback(const Clawback& clawback,
                                          const absl::Status& refusal) override;
  absl::StatusOr<std::vector<Clawback>> ClaimPendingClawbacks(absl::Duration min_age,
                                                              int limit) override;

  // What Lookup and Reserve run for a batch of concurrent calls (one
  // statement each: cv_lookup_many, cv_reserve_many; a batch of one runs the
  // single statement). Public so that store tests can run a batch exactly.
  std::vector<absl::StatusOr<CodeLookup>> LookupBatch(const std::vector<ReserveRequest>& batch);
  std::vector<absl::StatusOr<Reservation>> ReserveBatch(const std::vector<ReserveRequest>& batch);
  // What GetCodeBySerial runs for a batch (cv_codes_by_serials).
  std::vector<absl::StatusOr<Code>> SerialBatch(const std::vector<std::string>& serials);

 private:
  struct Completion {
    Redemption redemption;
    std::string transfer_id;
    int64_t balance_after_minor = 0;
  };
  // One cv_complete_many for the batch; each completion's own answer.
  std::vector<absl::StatusOr<Redemption>> CompleteBatch(const std::vector<Completion>& batch);

  absl::StatusOr<CodeLookup> LookupOne(const std::vector<std::string>& code_hashes,
                                       const std::string& account_id,
                                       const std::string& request_id);
  absl::StatusOr<Reservation> ReserveOne(const ReserveRequest& request);

  // Names the caller, reason and request id of the transaction's changes
  // for the change log (set_actor).
  static void SetActor(pqxx::transaction_base& tx, const Actor& actor);

  pg::Pool& pool_;
  pg::Pool& stale_reads_;  // options.standby, else pool_
  batch::Batcher<ReserveRequest, absl::StatusOr<CodeLookup>> lookups_;
  batch::Batcher<std::string, absl::StatusOr<Code>> serials_;
  batch::Batcher<ReserveRequest, absl::StatusOr<Reservation>> reservations_;
  batch::Batcher<Completion, absl::StatusOr<Redemption>> completions_;
};

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_STORAGE_PG_CODE_STORE_H_

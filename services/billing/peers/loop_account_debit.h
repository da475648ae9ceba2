// The engine's debit port (AsyncDebit): account-credit's BatchDebitAccounts
// over gRPC's callback client. Debits gather while a batch call is in flight
// (engine::Stage) and go as the next batch call; gRPC answers on one of its
// own threads, which posts the answers back to the engine's loop. Errors
// map as AccountCreditGateway's do: a failure without the peer's details is
// an unknown outcome.
#ifndef GIFTCARD_SERVICES_BILLING_PEERS_LOOP_ACCOUNT_DEBIT_H_
#define GIFTCARD_SERVICES_BILLING_PEERS_LOOP_ACCOUNT_DEBIT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "engine/loop.h"
#include "giftcard/v1/account_credit.grpc.pb.h"
#include "ledger_peer/transfer_batches.h"
#include "services/billing/domain/apply_ports.h"

namespace giftcard::billing {

class LoopAccountDebit : public AsyncDebit {
 public:
  struct Options {
    size_t max_batch = 256;
    size_t calls_in_flight = 1;
  };
  // The loop's thread.
  LoopAccountDebit(engine::Loop& loop, std::shared_ptr<grpc::Channel> channel, std::string token,
                   absl::Duration timeout, Options options);

  void DebitUpTo(const std::string& account_id, const money::Money& max_amount,
                 const std::string& request_id, const std::string& reference,
                 const std::string& traceparent,
                 Callback<absl::StatusOr<DebitResult>> done) override;

 private:
  ledger_peer::LoopTransferBatches<v1::DebitAccountRequest> debits_;
};

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_PEERS_LOOP_ACCOUNT_DEBIT_H_

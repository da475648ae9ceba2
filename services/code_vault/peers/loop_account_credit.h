// The engine's credit port (AsyncCredit): account-credit's
// BatchCreditAccounts over gRPC's callback client. Credits gather while a
// batch call is in flight (engine::Stage) and go as the next batch call;
// gRPC answers on one of its own threads, which posts the answers back to
// the engine's loop. Errors map as AccountCreditGateway's do: a failure
// without the peer's details is an unknown outcome.
#ifndef GIFTCARD_SERVICES_CODE_VAULT_PEERS_LOOP_ACCOUNT_CREDIT_H_
#define GIFTCARD_SERVICES_CODE_VAULT_PEERS_LOOP_ACCOUNT_CREDIT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "engine/loop.h"
#include "giftcard/v1/account_credit.grpc.pb.h"
#include "ledger_peer/transfer_batches.h"
#include "services/code_vault/domain/redeem_ports.h"

namespace giftcard::code_vault {

class LoopAccountCredit : public AsyncCredit {
 public:
  struct Options {
    size_t max_batch = 256;
    size_t calls_in_flight = 1;
  };
  // The loop's thread.
  LoopAccountCredit(engine::Loop& loop, std::shared_ptr<grpc::Channel> channel, std::string token,
                    absl::Duration timeout, Options options);

  void Credit(const Redemption& pending, Callback<absl::StatusOr<CreditResult>> done) override;

 private:
  ledger_peer::LoopTransferBatches<v1::CreditAccountRequest> credits_;
};

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_PEERS_LOOP_ACCOUNT_CREDIT_H_

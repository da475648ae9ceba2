// CreditGateway over gRPC to account-credit: the vault's own token, a
// deadline on every call, and the peer's error details kept intact so the
// domain can tell a refusal from an unknown outcome. Credits of concurrent
// redemptions go together in one BatchCreditAccounts call (flat combining,
// libs/batch), each with its own answer.
#ifndef GIFTCARD_SERVICES_CODE_VAULT_PEERS_ACCOUNT_CREDIT_GATEWAY_H_
#define GIFTCARD_SERVICES_CODE_VAULT_PEERS_ACCOUNT_CREDIT_GATEWAY_H_

#include <memory>
#include <string>
#include <vector>

#include "batch/batcher.h"
#include "giftcard/v1/account_credit.grpc.pb.h"
#include "ledger_peer/transfer_batches.h"
#include "services/code_vault/domain/ports.h"

namespace giftcard::code_vault {

// A credit's transfer as the domain sees it.
absl::StatusOr<CreditResult> CreditResultOf(const absl::StatusOr<v1::Transfer>& transfer);

class AccountCreditGateway : public CreditGateway {
 public:
  struct Options {
    size_t max_batch = 64;  // Credits per call at most.
    int calls_in_flight = 2;
  };
  AccountCreditGateway(std::shared_ptr<grpc::Channel> channel, std::string token,
                       absl::Duration timeout, Options options);

  absl::StatusOr<CreditResult> Credit(const std::string& account_id, const money::Money& amount,
                                      const std::string& code_region, const std::string& request_id,
                                      const std::string& reference,
                                      const std::string& traceparent) override;
  // One unary ClawBackCredit call: clawbacks are rare admin work.
  absl::StatusOr<ClawbackOutcome> ClawBack(const std::string& credit_transfer_id,
                                           const std::string& request_id) override;

 private:
  std::vector<absl::StatusOr<CreditResult>> CreditBatch(
      const std::vector<v1::CreditAccountRequest>& batch);

  const ledger_peer::Peer peer_;
  batch::Batcher<v1::CreditAccountRequest, absl::StatusOr<CreditResult>> credits_;
};

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_PEERS_ACCOUNT_CREDIT_GATEWAY_H_

// DebitGateway over gRPC to account-credit, with billing's own token and a
// deadline on every call. Debits of concurrent applications go together in
// one BatchDebitAccounts call (flat combining, libs/batch), each with its
// own answer.
#ifndef GIFTCARD_SERVICES_BILLING_PEERS_ACCOUNT_CREDIT_GATEWAY_H_
#define GIFTCARD_SERVICES_BILLING_PEERS_ACCOUNT_CREDIT_GATEWAY_H_

#include <memory>
#include <string>
#include <vector>

#include "batch/batcher.h"
#include "giftcard/v1/account_credit.grpc.pb.h"
#include "ledger_peer/transfer_batches.h"
#include "services/billing/domain/ports.h"

namespace giftcard::billing {

// A debit of up to `max_amount` (partial allowed), as both debit ports send it.
v1::DebitAccountRequest DebitRequest(const std::string& account_id, const money::Money& max_amount,
                                     const std::string& request_id, const std::string& reference,
                                     const std::string& traceparent);
// A transfer as the domain sees it; a failure keeps the peer's details.
absl::StatusOr<DebitResult> DebitResultOf(const absl::StatusOr<v1::Transfer>& transfer);

class AccountCreditGateway : public DebitGateway {
 public:
  struct Options {
    size_t max_batch = 64;  // Debits per call at most.
    int calls_in_flight = 2;
  };
  AccountCreditGateway(std::shared_ptr<grpc::Channel> channel, std::string token,
                       absl::Duration timeout, Options options);

  absl::StatusOr<DebitResult> DebitUpTo(const std::string& account_id,
                                        const money::Money& max_amount,
                                        const std::string& request_id, const std::string& reference,
                                        const std::string& traceparent) override;
  absl::StatusOr<DebitResult> Reverse(const std::string& transfer_id,
                                      const std::string& request_id) override;

 private:
  std::vector<absl::StatusOr<DebitResult>> DebitBatch(
      const std::vector<v1::DebitAccountRequest>& batch);

  const ledger_peer::Peer peer_;
  batch::Batcher<v1::DebitAccountRequest, absl::StatusOr<DebitResult>> debits_;
};

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_PEERS_ACCOUNT_CREDIT_GATEWAY_H_

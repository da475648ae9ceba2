// DebitGateway over gRPC to account-credit, with billing's own token and a
// deadline on every call.
#ifndef GIFTCARD_SERVICES_BILLING_PEERS_ACCOUNT_CREDIT_GATEWAY_H_
#define GIFTCARD_SERVICES_BILLING_PEERS_ACCOUNT_CREDIT_GATEWAY_H_

#include <memory>
#include <string>

#include "giftcard/v1/account_credit.grpc.pb.h"
#include "services/billing/domain/ports.h"

namespace giftcard::billing {

class AccountCreditGateway : public DebitGateway {
 public:
  AccountCreditGateway(std::shared_ptr<grpc::Channel> channel, std::string token,
                       absl::Duration timeout);

  absl::StatusOr<DebitResult> DebitUpTo(const std::string& account_id,
                                        const money::Money& max_amount,
                                        const std::string& request_id,
                                        const std::string& reference) override;
  absl::StatusOr<DebitResult> Reverse(const std::string& transfer_id,
                                      const std::string& request_id) override;

 private:
  std::unique_ptr<v1::AccountCredit::Stub> stub_;
  const std::string token_;
  const absl::Duration timeout_;
};

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_PEERS_ACCOUNT_CREDIT_GATEWAY_H_

// CreditGateway over gRPC to account-credit: the vault's own token, a
// deadline on every call, and the peer's error details kept intact so the
// domain can tell a refusal from an unknown outcome.
#ifndef GIFTCARD_SERVICES_CODE_VAULT_PEERS_ACCOUNT_CREDIT_GATEWAY_H_
#define GIFTCARD_SERVICES_CODE_VAULT_PEERS_ACCOUNT_CREDIT_GATEWAY_H_

#include <memory>
#include <string>

#include "giftcard/v1/account_credit.grpc.pb.h"
#include "services/code_vault/domain/ports.h"

namespace giftcard::code_vault {

class AccountCreditGateway : public CreditGateway {
 public:
  AccountCreditGateway(std::shared_ptr<grpc::Channel> channel, std::string token,
                       absl::Duration timeout);

  absl::StatusOr<CreditResult> Credit(const std::string& account_id, const money::Money& amount,
                                      const std::string& code_region, const std::string& request_id,
                                      const std::string& reference) override;

 private:
  std::unique_ptr<v1::AccountCredit::Stub> stub_;
  const std::string token_;
  const absl::Duration timeout_;
};

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_PEERS_ACCOUNT_CREDIT_GATEWAY_H_

#include "services/code_vault/peers/account_credit_gateway.h"

#include "errors/grpc_status.h"
#include "errors/status.h"
#include "protoconv/protoconv.h"
#include "server/client.h"

namespace giftcard::code_vault {

AccountCreditGateway::AccountCreditGateway(std::shared_ptr<grpc::Channel> channel,
                                           std::string token, absl::Duration timeout)
    : stub_(v1::AccountCredit::NewStub(channel)), token_(std::move(token)), timeout_(timeout) {}

absl::StatusOr<CreditResult> AccountCreditGateway::Credit(const std::string& account_id,
                                                          const money::Money& amount,
                                                          const std::string& code_region,
                                                          const std::string& request_id,
                                                          const std::string& reference) {
  v1::CreditAccountRequest request;
  request.set_account_id(account_id);
  *request.mutable_amount() = protoconv::ToProto(amount);
  request.set_code_region(code_region);
  request.set_request_id(request_id);
  request.set_reference(reference);
  v1::Transfer transfer;
  grpc::ClientContext context;
  server::PrepareContext(context, token_, timeout_);
  grpc::Status status = stub_->CreditAccount(&context, request, &transfer);
  if (!status.ok()) return errors::PeerError(errors::FromGrpcStatus(status), "account-credit");
  return CreditResult{transfer.transfer_id(), transfer.balance().amount_minor()};
}

}  // namespace giftcard::code_vault

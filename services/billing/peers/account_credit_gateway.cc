#include "services/billing/peers/account_credit_gateway.h"

#include "errors/grpc_status.h"
#include "errors/status.h"
#include "protoconv/protoconv.h"
#include "server/client.h"

namespace giftcard::billing {

namespace {

// The peer's answer as a DebitResult, keeping its error details; a failure
// without details (deadline, connection refused) is an unknown outcome.
absl::StatusOr<DebitResult> Result(const grpc::Status& status, const v1::Transfer& transfer) {
  if (!status.ok()) return errors::PeerError(errors::FromGrpcStatus(status), "account-credit");
  return DebitResult{transfer.transfer_id(), transfer.amount().amount_minor(),
                     transfer.balance().amount_minor()};
}

}  // namespace

AccountCreditGateway::AccountCreditGateway(std::shared_ptr<grpc::Channel> channel,
                                           std::string token, absl::Duration timeout)
    : stub_(v1::AccountCredit::NewStub(channel)), token_(std::move(token)), timeout_(timeout) {}

absl::StatusOr<DebitResult> AccountCreditGateway::DebitUpTo(const std::string& account_id,
                                                            const money::Money& max_amount,
                                                            const std::string& request_id,
                                                            const std::string& reference) {
  v1::DebitAccountRequest request;
  request.set_account_id(account_id);
  *request.mutable_max_amount() = protoconv::ToProto(max_amount);
  request.set_allow_partial(true);
  request.set_request_id(request_id);
  request.set_reference(reference);
  v1::Transfer transfer;
  grpc::ClientContext context;
  server::PrepareContext(context, token_, timeout_);
  return Result(stub_->DebitAccount(&context, request, &transfer), transfer);
}

absl::StatusOr<DebitResult> AccountCreditGateway::Reverse(const std::string& transfer_id,
                                                          const std::string& request_id) {
  v1::ReverseTransferRequest request;
  request.set_transfer_id(transfer_id);
  request.set_request_id(request_id);
  v1::Transfer transfer;
  grpc::ClientContext context;
  server::PrepareContext(context, token_, timeout_);
  return Result(stub_->ReverseTransfer(&context, request, &transfer), transfer);
}

}  // namespace giftcard::billing

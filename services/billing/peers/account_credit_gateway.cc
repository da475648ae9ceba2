#include "services/billing/peers/account_credit_gateway.h"

#include "errors/grpc_status.h"
#include "errors/status.h"
#include "protoconv/batch_results.h"
#include "protoconv/protoconv.h"
#include "server/client.h"

namespace giftcard::billing {

namespace {

// The peer's answer as a DebitResult, keeping its error details; a failure
// without details (deadline, connection refused) is an unknown outcome.
DebitResult ResultOf(const v1::Transfer& transfer) {
  return DebitResult{transfer.transfer_id(), transfer.amount().amount_minor(),
                     transfer.balance().amount_minor()};
}

absl::StatusOr<DebitResult> Result(const grpc::Status& status, const v1::Transfer& transfer) {
  if (!status.ok()) return errors::PeerError(errors::FromGrpcStatus(status), "account-credit");
  return ResultOf(transfer);
}

}  // namespace

AccountCreditGateway::AccountCreditGateway(std::shared_ptr<grpc::Channel> channel,
                                           std::string token, absl::Duration timeout,
                                           Options options)
    : stub_(v1::AccountCredit::NewStub(channel)),
      token_(std::move(token)),
      timeout_(timeout),
      debits_([this](const std::vector<v1::DebitAccountRequest>& b) { return DebitBatch(b); },
              {.max_batch = options.max_batch,
               .max_in_flight = options.calls_in_flight,
               .on_batch = batch::SizeObserver("BatchDebitAccounts")}) {}

absl::StatusOr<DebitResult> AccountCreditGateway::DebitUpTo(const std::string& account_id,
                                                            const money::Money& max_amount,
                                                            const std::string& request_id,
                                                            const std::string& reference,
                                                            const std::string& traceparent) {
  v1::DebitAccountRequest request;
  request.set_account_id(account_id);
  *request.mutable_max_amount() = protoconv::ToProto(max_amount);
  request.set_allow_partial(true);
  request.set_request_id(request_id);
  request.set_reference(reference);
  request.set_traceparent(traceparent);
  return debits_.Run(std::move(request));
}

std::vector<absl::StatusOr<DebitResult>> AccountCreditGateway::DebitBatch(
    const std::vector<v1::DebitAccountRequest>& batch) {
  v1::BatchDebitAccountsRequest request;
  for (const auto& item : batch) *request.add_requests() = item;
  v1::BatchDebitAccountsResponse response;
  grpc::ClientContext context;
  server::PrepareContext(context, token_, timeout_);
  const grpc::Status status = stub_->BatchDebitAccounts(&context, request, &response);
  std::vector<absl::StatusOr<DebitResult>> out;
  for (auto& transfer :
       protoconv::TransferResults(status, response.results(), batch.size(), "account-credit")) {
    if (!transfer.ok()) {
      out.push_back(transfer.status());
    } else {
      out.push_back(ResultOf(*transfer));
    }
  }
  return out;
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

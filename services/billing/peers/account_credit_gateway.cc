#include "services/billing/peers/account_credit_gateway.h"

#include "errors/grpc_status.h"
#include "errors/status.h"
#include "protoconv/protoconv.h"
#include "server/client.h"

namespace giftcard::billing {

v1::DebitAccountRequest DebitRequest(const std::string& account_id, const money::Money& max_amount,
                                     const std::string& request_id, const std::string& reference,
                                     const std::string& traceparent) {
  v1::DebitAccountRequest request;
  request.set_account_id(account_id);
  *request.mutable_max_amount() = protoconv::ToProto(max_amount);
  request.set_allow_partial(true);
  request.set_request_id(request_id);
  request.set_reference(reference);
  request.set_traceparent(traceparent);
  return request;
}

absl::StatusOr<DebitResult> DebitResultOf(const absl::StatusOr<v1::Transfer>& transfer) {
  if (!transfer.ok()) return transfer.status();
  return DebitResult{transfer->transfer_id(), transfer->amount().amount_minor(),
                     transfer->balance().amount_minor()};
}

AccountCreditGateway::AccountCreditGateway(std::shared_ptr<grpc::Channel> channel,
                                           std::string token, absl::Duration timeout,
                                           Options options)
    : peer_(std::move(channel), std::move(token), timeout),
      debits_([this](const std::vector<v1::DebitAccountRequest>& b) { return DebitBatch(b); },
              {.max_batch = options.max_batch,
               .max_in_flight = options.calls_in_flight,
               .on_batch = batch::SizeObserver("BatchDebitAccounts")}) {}

absl::StatusOr<DebitResult> AccountCreditGateway::DebitUpTo(const std::string& account_id,
                                                            const money::Money& max_amount,
                                                            const std::string& request_id,
                                                            const std::string& reference,
                                                            const std::string& traceparent) {
  return debits_.Run(DebitRequest(account_id, max_amount, request_id, reference, traceparent));
}

std::vector<absl::StatusOr<DebitResult>> AccountCreditGateway::DebitBatch(
    const std::vector<v1::DebitAccountRequest>& batch) {
  std::vector<absl::StatusOr<DebitResult>> out;
  for (auto& transfer : ledger_peer::SendBatch(peer_, batch))
    out.push_back(DebitResultOf(transfer));
  return out;
}

absl::StatusOr<DebitResult> AccountCreditGateway::Reverse(const std::string& transfer_id,
                                                          const std::string& request_id) {
  v1::ReverseTransferRequest request;
  request.set_transfer_id(transfer_id);
  request.set_request_id(request_id);
  v1::Transfer transfer;
  grpc::ClientContext context;
  server::PrepareContext(context, peer_.token, peer_.timeout);
  const grpc::Status status = peer_.stub->ReverseTransfer(&context, request, &transfer);
  // A failure without details (deadline, connection refused) is an unknown
  // outcome; the peer's own error keeps its reason and decision.
  if (!status.ok()) return errors::PeerError(errors::FromGrpcStatus(status), "account-credit");
  return DebitResultOf(transfer);
}

}  // namespace giftcard::billing

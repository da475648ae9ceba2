#include "services/code_vault/peers/account_credit_gateway.h"

#include "errors/grpc_status.h"
#include "errors/status.h"
#include "protoconv/protoconv.h"
#include "server/client.h"

namespace giftcard::code_vault {

absl::StatusOr<CreditResult> CreditResultOf(const absl::StatusOr<v1::Transfer>& transfer) {
  if (!transfer.ok()) return transfer.status();
  return CreditResult{transfer->transfer_id(), transfer->balance().amount_minor()};
}

AccountCreditGateway::AccountCreditGateway(std::shared_ptr<grpc::Channel> channel,
                                           std::string token, absl::Duration timeout,
                                           Options options)
    : peer_(std::move(channel), std::move(token), timeout),
      credits_([this](const std::vector<v1::CreditAccountRequest>& b) { return CreditBatch(b); },
               {.max_batch = options.max_batch,
                .max_in_flight = options.calls_in_flight,
                .on_batch = batch::SizeObserver("BatchCreditAccounts")}) {}

absl::StatusOr<CreditResult> AccountCreditGateway::Credit(
    const std::string& account_id, const money::Money& amount, const std::string& code_region,
    const std::string& request_id, const std::string& reference, const std::string& traceparent) {
  v1::CreditAccountRequest request;
  request.set_account_id(account_id);
  *request.mutable_amount() = protoconv::ToProto(amount);
  request.set_code_region(code_region);
  request.set_request_id(request_id);
  request.set_reference(reference);
  request.set_traceparent(traceparent);
  return credits_.Run(std::move(request));
}

absl::StatusOr<ClawbackOutcome> AccountCreditGateway::ClawBack(
    const std::string& credit_transfer_id, const std::string& request_id) {
  v1::ClawBackCreditRequest request;
  request.set_transfer_id(credit_transfer_id);
  request.set_request_id(request_id);
  v1::Transfer transfer;
  grpc::ClientContext context;
  server::PrepareContext(context, peer_.token, peer_.timeout);
  const grpc::Status status = peer_.stub->ClawBackCredit(&context, request, &transfer);
  // A failure without details (deadline, connection refused) is an unknown
  // outcome; the peer's own error keeps its reason and decision.
  if (!status.ok()) return errors::PeerError(errors::FromGrpcStatus(status), "account-credit");
  return ClawbackOutcome{transfer.transfer_id(), transfer.amount().amount_minor(),
                         transfer.balance().amount_minor()};
}

std::vector<absl::StatusOr<CreditResult>> AccountCreditGateway::CreditBatch(
    const std::vector<v1::CreditAccountRequest>& batch) {
  std::vector<absl::StatusOr<CreditResult>> out;
  for (auto& transfer : ledger_peer::SendBatch(peer_, batch))
    out.push_back(CreditResultOf(transfer));
  return out;
}

}  // namespace giftcard::code_vault

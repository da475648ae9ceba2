#include "services/code_vault/peers/loop_account_credit.h"

#include <utility>

#include "protoconv/protoconv.h"
#include "services/code_vault/peers/account_credit_gateway.h"

namespace giftcard::code_vault {

LoopAccountCredit::LoopAccountCredit(engine::Loop& loop, std::shared_ptr<grpc::Channel> channel,
                                     std::string token, absl::Duration timeout, Options options)
    : credits_(loop, ledger_peer::Peer(std::move(channel), std::move(token), timeout),
               options.max_batch, options.calls_in_flight) {}

void LoopAccountCredit::Credit(const Redemption& pending,
                               Callback<absl::StatusOr<CreditResult>> done) {
  v1::CreditAccountRequest request;
  request.set_account_id(pending.account_id);
  *request.mutable_amount() = protoconv::ToProto(pending.amount);
  request.set_code_region(pending.region);
  request.set_request_id(pending.redemption_id);
  request.set_reference(pending.serial);
  request.set_traceparent(pending.traceparent);
  credits_.Push(std::move(request),
                [done = std::move(done)](ledger_peer::TransferResult transfer) mutable {
                  std::move(done)(CreditResultOf(transfer));
                });
}

}  // namespace giftcard::code_vault

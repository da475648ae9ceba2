#include "services/billing/peers/loop_account_debit.h"

#include <utility>

#include "services/billing/peers/account_credit_gateway.h"

namespace giftcard::billing {

LoopAccountDebit::LoopAccountDebit(engine::Loop& loop, std::shared_ptr<grpc::Channel> channel,
                                   std::string token, absl::Duration timeout, Options options)
    : debits_(loop, ledger_peer::Peer(std::move(channel), std::move(token), timeout),
              options.max_batch, options.calls_in_flight) {}

void LoopAccountDebit::DebitUpTo(const std::string& account_id, const money::Money& max_amount,
                                 const std::string& request_id, const std::string& reference,
                                 const std::string& traceparent,
                                 Callback<absl::StatusOr<DebitResult>> done) {
  debits_.Push(DebitRequest(account_id, max_amount, request_id, reference, traceparent),
               [done = std::move(done)](ledger_peer::TransferResult transfer) mutable {
                 std::move(done)(DebitResultOf(transfer));
               });
}

}  // namespace giftcard::billing

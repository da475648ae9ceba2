#include "services/billing/peers/loop_account_debit.h"

#include "batch/batcher.h"
#include "protoconv/batch_results.h"
#include "protoconv/protoconv.h"
#include "server/client.h"

namespace giftcard::billing {

LoopAccountDebit::LoopAccountDebit(engine::Loop& loop, std::shared_ptr<grpc::Channel> channel,
                                   std::string token, absl::Duration timeout, Options options)
    : loop_(loop),
      stub_(v1::AccountCredit::NewStub(channel)),
      token_(std::move(token)),
      timeout_(timeout),
      debits_(loop,
              [this](std::vector<v1::DebitAccountRequest> batch,
                     engine::Stage<v1::DebitAccountRequest, Result>::BatchDone done) {
                Send(std::move(batch), std::move(done));
              },
              {.max_batch = options.max_batch,
               .max_in_flight = options.calls_in_flight,
               .on_batch = batch::SizeObserver("BatchDebitAccounts")}) {}

void LoopAccountDebit::DebitUpTo(const std::string& account_id, const money::Money& max_amount,
                                 const std::string& request_id, const std::string& reference,
                                 const std::string& traceparent,
                                 Callback<absl::StatusOr<DebitResult>> done) {
  v1::DebitAccountRequest request;
  request.set_account_id(account_id);
  *request.mutable_max_amount() = protoconv::ToProto(max_amount);
  request.set_allow_partial(true);
  request.set_request_id(request_id);
  request.set_reference(reference);
  request.set_traceparent(traceparent);
  debits_.Push(std::move(request), std::move(done));
}

void LoopAccountDebit::Send(std::vector<v1::DebitAccountRequest> batch,
                            engine::Stage<v1::DebitAccountRequest, Result>::BatchDone done) {
  struct Call {
    grpc::ClientContext context;
    v1::BatchDebitAccountsRequest request;
    v1::BatchDebitAccountsResponse response;
    engine::Stage<v1::DebitAccountRequest, Result>::BatchDone done;
    size_t size = 0;
  };
  auto call = std::make_shared<Call>();
  call->size = batch.size();
  call->done = std::move(done);
  for (auto& item : batch) *call->request.add_requests() = std::move(item);
  server::PrepareContext(call->context, token_, timeout_);
  stub_->async()->BatchDebitAccounts(
      &call->context, &call->request, &call->response, [this, call](grpc::Status status) {
        // On one of gRPC's threads: the answers are the loop's business.
        loop_.Post([call, status = std::move(status)]() mutable {
          std::vector<Result> out;
          for (auto& transfer : protoconv::TransferResults(status, call->response.results(),
                                                           call->size, "account-credit")) {
            if (!transfer.ok()) {
              out.push_back(transfer.status());
            } else {
              out.push_back(DebitResult{transfer->transfer_id(), transfer->amount().amount_minor(),
                                        transfer->balance().amount_minor()});
            }
          }
          std::move(call->done)(std::move(out));
        });
      });
}

}  // namespace giftcard::billing

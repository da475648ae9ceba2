#include "services/code_vault/peers/loop_account_credit.h"

#include "batch/batcher.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "protoconv/batch_results.h"
#include "protoconv/protoconv.h"
#include "server/client.h"

namespace giftcard::code_vault {

LoopAccountCredit::LoopAccountCredit(engine::Loop& loop, std::shared_ptr<grpc::Channel> channel,
                                     std::string token, absl::Duration timeout, Options options)
    : loop_(loop),
      stub_(v1::AccountCredit::NewStub(channel)),
      token_(std::move(token)),
      timeout_(timeout),
      credits_(loop,
               [this](std::vector<v1::CreditAccountRequest> batch,
                      engine::Stage<v1::CreditAccountRequest, Result>::BatchDone done) {
                 Send(std::move(batch), std::move(done));
               },
               {.max_batch = options.max_batch,
                .max_in_flight = options.calls_in_flight,
                .on_batch = batch::SizeObserver("BatchCreditAccounts")}) {}

void LoopAccountCredit::Credit(const Redemption& pending,
                               Callback<absl::StatusOr<CreditResult>> done) {
  v1::CreditAccountRequest request;
  request.set_account_id(pending.account_id);
  *request.mutable_amount() = protoconv::ToProto(pending.amount);
  request.set_code_region(pending.region);
  request.set_request_id(pending.redemption_id);
  request.set_reference(pending.serial);
  request.set_traceparent(pending.traceparent);
  credits_.Push(std::move(request), std::move(done));
}

void LoopAccountCredit::Send(std::vector<v1::CreditAccountRequest> batch,
                             engine::Stage<v1::CreditAccountRequest, Result>::BatchDone done) {
  struct Call {
    grpc::ClientContext context;
    v1::BatchCreditAccountsRequest request;
    v1::BatchCreditAccountsResponse response;
    engine::Stage<v1::CreditAccountRequest, Result>::BatchDone done;
    size_t size = 0;
  };
  auto call = std::make_shared<Call>();
  call->size = batch.size();
  call->done = std::move(done);
  for (auto& item : batch) *call->request.add_requests() = std::move(item);
  server::PrepareContext(call->context, token_, timeout_);
  stub_->async()->BatchCreditAccounts(
      &call->context, &call->request, &call->response, [this, call](grpc::Status status) {
        // On one of gRPC's threads: the answers are the loop's business.
        loop_.Post([call, status = std::move(status)]() mutable {
          std::vector<Result> out;
          for (auto& transfer : protoconv::TransferResults(status, call->response.results(),
                                                           call->size, "account-credit")) {
            if (!transfer.ok()) {
              out.push_back(transfer.status());
            } else {
              out.push_back(
                  CreditResult{transfer->transfer_id(), transfer->balance().amount_minor()});
            }
          }
          std::move(call->done)(std::move(out));
        });
      });
}

}  // namespace giftcard::code_vault

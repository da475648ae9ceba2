// account-credit's batch transfer calls as both of its callers make them:
// code-vault's credits (BatchCreditAccounts) and billing's debits
// (BatchDebitAccounts). Blocking, one call a batch (the worker path), or on
// an engine's loop: items gather at a stage while a call is in flight, go
// as the next call through gRPC's callback client, and are answered back on
// the loop. Each item is answered by its position; a failed call answers
// every item with its failure, an unknown outcome to retry with the same
// request ids (protoconv::TransferResults).
#ifndef GIFTCARD_LIBS_LEDGER_PEER_TRANSFER_BATCHES_H_
#define GIFTCARD_LIBS_LEDGER_PEER_TRANSFER_BATCHES_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "batch/batcher.h"
#include "engine/loop.h"
#include "engine/stage.h"
#include "giftcard/v1/account_credit.grpc.pb.h"
#include "protoconv/batch_results.h"
#include "server/client.h"

namespace giftcard::ledger_peer {

using TransferResult = absl::StatusOr<v1::Transfer>;

// The peer as its callers reach it: a stub, the caller's token, each
// call's deadline.
struct Peer {
  Peer(std::shared_ptr<grpc::Channel> channel, std::string token, absl::Duration timeout)
      : stub(v1::AccountCredit::NewStub(std::move(channel))),
        token(std::move(token)),
        timeout(timeout) {}
  std::unique_ptr<v1::AccountCredit::Stub> stub;
  const std::string token;
  const absl::Duration timeout;
};

// The batch call an item goes in.
template <typename Item>
struct BatchCall;

template <>
struct BatchCall<v1::CreditAccountRequest> {
  using Request = v1::BatchCreditAccountsRequest;
  using Response = v1::BatchCreditAccountsResponse;
  static constexpr char kName[] = "BatchCreditAccounts";
  static grpc::Status Call(const Peer& peer, grpc::ClientContext* context, const Request& request,
                           Response* response) {
    return peer.stub->BatchCreditAccounts(context, request, response);
  }
  static void Start(const Peer& peer, grpc::ClientContext* context, const Request* request,
                    Response* response, std::function<void(grpc::Status)> done) {
    peer.stub->async()->BatchCreditAccounts(context, request, response, std::move(done));
  }
};

template <>
struct BatchCall<v1::DebitAccountRequest> {
  using Request = v1::BatchDebitAccountsRequest;
  using Response = v1::BatchDebitAccountsResponse;
  static constexpr char kName[] = "BatchDebitAccounts";
  static grpc::Status Call(const Peer& peer, grpc::ClientContext* context, const Request& request,
                           Response* response) {
    return peer.stub->BatchDebitAccounts(context, request, response);
  }
  static void Start(const Peer& peer, grpc::ClientContext* context, const Request* request,
                    Response* response, std::function<void(grpc::Status)> done) {
    peer.stub->async()->BatchDebitAccounts(context, request, response, std::move(done));
  }
};

// One blocking batch call.
template <typename Item>
std::vector<TransferResult> SendBatch(const Peer& peer, const std::vector<Item>& items) {
  typename BatchCall<Item>::Request request;
  for (const Item& item : items) *request.add_requests() = item;
  typename BatchCall<Item>::Response response;
  grpc::ClientContext context;
  server::PrepareContext(context, peer.token, peer.timeout);
  const grpc::Status status = BatchCall<Item>::Call(peer, &context, request, &response);
  return protoconv::TransferResults(status, response.results(), items.size(), "account-credit");
}

// Batch calls from an engine's loop; built, used and destroyed on its thread.
template <typename Item>
class LoopTransferBatches {
 public:
  using Answer = absl::AnyInvocable<void(TransferResult) &&>;

  LoopTransferBatches(engine::Loop& loop, Peer peer, size_t max_batch, size_t calls_in_flight)
      : loop_(loop),
        peer_(std::move(peer)),
        stage_(loop,
               [this](std::vector<Item> batch, typename Stage::BatchDone done) {
                 Send(std::move(batch), std::move(done));
               },
               {.max_batch = max_batch,
                .max_in_flight = calls_in_flight,
                .on_batch = batch::SizeObserver(BatchCall<Item>::kName)}) {}

  void Push(Item item, Answer answer) { stage_.Push(std::move(item), std::move(answer)); }

 private:
  using Stage = engine::Stage<Item, TransferResult>;

  void Send(std::vector<Item> batch, typename Stage::BatchDone done) {
    struct Call {
      grpc::ClientContext context;
      typename BatchCall<Item>::Request request;
      typename BatchCall<Item>::Response response;
      typename Stage::BatchDone done;
      size_t size = 0;
    };
    auto call = std::make_shared<Call>();
    call->size = batch.size();
    call->done = std::move(done);
    for (Item& item : batch) *call->request.add_requests() = std::move(item);
    server::PrepareContext(call->context, peer_.token, peer_.timeout);
    BatchCall<Item>::Start(peer_, &call->context, &call->request, &call->response,
                           [this, call](grpc::Status status) {
                             // On one of gRPC's threads: the answers are the loop's business.
                             loop_.Post([call, status = std::move(status)]() mutable {
                               std::move(call->done)(protoconv::TransferResults(
                                   status, call->response.results(), call->size, "account-credit"));
                             });
                           });
  }

  engine::Loop& loop_;
  const Peer peer_;
  Stage stage_;
};

}  // namespace giftcard::ledger_peer

#endif  // GIFTCARD_LIBS_LEDGER_PEER_TRANSFER_BATCHES_H_

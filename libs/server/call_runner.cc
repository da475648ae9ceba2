#include "server/call_runner.h"

#include "absl/strings/str_cat.h"
#include "deadline/deadline.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "log/log.h"
#include "metrics/registry.h"
#include "server/call_deadline.h"

namespace giftcard::server {
namespace {

metrics::Counter& RefusedCalls() {
  static metrics::Counter& counter = metrics::Global().AddCounter(
      "giftcard_calls_refused_total",
      "Calls refused by admission control (RESOURCE_EXHAUSTED/OVERLOADED): their lane's "
      "queue was at its bound.",
      {"lane"});
  return counter;
}

}  // namespace

CallRunner::CallRunner(CallRunnerOptions options) : options_(std::move(options)) {
  RefusedCalls();  // Listed in /metrics from the start, before the first refusal.
  reads_.name = "read";
  writes_.name = "write";
  for (Queue* queue : {&reads_, &writes_}) {
    const int n = queue == &reads_ ? options_.read_workers : options_.write_workers;
    for (int i = 0; i < std::max(1, n); ++i) {
      queue->workers.emplace_back([this, queue] { Work(*queue); });
    }
    metrics::Global().AddCallback(
        absl::StrCat("giftcard_", queue->name, "_calls_queued"),
        absl::StrCat("Calls of the ", queue->name, " lane waiting for a worker."), "gauge",
        [queue] {
          absl::MutexLock lock(&queue->mu);
          return static_cast<double>(queue->calls.size());
        });
  }
  if (options_.test_hooks) {
    log::Warning("test_hooks_enabled", {{"why", "--enable_test_hooks; never use in production"}});
  }
}

CallRunner::~CallRunner() {
  for (Queue* queue : {&reads_, &writes_}) {
    metrics::Global().RemoveCallback(absl::StrCat("giftcard_", queue->name, "_calls_queued"));
    {
      absl::MutexLock lock(&queue->mu);
      queue->stopping = true;
    }
    queue->ready.SignalAll();
    for (std::thread& t : queue->workers) t.join();
  }
}

grpc::ServerUnaryReactor* CallRunner::Run(grpc::CallbackServerContext* context,
                                          absl::string_view method, Lane lane, Body body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Queue& queue = QueueOf(lane);
  bool admitted = false;
  {
    absl::MutexLock lock(&queue.mu);
    if (!queue.stopping &&
        queue.calls.size() < static_cast<size_t>(std::max(0, options_.max_queued_calls))) {
      queue.calls.push_back({context, reactor, std::string(method), std::move(body)});
      admitted = true;
    } else {
      ++queue.refused;
    }
  }
  if (admitted) {
    queue.ready.Signal();
    return reactor;
  }
  RefusedCalls().Increment({queue.name});
  reactor->Finish(errors::ToGrpcStatus(errors::WithRetryDelay(
      errors::Error(absl::StatusCode::kResourceExhausted, errors::reason::kOverloaded,
                    "the service is at its bound of queued calls; retry after the delay",
                    {{"method", std::string(method)},
                     {"max_queued_calls", absl::StrCat(options_.max_queued_calls)}}),
      options_.retry_after)));
  return reactor;
}

int64_t CallRunner::refused(Lane lane) const {
  const Queue& queue = QueueOf(lane);
  absl::MutexLock lock(&queue.mu);
  return queue.refused;
}

size_t CallRunner::queued(Lane lane) const {
  const Queue& queue = QueueOf(lane);
  absl::MutexLock lock(&queue.mu);
  return queue.calls.size();
}

void CallRunner::Work(Queue& queue) {
  while (true) {
    Call call;
    {
      absl::MutexLock lock(&queue.mu);
      while (queue.calls.empty() && !queue.stopping) queue.ready.Wait(&queue.mu);
      if (queue.calls.empty()) return;  // Stopping and drained.
      call = std::move(queue.calls.front());
      queue.calls.pop_front();
      if (queue.stopping) {
        call.reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "shutting down"));
        continue;
      }
    }
    Execute(call);
  }
}

void CallRunner::Execute(Call& call) const {
  const absl::Time deadline = CallDeadline(*call.context);
  // Waited past its deadline, or its caller left: the caller has its answer
  // from gRPC already, and running the body now would be wasted work.
  if (call.context->IsCancelled()) {
    call.reactor->Finish(grpc::Status::CANCELLED);
    return;
  }
  if (absl::Now() >= deadline) {
    call.reactor->Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                      "the deadline passed before a worker was free"));
    return;
  }
  if (options_.test_hooks) options_.test_hooks->BeforeHandler(call.method, *call.context);
  grpc::Status status;
  {
    const deadline::Scope call_deadline(deadline);
    status = call.body();
  }
  if (options_.test_hooks) options_.test_hooks->AfterHandler(call.method);
  call.reactor->Finish(status);
}

}  // namespace giftcard::server

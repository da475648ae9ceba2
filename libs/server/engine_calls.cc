#include "server/engine_calls.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "metrics/registry.h"

namespace giftcard::server {

grpc::Status EnterEngine(std::atomic<int>& in_flight, int max, absl::Duration retry_after,
                         absl::string_view method) {
  if (in_flight.fetch_add(1) < max) return grpc::Status::OK;
  in_flight.fetch_sub(1);
  return errors::ToGrpcStatus(errors::WithRetryDelay(
      errors::Error(absl::StatusCode::kResourceExhausted, errors::reason::kOverloaded,
                    "the service is at its bound of calls in flight; retry after the delay",
                    {{"method", std::string(method)}, {"max_in_flight", absl::StrCat(max)}}),
      retry_after));
}

void ExportEngineMetrics(const engine::Loop& loop) {
  metrics::Global().AddCallback(
      "giftcard_engine_tasks_total",
      "Tasks the engine's loop ran (calls posted to it and continuations).", "counter",
      [&loop] { return static_cast<double>(loop.tasks_run()); });
  metrics::Global().AddCallback(
      "giftcard_engine_wakeups_total",
      "Times another thread woke the engine's loop; tasks per wake-up is what a wake-up buys.",
      "counter", [&loop] { return static_cast<double>(loop.wakeups()); });
}

}  // namespace giftcard::server

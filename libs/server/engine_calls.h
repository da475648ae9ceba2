// What the services' engines share at their edge: the bound on the calls an
// engine holds at once, and the engine loop's metrics.
#ifndef GIFTCARD_LIBS_SERVER_ENGINE_CALLS_H_
#define GIFTCARD_LIBS_SERVER_ENGINE_CALLS_H_

#include <grpcpp/grpcpp.h>

#include <atomic>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/loop.h"

namespace giftcard::server {

// Counts a call into `in_flight` and returns OK while fewer than `max` are
// there; past it counts nothing and returns the refusal to answer with,
// RESOURCE_EXHAUSTED/OVERLOADED with a RetryInfo of `retry_after`. The
// caller takes a counted call out (fetch_sub) when it answers it.
grpc::Status EnterEngine(std::atomic<int>& in_flight, int max, absl::Duration retry_after,
                         absl::string_view method);

// giftcard_engine_tasks_total and giftcard_engine_wakeups_total of `loop`,
// which outlives the metrics registry's scrapes.
void ExportEngineMetrics(const engine::Loop& loop);

}  // namespace giftcard::server

#endif  // GIFTCARD_LIBS_SERVER_ENGINE_CALLS_H_

#include "outbox/runtime.h"

#include "metrics/registry.h"

namespace giftcard::outbox {
namespace {

constexpr char kRelayed[] = "giftcard_events_relayed_total";
constexpr char kPruned[] = "giftcard_events_pruned_total";
constexpr char kWatchers[] = "giftcard_event_watchers";

}  // namespace

Runtime::Runtime(pg::Pool& pool, RuntimeOptions options)
    : log_(pool),
      relay_(log_, options.retention),
      watch_(log_, {.types = std::move(options.types), .poll_interval = options.relay_interval}),
      task_("event-relay", options.relay_interval, [this] { relay_.Pass(); }) {
  metrics::Global().AddCallback(kRelayed, "Events moved from the outbox to the event log.",
                                "counter", [this] { return relay_.relayed(); });
  metrics::Global().AddCallback(kPruned, "Events pruned past the retention.", "counter",
                                [this] { return relay_.pruned(); });
  metrics::Global().AddCallback(kWatchers, "WatchEvents streams open now.", "gauge",
                                [this] { return watch_.watchers(); });
}

Runtime::~Runtime() {
  metrics::Global().RemoveCallback(kRelayed);
  metrics::Global().RemoveCallback(kPruned);
  metrics::Global().RemoveCallback(kWatchers);
}

}  // namespace giftcard::outbox

// What a service runs for its transactional outbox: the relay on its own
// thread (moving committed events and pruning old ones), the WatchEvents
// streams, and their metrics. main() makes one and hands watch() to the
// handler; Stop() ends the streams when shutdown starts.
#ifndef GIFTCARD_LIBS_OUTBOX_RUNTIME_H_
#define GIFTCARD_LIBS_OUTBOX_RUNTIME_H_

#include <string>
#include <vector>

#include "outbox/event_log.h"
#include "outbox/watch.h"
#include "pg/pool.h"
#include "server/periodic.h"

namespace giftcard::outbox {

struct RuntimeOptions {
  std::vector<std::string> types;  // The service's event types.
  absl::Duration relay_interval = absl::Milliseconds(100);
  absl::Duration retention = absl::Hours(24 * 7);
};

class Runtime {
 public:
  // `pool` must prepare EventLog::Statements().
  Runtime(pg::Pool& pool, RuntimeOptions options);
  ~Runtime();

  EventWatch& watch() { return watch_; }
  void Stop() { watch_.Stop(); }

 private:
  EventLog log_;
  Relay relay_;
  EventWatch watch_;
  server::PeriodicTask task_;
};

}  // namespace giftcard::outbox

#endif  // GIFTCARD_LIBS_OUTBOX_RUNTIME_H_

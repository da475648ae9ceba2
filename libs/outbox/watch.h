// WatchEvents, shared by the three services: validates the request, then
// streams the service's events (outbox/event_log.h) in id order, polling for
// new ones, until the client goes, the service stops, or — with
// stop_when_caught_up — every event committed before the call was sent.
#ifndef GIFTCARD_LIBS_OUTBOX_WATCH_H_
#define GIFTCARD_LIBS_OUTBOX_WATCH_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/sync_stream.h>

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "giftcard/v1/common.pb.h"
#include "outbox/event_log.h"

namespace giftcard::outbox {

struct WatchOptions {
  std::vector<std::string> types;  // The service's event types.
  absl::Duration poll_interval = absl::Milliseconds(100);
  int max_watchers = 64;  // More streams at once: RESOURCE_EXHAUSTED.
  int batch = 500;        // Events read per poll.
};

class EventWatch {
 public:
  EventWatch(EventLog& log, WatchOptions options);

  // Serves one WatchEvents call on its (synchronous) handler thread.
  grpc::Status Serve(grpc::ServerContext& context, const v1::WatchEventsRequest& request,
                     grpc::ServerWriter<v1::Event>& writer);
  // Ends every stream now (shutdown) with UNAVAILABLE: consumers resume
  // from their last id on another replica.
  void Stop() { stopping_.Notify(); }
  int watchers() const;

 private:
  absl::Status Validate(const v1::WatchEventsRequest& request) const;
  // Counts a stream in, or refuses it past max_watchers.
  absl::Status Enter();
  void Leave();
  // The resume position against the log as it is now: one read past a
  // restore point, or past the newest event, is refused.
  absl::Status CheckResumePosition(const v1::WatchEventsRequest& request, const EventBounds& start);
  // Writes the events after query.after_event_id until the client goes, the
  // stream caught up (stop_when_caught_up) or the service stops.
  grpc::Status Stream(grpc::ServerContext& context, const v1::WatchEventsRequest& request,
                      EventQuery& query, const std::string& stream_epoch,
                      grpc::ServerWriter<v1::Event>& writer);

  EventLog& log_;
  const WatchOptions options_;
  absl::Notification stopping_;
  mutable absl::Mutex mu_;
  int watchers_ ABSL_GUARDED_BY(mu_) = 0;
};

void ToProto(const Event& event, v1::Event* out);

}  // namespace giftcard::outbox

#endif  // GIFTCARD_LIBS_OUTBOX_WATCH_H_

#include "outbox/watch.h"

#include <algorithm>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "protoconv/protoconv.h"
#include "validate/validate.h"

namespace giftcard::outbox {

void ToProto(const Event& e, v1::Event* out) {
  out->set_event_id(e.event_id);
  out->set_type(e.type);
  protoconv::ToTimestamp(e.event_time, out->mutable_event_time());
  out->set_serial(e.serial);
  out->set_batch_id(e.batch_id);
  out->set_account_id(e.account_id);
  out->set_redemption_id(e.redemption_id);
  out->set_transfer_id(e.transfer_id);
  out->set_invoice_id(e.invoice_id);
  out->set_request_id(e.request_id);
  if (e.amount_minor)
    *out->mutable_amount() = protoconv::ToProto({e.currency_code, *e.amount_minor});
  if (e.balance_minor) {
    *out->mutable_balance() = protoconv::ToProto({e.currency_code, *e.balance_minor});
  }
}

EventWatch::EventWatch(EventLog& log, WatchOptions options)
    : log_(log), options_(std::move(options)) {}

int EventWatch::watchers() const {
  absl::MutexLock lock(&mu_);
  return watchers_;
}

absl::Status EventWatch::Validate(const v1::WatchEventsRequest& request) const {
  if (request.after_event_id() < 0) {
    return errors::InvalidField("after_event_id", "must be 0 (from the oldest kept) or more");
  }
  for (int i = 0; i < request.types_size(); ++i) {
    if (std::find(options_.types.begin(), options_.types.end(), request.types(i)) ==
        options_.types.end()) {
      return errors::InvalidField(absl::StrCat("types[", i, "]"),
                                  absl::StrCat("is not one of this service's event types: ",
                                               absl::StrJoin(options_.types, ", ")));
    }
  }
  if (!request.serial().empty()) {
    if (absl::Status s = validate::Serial("serial", validate::CanonicalSerial(request.serial()));
        !s.ok())
      return s;
  }
  if (!request.account_id().empty()) {
    if (absl::Status s = validate::Id("account_id", request.account_id()); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status EventWatch::Enter() {
  absl::MutexLock lock(&mu_);
  if (watchers_ >= options_.max_watchers) {
    return errors::WithRetryDelay(
        errors::Error(absl::StatusCode::kResourceExhausted, errors::reason::kOverloaded,
                      absl::StrCat("at most ", options_.max_watchers,
                                   " WatchEvents streams at once per replica")),
        absl::Seconds(5));
  }
  ++watchers_;
  return absl::OkStatus();
}

void EventWatch::Leave() {
  absl::MutexLock lock(&mu_);
  --watchers_;
}

absl::Status EventWatch::CheckResumePosition(const v1::WatchEventsRequest& request,
                                             const EventBounds& start) {
  // A restore to an earlier point since the consumer's last read: ids
  // past the restore point now name other events. A consumer that had not
  // read past it reads on (its events carry the new epoch); one that had
  // is told, before anything is sent, where the streams part.
  if (!request.stream_epoch().empty() && request.stream_epoch() != start.stream_epoch) {
    absl::StatusOr<int64_t> shared = log_.EpochSharedThrough(request.stream_epoch());
    if (!shared.ok()) return shared.status();
    if (request.after_event_id() > *shared) {
      return errors::Error(
          absl::StatusCode::kFailedPrecondition, errors::reason::kEventStreamRestored,
          absl::StrCat("the event stream was restored to an earlier point: the events read "
                       "after id ",
                       *shared,
                       " did not survive it, and their ids now name other events. Resume "
                       "with after_event_id=",
                       *shared, " and stream_epoch=", start.stream_epoch),
          {{"last_event_id", absl::StrCat(*shared)}, {"stream_epoch", start.stream_epoch}});
    }
  }
  // Past the newest event: a cursor from another database, say a restored
  // backup's. Said once, at the start.
  if (request.after_event_id() > start.last) {
    return errors::InvalidField("after_event_id",
                                absl::StrCat("is past the newest event (", start.last, ")"));
  }
  return absl::OkStatus();
}

grpc::Status EventWatch::Stream(grpc::ServerContext& context, const v1::WatchEventsRequest& request,
                                EventQuery& query, const std::string& stream_epoch,
                                grpc::ServerWriter<v1::Event>& writer) {
  while (!context.IsCancelled()) {
    absl::StatusOr<std::vector<Event>> events = log_.Read(query);
    if (!events.ok()) return errors::ToGrpcStatus(events.status());
    // Read, then check: if pruning has passed the cursor (it removes the
    // oldest ids first), events the consumer never saw may be gone, and it
    // must be told rather than skip them.
    absl::StatusOr<EventBounds> bounds = log_.Bounds();
    if (!bounds.ok()) return errors::ToGrpcStatus(bounds.status());
    if (query.after_event_id > 0 && query.after_event_id < bounds->oldest_kept - 1) {
      return errors::ToGrpcStatus(
          errors::Error(absl::StatusCode::kOutOfRange, errors::reason::kEventsPruned,
                        absl::StrCat("events after ", query.after_event_id,
                                     " were pruned; the oldest kept is ", bounds->oldest_kept),
                        {{"oldest_event_id", absl::StrCat(bounds->oldest_kept)}}));
    }
    for (const Event& e : *events) {
      v1::Event out;
      ToProto(e, &out);
      out.set_stream_epoch(stream_epoch);
      if (!writer.Write(out)) return grpc::Status::CANCELLED;  // The client went.
      query.after_event_id = e.event_id;
    }
    if (static_cast<int>(events->size()) == query.limit) continue;  // More at once.
    // Caught up: every event committed before this read began was in it.
    if (request.stop_when_caught_up()) return grpc::Status::OK;
    if (stopping_.WaitForNotificationWithTimeout(options_.poll_interval)) {
      return errors::ToGrpcStatus(errors::Error(
          absl::StatusCode::kUnavailable, errors::reason::kDependencyUnavailable,
          absl::StrCat("the service is stopping; resume after event ", query.after_event_id),
          {{"after_event_id", absl::StrCat(query.after_event_id)}}));
    }
  }
  return grpc::Status::CANCELLED;
}

grpc::Status EventWatch::Serve(grpc::ServerContext& context, const v1::WatchEventsRequest& request,
                               grpc::ServerWriter<v1::Event>& writer) {
  if (absl::Status s = Validate(request); !s.ok()) return errors::ToGrpcStatus(s);
  if (absl::Status s = Enter(); !s.ok()) return errors::ToGrpcStatus(s);
  const absl::Cleanup leave = [this] { Leave(); };
  absl::StatusOr<EventBounds> start = log_.Bounds();
  if (!start.ok()) return errors::ToGrpcStatus(start.status());
  if (absl::Status s = CheckResumePosition(request, *start); !s.ok()) {
    return errors::ToGrpcStatus(s);
  }
  // The promise of stop_when_caught_up: every event committed before the
  // call, including those the relay has not moved yet (it runs every
  // poll interval).
  if (request.stop_when_caught_up()) {
    if (absl::Status caught_up = log_.CatchUp(options_.batch); !caught_up.ok()) {
      return errors::ToGrpcStatus(caught_up);
    }
  }
  EventQuery query;
  query.after_event_id = request.after_event_id();
  query.types.assign(request.types().begin(), request.types().end());
  query.serial = validate::CanonicalSerial(request.serial());
  query.account_id = request.account_id();
  query.limit = options_.batch;
  return Stream(context, request, query, start->stream_epoch, writer);
}

}  // namespace giftcard::outbox

#include "services/gateway/upstream/grpc_upstream.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"

namespace giftcard::gateway {
namespace {

grpc::ByteBuffer ToBuffer(const google::protobuf::Message& message) {
  grpc::Slice slice(message.SerializeAsString());
  return grpc::ByteBuffer(&slice, 1);
}

bool FromBuffer(const grpc::ByteBuffer& buffer, google::protobuf::Message* message) {
  std::vector<grpc::Slice> slices;
  if (!buffer.Dump(&slices).ok()) return false;
  std::string bytes;
  for (const grpc::Slice& s : slices) {
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return message->ParseFromString(bytes);
}

grpc::Status Malformed(const std::string& method) {
  return grpc::Status(grpc::StatusCode::INTERNAL,
                      absl::StrCat("the answer of ", method, " did not parse"));
}

// Tags of the per-stream completion queue.
void* Tag(int n) { return reinterpret_cast<void*>(static_cast<intptr_t>(n)); }

}  // namespace

GrpcUpstream::GrpcUpstream(std::map<std::string, std::shared_ptr<grpc::Channel>> channels)
    : channels_(std::move(channels)) {
  for (const auto& [service, channel] : channels_) {
    stubs_[service] = std::make_unique<grpc::GenericStub>(channel);
  }
}

grpc::GenericStub* GrpcUpstream::StubFor(const std::string& service) const {
  auto it = stubs_.find(service);
  return it == stubs_.end() ? nullptr : it->second.get();
}

void GrpcUpstream::Prepare(const CallSpec& spec, grpc::ClientContext& context) const {
  context.set_deadline(absl::ToChronoTime(absl::Now() + spec.timeout));
  if (!spec.authorization.empty()) context.AddMetadata("authorization", spec.authorization);
  if (!spec.traceparent.empty()) context.AddMetadata("traceparent", spec.traceparent);
}

bool GrpcUpstream::Track(grpc::ClientContext* context, bool stream) {
  absl::MutexLock lock(&mu_);
  if (shut_down_ || (stream && streams_cancelled_)) return false;
  active_.emplace(context, stream);
  return true;
}

void GrpcUpstream::Untrack(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  active_.erase(context);
}

void GrpcUpstream::CancelStreams() {
  absl::MutexLock lock(&mu_);
  streams_cancelled_ = true;
  for (const auto& [context, stream] : active_) {
    if (stream) context->TryCancel();
  }
}

void GrpcUpstream::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  for (const auto& [context, stream] : active_) context->TryCancel();
}

grpc::Status GrpcUpstream::Unary(const CallSpec& spec, const google::protobuf::Message& request,
                                 google::protobuf::Message* response) {
  grpc::GenericStub* stub = StubFor(spec.service);
  if (stub == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no upstream for " + spec.service);
  }
  grpc::ClientContext context;
  Prepare(spec, context);
  if (!Track(&context, /*stream=*/false)) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "gateway shutting down");
  }
  const grpc::ByteBuffer sent = ToBuffer(request);
  grpc::ByteBuffer received;
  grpc::Status status;
  absl::Notification done;
  stub->UnaryCall(&context, spec.method, grpc::StubOptions(), &sent, &received,
                  [&](grpc::Status s) {
                    status = std::move(s);
                    done.Notify();
                  });
  done.WaitForNotification();
  Untrack(&context);
  if (status.ok() && !FromBuffer(received, response)) return Malformed(spec.method);
  return status;
}

std::unique_ptr<GrpcUpstream::Stream> GrpcUpstream::StartStream(
    const CallSpec& spec, const google::protobuf::Message& request) {
  std::unique_ptr<Stream> stream(new Stream(this));
  stream->method_ = spec.method;
  grpc::GenericStub* stub = StubFor(spec.service);
  if (stub == nullptr) {
    stream->status_ =
        grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no upstream for " + spec.service);
    stream->finished_ = true;
    return stream;
  }
  Prepare(spec, stream->context_);
  if (!Track(&stream->context_, /*stream=*/true)) {
    stream->status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "gateway shutting down");
    stream->finished_ = true;
    return stream;
  }
  stream->tracked_ = true;
  stream->call_ = stub->PrepareCall(&stream->context_, spec.method, &stream->cq_);
  stream->call_->StartCall(Tag(1));
  const auto always = [] { return true; };
  using Waited = Stream::Waited;
  stream->open_ = stream->Await(Tag(1), absl::InfiniteFuture(), always) == Waited::kOk;
  if (stream->open_) {
    stream->call_->WriteLast(ToBuffer(request), grpc::WriteOptions(), Tag(2));
    stream->open_ = stream->Await(Tag(2), absl::InfiniteFuture(), always) == Waited::kOk;
  }
  return stream;
}

GrpcUpstream::Stream::Waited GrpcUpstream::Stream::Await(void* want, absl::Time deadline,
                                                         const std::function<bool()>& keep_going) {
  while (true) {
    const absl::Time step = std::min(deadline, absl::Now() + absl::Milliseconds(500));
    void* tag = nullptr;
    bool ok = false;
    const auto next = cq_.AsyncNext(&tag, &ok, absl::ToChronoTime(step));
    if (next == grpc::CompletionQueue::SHUTDOWN) return Waited::kFailed;
    if (next == grpc::CompletionQueue::GOT_EVENT) {
      if (tag == want) return ok ? Waited::kOk : Waited::kFailed;
      continue;  // An earlier operation's completion (a read given up on).
    }
    if (!keep_going()) context_.TryCancel();
    if (absl::Now() >= deadline) return Waited::kTimedOut;
  }
}

GrpcUpstream::Stream::Polled GrpcUpstream::Stream::Poll(google::protobuf::Message* out,
                                                        absl::Duration wait,
                                                        const std::function<bool()>& keep_going) {
  const absl::Time deadline = absl::Now() + wait;
  while (open_) {
    if (!read_pending_) {
      read_buffer_.Clear();
      call_->Read(&read_buffer_, Tag(3));
      read_pending_ = true;
    }
    const Waited waited = Await(Tag(3), deadline, keep_going);
    if (waited == Waited::kTimedOut) return Polled::kNotYet;
    read_pending_ = false;
    if (waited == Waited::kFailed) {
      open_ = false;
      break;
    }
    if (FromBuffer(read_buffer_, out)) return Polled::kMessage;
    parse_failed_ = true;
    context_.TryCancel();  // The next Read fails.
  }
  return Polled::kEnd;
}

bool GrpcUpstream::Stream::Next(google::protobuf::Message* out,
                                const std::function<bool()>& keep_going) {
  return Poll(out, absl::InfiniteDuration(), keep_going) == Polled::kMessage;
}

grpc::Status GrpcUpstream::Stream::Finish() {
  if (finished_) return status_;
  finished_ = true;
  if (call_ != nullptr) {
    const auto always = [] { return true; };
    if (read_pending_) {  // Given up on: cancel, and let it complete first.
      context_.TryCancel();
      Await(Tag(3), absl::InfiniteFuture(), always);
      read_pending_ = false;
    }
    call_->Finish(&status_, Tag(4));
    Await(Tag(4), absl::InfiniteFuture(), always);
  }
  if (parse_failed_) status_ = Malformed(method_);
  return status_;
}

GrpcUpstream::Stream::~Stream() {
  if (!finished_ && call_ != nullptr) {
    context_.TryCancel();
    Finish();
  }
  cq_.Shutdown();
  void* tag = nullptr;
  bool ok = false;
  while (cq_.Next(&tag, &ok)) {
  }
  if (tracked_) upstream_->Untrack(&context_);
}

std::vector<std::string> GrpcUpstream::Unreachable(absl::Duration wait) {
  std::vector<std::string> out;
  const auto deadline = absl::ToChronoTime(absl::Now() + wait);
  for (const auto& [service, channel] : channels_) {
    grpc_connectivity_state state = channel->GetState(/*try_to_connect=*/true);
    while (state != GRPC_CHANNEL_READY && channel->WaitForStateChange(state, deadline)) {
      state = channel->GetState(true);
    }
    if (state != GRPC_CHANNEL_READY) out.push_back(service);
  }
  return out;
}

}  // namespace giftcard::gateway

#include "services/gateway/upstream/grpc_upstream.h"

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
}

bool GrpcUpstream::Track(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  if (shut_down_) return false;
  active_.insert(context);
  return true;
}

void GrpcUpstream::Untrack(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  active_.erase(context);
}

void GrpcUpstream::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  for (grpc::ClientContext* context : active_) context->TryCancel();
}

grpc::Status GrpcUpstream::Unary(const CallSpec& spec, const google::protobuf::Message& request,
                                 google::protobuf::Message* response) {
  grpc::GenericStub* stub = StubFor(spec.service);
  if (stub == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no upstream for " + spec.service);
  }
  grpc::ClientContext context;
  Prepare(spec, context);
  if (!Track(&context)) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "gateway shutting down");
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
  if (!Track(&stream->context_)) {
    stream->status_ = grpc::Status(grpc::StatusCode::UNAVAILABLE, "gateway shutting down");
    stream->finished_ = true;
    return stream;
  }
  stream->tracked_ = true;
  stream->call_ = stub->PrepareCall(&stream->context_, spec.method, &stream->cq_);
  stream->call_->StartCall(Tag(1));
  const auto always = [] { return true; };
  stream->open_ = stream->Await(Tag(1), always);
  if (stream->open_) {
    stream->call_->WriteLast(ToBuffer(request), grpc::WriteOptions(), Tag(2));
    stream->open_ = stream->Await(Tag(2), always);
  }
  return stream;
}

bool GrpcUpstream::Stream::Await(void* want, const std::function<bool()>& keep_going) {
  while (true) {
    void* tag = nullptr;
    bool ok = false;
    const auto next =
        cq_.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    if (next == grpc::CompletionQueue::GOT_EVENT && tag == want) return ok;
    if (next == grpc::CompletionQueue::SHUTDOWN) return false;
    if (next == grpc::CompletionQueue::TIMEOUT && !keep_going()) context_.TryCancel();
  }
}

bool GrpcUpstream::Stream::Next(google::protobuf::Message* out,
                                const std::function<bool()>& keep_going) {
  while (open_) {
    grpc::ByteBuffer buffer;
    call_->Read(&buffer, Tag(3));
    if (!Await(Tag(3), keep_going)) {
      open_ = false;
      break;
    }
    if (FromBuffer(buffer, out)) return true;
    parse_failed_ = true;
    context_.TryCancel();  // The next Read fails.
  }
  return false;
}

grpc::Status GrpcUpstream::Stream::Finish() {
  if (finished_) return status_;
  finished_ = true;
  if (call_ != nullptr) {
    call_->Finish(&status_, Tag(4));
    Await(Tag(4), [] { return true; });
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

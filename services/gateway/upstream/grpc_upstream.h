// Calls any method of the three services by its full name, with messages
// of the types its descriptor names (grpc's generic stub: no generated stub
// per service). Each call forwards the HTTP caller's `authorization` and
// carries a deadline; Shutdown() cancels the calls still running.
#ifndef GIFTCARD_SERVICES_GATEWAY_UPSTREAM_GRPC_UPSTREAM_H_
#define GIFTCARD_SERVICES_GATEWAY_UPSTREAM_GRPC_UPSTREAM_H_

#include <google/protobuf/message.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace giftcard::gateway {

class GrpcUpstream {
 public:
  // Channels by service full name ("giftcard.v1.CodeVault").
  explicit GrpcUpstream(std::map<std::string, std::shared_ptr<grpc::Channel>> channels);

  struct CallSpec {
    std::string service;        // Full name of the service.
    std::string method;         // "/giftcard.v1.CodeVault/RedeemCode".
    std::string authorization;  // The HTTP Authorization header, forwarded as is.
    absl::Duration timeout;
    std::string traceparent;  // Sent as the call's `traceparent` metadata; "" for none.
  };

  // One unary call; blocks the calling (HTTP worker) thread until it ends.
  grpc::Status Unary(const CallSpec& spec, const google::protobuf::Message& request,
                     google::protobuf::Message* response);

  // A server-streaming call, read message by message.
  class Stream {
   public:
    ~Stream();  // Cancels the call if it has not finished.
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;

    // The next message into `out`; false at the end (then Finish() tells
    // how it ended). `keep_going` is polled while no message arrives: when
    // it turns false (the HTTP client left) the call is cancelled.
    bool Next(google::protobuf::Message* out, const std::function<bool()>& keep_going);
    // Next(), waiting at most `wait`: kNotYet leaves the read in flight for
    // the next Poll() or Next().
    enum class Polled { kMessage, kEnd, kNotYet };
    Polled Poll(google::protobuf::Message* out, absl::Duration wait,
                const std::function<bool()>& keep_going);
    // The call's status, once Next() returned false.
    grpc::Status Finish();

   private:
    friend class GrpcUpstream;
    explicit Stream(GrpcUpstream* upstream) : upstream_(upstream) {}
    enum class Waited { kOk, kFailed, kTimedOut };
    // Waits for `tag`'s completion until `deadline`, polling keep_going.
    Waited Await(void* tag, absl::Time deadline, const std::function<bool()>& keep_going);

    GrpcUpstream* const upstream_;
    std::string method_;
    grpc::ClientContext context_;
    grpc::CompletionQueue cq_;
    std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call_;
    bool tracked_ = false;
    bool open_ = false;  // Started and not yet at its end.
    bool read_pending_ = false;
    grpc::ByteBuffer read_buffer_;
    bool parse_failed_ = false;
    bool finished_ = false;
    grpc::Status status_;
  };

  // Starts a server-streaming call (its errors show in Finish()).
  std::unique_ptr<Stream> StartStream(const CallSpec& spec,
                                      const google::protobuf::Message& request);

  // Shutdown's first step: cancels the streams in flight (they follow
  // events for minutes) and refuses new ones; unary calls go on.
  void CancelStreams();
  // Cancels every call in flight and refuses new ones (UNAVAILABLE).
  void Shutdown();

  // Names of services whose channel is not READY or IDLE after a connect
  // attempt: the gateway's readiness.
  std::vector<std::string> Unreachable(absl::Duration wait);

 private:
  // Registers a call's context for Shutdown(); false once shut down (or,
  // for a stream, once streams are cancelled).
  bool Track(grpc::ClientContext* context, bool stream);
  void Untrack(grpc::ClientContext* context);
  grpc::GenericStub* StubFor(const std::string& service) const;  // nullptr: unknown.
  void Prepare(const CallSpec& spec, grpc::ClientContext& context) const;

  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;
  std::map<std::string, std::unique_ptr<grpc::GenericStub>> stubs_;
  absl::Mutex mu_;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  bool streams_cancelled_ ABSL_GUARDED_BY(mu_) = false;
  std::map<grpc::ClientContext*, bool> active_ ABSL_GUARDED_BY(mu_);  // → is a stream.
};

}  // namespace giftcard::gateway

#endif  // GIFTCARD_SERVICES_GATEWAY_UPSTREAM_GRPC_UPSTREAM_H_

// The gateway's HTTP side (giftcard::http, on Boost.Beast): every route of the RouteTable is
// transcoded to its gRPC method through GrpcUpstream; the OpenAPI document
// and the support console are served from memory; /healthz and /readyz
// answer load balancers. Logs and metrics name the route's template, never
// the concrete path or a body: a PIN pasted anywhere is never logged.
#ifndef GIFTCARD_SERVICES_GATEWAY_API_HTTP_FRONTEND_H_
#define GIFTCARD_SERVICES_GATEWAY_API_HTTP_FRONTEND_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/server.h"
#include "services/gateway/transcoding/route_table.h"
#include "services/gateway/upstream/grpc_upstream.h"

namespace giftcard::gateway {

// A file served as it is (the console's pages, the OpenAPI document).
struct Asset {
  std::string content_type;
  std::string body;
};
using Assets = std::map<std::string, Asset>;  // By path: "/console/index.html".

struct FrontendOptions {
  absl::Duration call_timeout = absl::Seconds(10);   // Each unary call's deadline.
  absl::Duration stream_timeout = absl::Minutes(5);  // A stream's whole life.
  int max_streams = 8;  // Concurrent streams (each holds a worker); more: 429.
  // The server's limits (bytes, counts, deadlines, connections, threads);
  // docs/security.md lists them with what each refusal answers.
  http::ServerOptions server;
};

class HttpFrontend {
 public:
  HttpFrontend(const RouteTable& routes, GrpcUpstream& upstream, Assets assets,
               FrontendOptions options);
  ~HttpFrontend();

  // Binds "host:port" (port 0: any) and serves on a thread of its own;
  // returns the port.
  absl::StatusOr<int> Start(const std::string& listen_address);
  // Ends streams, stops accepting, lets the requests in flight finish, joins.
  void Stop();

 private:
  http::Response Handle(const http::Request& request);
  http::Response Refused(http::Refusal refusal);
  // One route's call: unary or streamed as newline-delimited JSON.
  // `traceparent` goes with the call (this request's span in its trace).
  void Transcode(const Route& route, const PathTemplate::Bindings& bindings,
                 const http::Request& request, const std::string& traceparent,
                 http::Response& response);
  // A server-streaming method: newline-delimited JSON, one message a line.
  void TranscodeStream(const Route& route, GrpcUpstream::CallSpec spec,
                       const google::protobuf::Message& request, http::Response& response);
  bool ServeAsset(const http::Request& request, http::Response& response) const;

  const RouteTable& routes_;
  GrpcUpstream& upstream_;
  const Assets assets_;
  const FrontendOptions options_;
  std::unique_ptr<http::Server> server_;
  std::atomic<int> streams_{0};
};

}  // namespace giftcard::gateway

#endif  // GIFTCARD_SERVICES_GATEWAY_API_HTTP_FRONTEND_H_

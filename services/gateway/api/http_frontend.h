// The gateway's HTTP side (cpp-httplib): every route of the RouteTable is
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
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/gateway/transcoding/route_table.h"
#include "services/gateway/upstream/grpc_upstream.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace giftcard::gateway {

// A file served as it is (the console's pages, the OpenAPI document).
struct Asset {
  std::string content_type;
  std::string body;
};
using Assets = std::map<std::string, Asset>;  // By path: "/console/index.html".

struct FrontendOptions {
  size_t max_body_bytes = 64 * 1024;                 // Larger: 413.
  absl::Duration call_timeout = absl::Seconds(10);   // Each unary call's deadline.
  absl::Duration stream_timeout = absl::Minutes(5);  // A stream's whole life.
  int max_streams = 8;  // Concurrent streams (each holds a worker); more: 429.
  int threads = 16;     // HTTP worker threads.
  absl::Duration io_timeout = absl::Seconds(10);  // Reading a request, writing an answer.
  size_t keep_alive_max_requests = 1000;          // Per connection, then it is closed.
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
  void Handle(const httplib::Request& request, httplib::Response& response);
  // One route's call: unary or streamed as newline-delimited JSON.
  void Transcode(const Route& route, const PathTemplate::Bindings& bindings,
                 const httplib::Request& request, httplib::Response& response);
  bool ServeAsset(const httplib::Request& request, httplib::Response& response) const;

  const RouteTable& routes_;
  GrpcUpstream& upstream_;
  const Assets assets_;
  const FrontendOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::atomic<int> streams_{0};
};

}  // namespace giftcard::gateway

#endif  // GIFTCARD_SERVICES_GATEWAY_API_HTTP_FRONTEND_H_

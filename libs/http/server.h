// An HTTP/1.1 server made for hostile traffic (Boost.Beast underneath, kept
// inside this library's .cc files and internal headers so nothing else
// compiles it): every limit a stranger could push is bounded and answered
// by the server itself before a handler runs.
//
//   header bytes and count     431   (max_header_bytes, max_header_count)
//   body bytes, however framed 413   (max_body_bytes; chunked bodies too)
//   headers not read in time   closed (header_timeout; the deadline is for
//                                     the whole header, never per byte)
//   body not read in time      closed (body_timeout)
//   an unreadable request      400
//   over max_connections       503   (then the connection is closed)
//
// Reading and writing run on an event loop (io_threads), so a slow client
// holds a connection, never a thread; handlers run on a pool of
// worker_threads and may block (the gateway's upstream gRPC calls do).
#ifndef GIFTCARD_LIBS_HTTP_SERVER_H_
#define GIFTCARD_LIBS_HTTP_SERVER_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace giftcard::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", as sent.
  // The request-target exactly as sent ("/v1/codes/X%2FY?a=b"): nothing is
  // decoded, so a router can split the path at '/' before decoding segments.
  std::string target;
  HeaderList headers;  // In order, names as sent.
  std::string body;

  // The value of the first header named `name` (case-insensitive), or "".
  absl::string_view Header(absl::string_view name) const;
  // The target up to '?', and what follows it ("" when none); both raw.
  absl::string_view RawPath() const;
  absl::string_view RawQuery() const;
};

// A streamed (chunked) answer's writer; used from a worker thread.
class ChunkSink {
 public:
  virtual ~ChunkSink() = default;
  // Writes one chunk and waits until it is sent; false once the client has
  // gone, the write timed out or the server is stopping.
  virtual bool Write(absl::string_view data) = 0;
  // Whether the client is still connected (it closing its side is noticed
  // without a write).
  virtual bool Connected() const = 0;
};

struct Response {
  int status = 200;
  HeaderList headers;
  std::string body;
  // When set, the answer is chunked: the status line and headers go out
  // first, then `stream` runs on the worker thread and writes the body. It
  // runs exactly once, even when the client is already gone.
  std::function<void(ChunkSink&)> stream;

  void SetContent(std::string content, absl::string_view content_type);
  void SetHeader(absl::string_view name, absl::string_view value);
};

using Handler = std::function<Response(const Request&)>;

// A request the server refuses itself; the Refusal handler shapes its answer
// (the gateway's JSON error body). The status is the one given above.
enum class Refusal {
  kMalformed,        // 400
  kHeadersTooLarge,  // 431
  kBodyTooLarge,     // 413
  kOverloaded,       // 503
};
int StatusOf(Refusal refusal);
absl::string_view NameOf(Refusal refusal);  // "headers_too_large", for logs.
using RefusalHandler = std::function<Response(Refusal)>;

struct ServerOptions {
  size_t max_header_bytes = 16 * 1024;  // Request line and headers together.
  size_t max_header_count = 100;
  size_t max_body_bytes = 64 * 1024;
  absl::Duration header_timeout = absl::Seconds(10);  // A connection's first request.
  absl::Duration idle_timeout = absl::Seconds(5);     // A kept-alive connection's next one.
  absl::Duration body_timeout = absl::Seconds(10);
  absl::Duration write_timeout = absl::Seconds(10);  // Each answer, each streamed chunk.
  size_t max_connections = 1024;
  size_t max_requests_per_connection = 1000;
  int io_threads = 1;
  int worker_threads = 16;
  HeaderList default_headers;  // On every answer (the handler's win).
};

// Parses one request from `bytes` exactly as the server does, with the same
// limits: the fuzz target's entry to the front door. `consumed` is how many
// bytes the request took (pipelined requests may follow).
struct ParseResult {
  bool ok = false;
  Refusal refusal = Refusal::kMalformed;  // When !ok.
  bool need_more = false;                 // When !ok: the request is not complete.
  Request request;
  size_t consumed = 0;
};
ParseResult ParseRequest(absl::string_view bytes, const ServerOptions& options);

class Server {
 public:
  // Listens on "host:port" (port 0: any free one) and serves until Stop().
  static absl::StatusOr<std::unique_ptr<Server>> Start(const std::string& listen_address,
                                                       ServerOptions options, Handler handler,
                                                       RefusalHandler refusal = nullptr);
  virtual ~Server() = default;

  virtual int port() const = 0;
  // Stops accepting, lets the handlers in flight finish and their answers be
  // written (up to `grace`), then closes every connection. Idempotent.
  virtual void Stop(absl::Duration grace) = 0;
  // Connections open now.
  virtual size_t connections() const = 0;
};

// "host:port" → (host, port); INVALID_ARGUMENT otherwise.
absl::StatusOr<std::pair<std::string, int>> SplitHostPort(const std::string& listen_address);

}  // namespace giftcard::http

#endif  // GIFTCARD_LIBS_HTTP_SERVER_H_

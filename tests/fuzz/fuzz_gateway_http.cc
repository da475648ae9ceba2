// libFuzzer target: the gateway's front door, from raw bytes. The input is
// what a stranger writes to the socket (request line, headers, a plain or
// chunked body); it goes through the server's own parser with the gateway's
// limits, the header check before anything is forwarded to gRPC, the router
// on the raw path and BuildRequest, and the trace context it would forward.
// Nothing may crash; a request that is
// accepted obeys every limit, and whatever the router binds is what the
// raw path's segments decode to.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_split.h"
#include "http/server.h"
#include "http/url.h"
#include "services/gateway/transcoding/route_table.h"
#include "services/gateway/transcoding/transcoder.h"
#include "trace/trace_context.h"

namespace {

const giftcard::gateway::RouteTable& Routes() {
  static const auto* routes = [] {
    auto table =
        giftcard::gateway::RouteTable::FromServices(giftcard::gateway::LinkedApiServices());
    if (!table.ok()) std::abort();
    return new giftcard::gateway::RouteTable(*std::move(table));
  }();
  return *routes;
}

giftcard::http::ServerOptions Limits() {
  giftcard::http::ServerOptions options;  // The gateway's defaults, smaller.
  options.max_header_bytes = 2048;
  options.max_header_count = 16;
  options.max_body_bytes = 1024;
  return options;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const giftcard::http::ServerOptions limits = Limits();
  const giftcard::http::ParseResult parsed =
      giftcard::http::ParseRequest({reinterpret_cast<const char*>(data), size}, limits);
  if (!parsed.ok) return 0;
  const giftcard::http::Request& request = parsed.request;
  if (request.body.size() > limits.max_body_bytes) std::abort();
  if (request.headers.size() > limits.max_header_count) std::abort();
  if (parsed.consumed > size) std::abort();
  // What gRPC metadata would get: only a value that passed the check.
  const std::string authorization(request.Header("Authorization"));
  if (giftcard::gateway::ForwardableHeaderProblem(authorization).empty()) {
    for (const char c : authorization) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) {
        std::abort();
      }
    }
  }
  // The traceparent forwarded as gRPC metadata is always a well-formed one
  // of ours or the caller's own valid one: never other bytes it sent.
  const absl::string_view sent = request.Header(giftcard::trace::kTraceparent);
  const giftcard::trace::TraceContext trace = giftcard::trace::ContinueOrStart(sent);
  const std::optional<giftcard::trace::TraceContext> forwarded =
      giftcard::trace::Parse(trace.Traceparent());
  if (!forwarded || forwarded->trace_id != trace.trace_id) std::abort();
  if (const auto caller = giftcard::trace::Parse(sent);
      caller && caller->trace_id != trace.trace_id) {
    std::abort();
  }
  giftcard::gateway::PathTemplate::Bindings bindings;
  std::vector<std::string> others;
  const giftcard::gateway::Route* route =
      Routes().Find(request.method, request.RawPath(), &bindings, &others);
  if (route == nullptr) return 0;
  // A route's literal segments are whole raw segments: an encoded '/' can
  // never have made one.
  const size_t raw_segments =
      std::vector<absl::string_view>(absl::StrSplit(request.RawPath(), '/')).size();
  const size_t template_segments =
      std::vector<absl::string_view>(absl::StrSplit(route->path.text(), '/')).size();
  if (route->path.text().find("**") == std::string::npos &&
      route->path.text().find('=') == std::string::npos && raw_segments != template_segments) {
    std::abort();
  }
  std::unique_ptr<google::protobuf::Message> message(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(route->method->input_type())
          ->New());
  std::string field;
  (void)giftcard::gateway::BuildRequest(*route, bindings,
                                        giftcard::http::ParseQuery(request.RawQuery()),
                                        request.body, message.get(), &field);
  return 0;
}

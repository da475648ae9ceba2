#include "services/gateway/api/http_frontend.h"

#include <google/protobuf/dynamic_message.h>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "errors/status.h"
#include "http/url.h"
#include "log/log.h"
#include "metrics/registry.h"
#include "services/gateway/transcoding/transcoder.h"
#include "trace/trace_context.h"

namespace giftcard::gateway {
namespace {

metrics::Counter& Requests() {
  static metrics::Counter& c = metrics::Global().AddCounter(
      "giftcard_gateway_requests_total",
      "HTTP requests by route template (\"unmatched\" for none) and HTTP status.",
      {"route", "code"});
  return c;
}

metrics::Histogram& Latency() {
  static metrics::Histogram& h = metrics::Global().AddHistogram(
      "giftcard_gateway_request_seconds", "HTTP request latency by route template.", {"route"},
      metrics::LatencyBuckets());
  return h;
}

void SetError(http::Response& res, const HttpError& error) {
  res.status = error.http_status;
  for (const auto& [name, value] : error.headers) res.SetHeader(name, value);
  res.SetContent(error.json, "application/json");
}

// An upstream failure as the caller sees it: our services' own errors
// (they carry an ErrorInfo) as they are; gRPC's transport errors ("failed
// to connect to ipv4:127.0.0.1:…") only in the log.
HttpError UpstreamError(const Route& route, const grpc::Status& status) {
  const HttpError error = ErrorFromStatus(static_cast<absl::StatusCode>(status.error_code()),
                                          status.error_message(), status.error_details());
  if (error.transport_message_dropped) {
    log::Warning("upstream_failed", {{"route", route.name()},
                                     {"code", static_cast<int>(status.error_code())},
                                     {"upstream_message", status.error_message()}});
  }
  return error;
}

// The ErrorInfo reason of an error body, for the access log.
std::string ReasonOf(const std::string& json_body) {
  nlohmann::json body = nlohmann::json::parse(json_body, nullptr, false);
  if (body.is_discarded() || !body.contains("error")) return "";
  for (const auto& d : body["error"].value("details", nlohmann::json::array())) {
    if (d.value("@type", "") == errors::kErrorInfoTypeUrl) return d.value("reason", "");
  }
  return "";
}

std::unique_ptr<google::protobuf::Message> NewMessage(const google::protobuf::Descriptor* type) {
  return std::unique_ptr<google::protobuf::Message>(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
}

}  // namespace

HttpFrontend::HttpFrontend(const RouteTable& routes, GrpcUpstream& upstream, Assets assets,
                           FrontendOptions options)
    : routes_(routes), upstream_(upstream), assets_(std::move(assets)), options_(options) {
  Requests();
  Latency();
}

HttpFrontend::~HttpFrontend() { Stop(); }

absl::StatusOr<int> HttpFrontend::Start(const std::string& listen_address) {
  http::ServerOptions server = options_.server;
  server.default_headers = {{"Cache-Control", "no-store"},
                            {"X-Content-Type-Options", "nosniff"},
                            {"Referrer-Policy", "no-referrer"}};
  absl::StatusOr<std::unique_ptr<http::Server>> started = http::Server::Start(
      listen_address, server, [this](const http::Request& req) { return Handle(req); },
      [this](http::Refusal refusal) { return Refused(refusal); });
  if (!started.ok()) return started.status();
  server_ = *std::move(started);
  return server_->port();
}

void HttpFrontend::Stop() {
  if (server_ == nullptr) return;
  // Streams end at once; the server stops accepting and the requests in
  // flight finish (each bounded by --call_timeout) and are answered; then
  // whatever is still in flight is cancelled.
  upstream_.CancelStreams();
  server_->Stop(options_.call_timeout + absl::Seconds(1));
  upstream_.Shutdown();
}

http::Response HttpFrontend::Refused(http::Refusal refusal) {
  // What the server answers itself, with the same JSON error body.
  HttpError error;
  switch (refusal) {
    case http::Refusal::kBodyTooLarge:
      error = GatewayError(absl::StatusCode::kInvalidArgument, errors::reason::kRequestTooLarge,
                           absl::StrCat("the request body is over the gateway's limit of ",
                                        options_.server.max_body_bytes, " bytes"),
                           "", 413);
      break;
    case http::Refusal::kHeadersTooLarge:
      error = GatewayError(absl::StatusCode::kInvalidArgument, errors::reason::kRequestTooLarge,
                           absl::StrCat("the request's headers are over the gateway's limit of ",
                                        options_.server.max_header_count, " headers or ",
                                        options_.server.max_header_bytes, " bytes"),
                           "", 431);
      break;
    case http::Refusal::kOverloaded:
      error = GatewayError(absl::StatusCode::kUnavailable, errors::reason::kOverloaded,
                           "too many connections to this gateway; retry later", "", 503);
      error.headers.emplace_back("Retry-After", "1");
      break;
    case http::Refusal::kMalformed:
      error = GatewayError(absl::StatusCode::kInvalidArgument, errors::reason::kRequestMalformed,
                           "the HTTP request could not be read", "", http::StatusOf(refusal));
      break;
  }
  http::Response res;
  SetError(res, error);
  Requests().Increment({"unmatched", std::to_string(res.status)});
  log::Info("http_request", {{"route", "unmatched"},
                             {"status", res.status},
                             {"reason", ReasonOf(error.json)},
                             {"refusal", std::string(http::NameOf(refusal))}});
  return res;
}

bool HttpFrontend::ServeAsset(const http::Request& req, http::Response& res) const {
  if (req.method != "GET" && req.method != "HEAD") return false;
  const std::string path(req.RawPath());
  // The gateway's root is for people: the console.
  if (path == "/console" || path == "/") {
    res.status = 302;
    res.SetHeader("Location", "/console/");
    return true;
  }
  auto it = assets_.find(path == "/console/" ? "/console/index.html" : path);
  if (it == assets_.end()) return false;
  // The console runs only its own script and style: no inline code, no
  // other origin, no framing.
  res.SetHeader("Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                "form-action 'self'; base-uri 'none'");
  res.SetContent(it->second.body, it->second.content_type);
  return true;
}

http::Response HttpFrontend::Handle(const http::Request& req) {
  const absl::Time start = absl::Now();
  std::string route_name = "unmatched";
  http::Response res;
  res.status = 200;
  // The caller's W3C trace, continued (or a new one): sent to the service
  // called, logged, and told back (traceresponse) so a caller can quote it.
  const trace::TraceContext trace = trace::ContinueOrStart(req.Header(trace::kTraceparent));
  res.SetHeader("traceresponse", trace.Traceparent());
  const absl::string_view path = req.RawPath();
  if (path == "/healthz") {
    res.SetContent("ok\n", "text/plain");
  } else if (path == "/readyz") {
    const std::vector<std::string> down = upstream_.Unreachable(absl::Seconds(1));
    res.status = down.empty() ? 200 : 503;
    res.SetContent(
        down.empty() ? "ready\n" : absl::StrCat("unreachable: ", absl::StrJoin(down, ", "), "\n"),
        "text/plain");
  } else if (ServeAsset(req, res)) {
    route_name = "asset";
  } else {
    PathTemplate::Bindings bindings;
    std::vector<std::string> other_methods;
    const Route* route = routes_.Find(req.method, path, &bindings, &other_methods);
    if (route != nullptr) {
      route_name = route->name();
      Transcode(*route, bindings, req, trace.Traceparent(), res);
    } else if (!other_methods.empty()) {
      res.SetHeader("Allow", absl::StrJoin(other_methods, ", "));
      SetError(res,
               GatewayError(absl::StatusCode::kUnimplemented, errors::reason::kRouteNotFound,
                            absl::StrCat("this path takes ", absl::StrJoin(other_methods, ", ")),
                            "", 405));
    } else {
      SetError(res, GatewayError(absl::StatusCode::kNotFound, errors::reason::kRouteNotFound,
                                 "no API route has this path; see /v1/openapi.json"));
    }
  }
  const std::string reason = res.status >= 400 ? ReasonOf(res.body) : "";
  Requests().Increment({route_name, std::to_string(res.status)});
  Latency().Observe({route_name}, absl::ToDoubleSeconds(absl::Now() - start));
  log::Fields fields = {{"route", route_name},
                        {"status", res.status},
                        {"trace_id", trace.trace_id},
                        {"span_id", trace.span_id}};
  if (!reason.empty()) fields.emplace_back("reason", reason);
  fields.emplace_back("ms", absl::ToInt64Milliseconds(absl::Now() - start));
  log::Info("http_request", fields);
  return res;
}

void HttpFrontend::Transcode(const Route& route, const PathTemplate::Bindings& bindings,
                             const http::Request& req, const std::string& traceparent,
                             http::Response& res) {
  const absl::string_view authorization = req.Header("Authorization");
  if (const std::string problem = ForwardableHeaderProblem(authorization); !problem.empty()) {
    // Never forwarded, never echoed, never logged.
    SetError(res, GatewayError(absl::StatusCode::kInvalidArgument,
                               errors::reason::kRequestMalformed, problem, "Authorization"));
    return;
  }
  std::unique_ptr<google::protobuf::Message> request = NewMessage(route.method->input_type());
  std::string field;
  // From the URL only: a body here is JSON whatever its Content-Type says
  // (curl -d sends it as a form).
  const std::multimap<std::string, std::string> query = http::ParseQuery(req.RawQuery());
  if (absl::Status built = BuildRequest(route, bindings, query, req.body, request.get(), &field);
      !built.ok()) {
    SetError(res,
             GatewayError(absl::StatusCode::kInvalidArgument, errors::reason::kRequestMalformed,
                          std::string(built.message()), field));
    return;
  }
  GrpcUpstream::CallSpec spec{route.method->service()->full_name(), route.grpc_method(),
                              std::string(authorization), options_.call_timeout, traceparent};
  if (!route.server_streaming()) {
    std::unique_ptr<google::protobuf::Message> response = NewMessage(route.method->output_type());
    const grpc::Status status = upstream_.Unary(spec, *request, response.get());
    if (!status.ok()) {
      SetError(res, UpstreamError(route, status));
      return;
    }
    res.status = 200;
    res.SetContent(MessageToJson(*response), "application/json");
    return;
  }
  TranscodeStream(route, std::move(spec), *request, res);
}

void HttpFrontend::TranscodeStream(const Route& route, GrpcUpstream::CallSpec spec,
                                   const google::protobuf::Message& request,
                                   http::Response& response) {
  // A stream: newline-delimited JSON, one message per line. An error before
  // the first message is the HTTP status; one after it, a last line
  // {"error": …} (the status line has been sent).
  if (streams_.fetch_add(1) >= options_.max_streams) {
    streams_.fetch_sub(1);
    SetError(response,
             GatewayError(absl::StatusCode::kResourceExhausted, errors::reason::kOverloaded,
                          "too many streams open through this gateway; retry later"));
    return;
  }
  spec.timeout = options_.stream_timeout;
  std::shared_ptr<GrpcUpstream::Stream> stream = upstream_.StartStream(spec, request);
  std::shared_ptr<google::protobuf::Message> first(NewMessage(route.method->output_type()));
  // The status line waits for the first message or the end, so a refusal
  // is a real HTTP error, but not for long: a stream that follows quiet
  // events starts at once, and then a client that leaves is noticed.
  const GrpcUpstream::Stream::Polled polled =
      stream->Poll(first.get(), absl::Seconds(1), [] { return true; });
  if (polled == GrpcUpstream::Stream::Polled::kEnd) {
    const grpc::Status status = stream->Finish();
    streams_.fetch_sub(1);
    if (!status.ok()) {
      SetError(response, UpstreamError(route, status));
    } else {
      response.status = 200;
      response.SetContent("", "application/x-ndjson");
    }
    return;
  }
  const bool have_first = polled == GrpcUpstream::Stream::Polled::kMessage;
  response.status = 200;
  response.SetHeader("Content-Type", "application/x-ndjson");
  response.stream = [this, &route, stream, first, have_first](http::ChunkSink& sink) {
    auto write_line = [&sink](const std::string& json) { return sink.Write(json + "\n"); };
    bool client_here = !have_first || write_line(MessageToJson(*first));
    std::unique_ptr<google::protobuf::Message> next(first->New());
    while (client_here && stream->Next(next.get(), [&sink] { return sink.Connected(); })) {
      client_here = write_line(MessageToJson(*next));
    }
    if (client_here && sink.Connected()) {
      const grpc::Status status = stream->Finish();
      if (!status.ok()) write_line(UpstreamError(route, status).json);
    }
    streams_.fetch_sub(1);  // ~Stream (the last reference) cancels a call still open.
  };
}

}  // namespace giftcard::gateway

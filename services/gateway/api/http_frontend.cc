#include "services/gateway/api/http_frontend.h"

#include <google/protobuf/dynamic_message.h>
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "errors/status.h"
#include "log/log.h"
#include "metrics/registry.h"
#include "services/gateway/transcoding/transcoder.h"

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

void SetError(httplib::Response& res, const HttpError& error) {
  res.status = error.http_status;
  for (const auto& [name, value] : error.headers) res.set_header(name, value);
  res.set_content(error.json, "application/json");
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

absl::StatusCode CodeOf(const grpc::Status& status) {
  return static_cast<absl::StatusCode>(status.error_code());
}

std::unique_ptr<google::protobuf::Message> NewMessage(const google::protobuf::Descriptor* type) {
  return std::unique_ptr<google::protobuf::Message>(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
}

}  // namespace

HttpFrontend::HttpFrontend(const RouteTable& routes, GrpcUpstream& upstream, Assets assets,
                           FrontendOptions options)
    : routes_(routes),
      upstream_(upstream),
      assets_(std::move(assets)),
      options_(options),
      server_(std::make_unique<httplib::Server>()) {
  Requests();
  Latency();
  const int threads = options_.threads;
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  server_->set_payload_max_length(options_.max_body_bytes);
  const auto io = absl::ToChronoMilliseconds(options_.io_timeout);
  server_->set_read_timeout(io);
  server_->set_write_timeout(io);
  server_->set_keep_alive_timeout(5);
  // httplib closes a kept-alive connection after 5 requests by default: a
  // storefront's connection pool would reconnect every fifth call.
  server_->set_keep_alive_max_count(options_.keep_alive_max_requests);
  // httplib writes an answer's headers and body apart: with Nagle's
  // algorithm the body waits for the client's delayed ACK (40 ms).
  server_->set_tcp_nodelay(true);
  server_->set_default_headers({{"Cache-Control", "no-store"},
                                {"X-Content-Type-Options", "nosniff"},
                                {"Referrer-Policy", "no-referrer"}});
  auto handle = [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); };
  server_->Get(".*", handle);
  server_->Post(".*", handle);
  server_->Put(".*", handle);
  server_->Patch(".*", handle);
  server_->Delete(".*", handle);
  // What httplib answers itself (413 for a body over the limit, 400 for a
  // request it cannot parse) gets the same JSON error body.
  server_->set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request&,
                                                                     httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    HttpError error;
    if (res.status == 413) {
      error = GatewayError(absl::StatusCode::kInvalidArgument, errors::reason::kRequestTooLarge,
                           "the request body is over the gateway's limit", "", 413);
    } else {
      error = GatewayError(absl::StatusCode::kInvalidArgument, errors::reason::kRequestMalformed,
                           "the HTTP request could not be read", "", res.status);
    }
    Requests().Increment({"unmatched", std::to_string(res.status)});
    log::Info("http_request",
              {{"route", "unmatched"}, {"status", res.status}, {"reason", ReasonOf(error.json)}});
    SetError(res, error);
    return httplib::Server::HandlerResponse::Handled;
  }));
}

HttpFrontend::~HttpFrontend() { Stop(); }

absl::StatusOr<int> HttpFrontend::Start(const std::string& listen_address) {
  const size_t colon = listen_address.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen_address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("'", listen_address, "' is not host:port"));
  }
  const std::string host = listen_address.substr(0, colon);
  if (port == 0) {
    port = server_->bind_to_any_port(host);
  } else if (!server_->bind_to_port(host, port)) {
    port = -1;
  }
  if (port <= 0) return absl::UnavailableError(absl::StrCat("cannot listen on ", listen_address));
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  return port;
}

void HttpFrontend::Stop() {
  // Streams end at once; the server stops accepting and its workers finish
  // the requests they hold (each bounded by --call_timeout); then whatever
  // is still in flight is cancelled.
  upstream_.CancelStreams();
  server_->stop();
  if (thread_.joinable()) thread_.join();
  upstream_.Shutdown();
}

bool HttpFrontend::ServeAsset(const httplib::Request& req, httplib::Response& res) const {
  if (req.method != "GET" && req.method != "HEAD") return false;
  if (req.path == "/console") {
    res.set_redirect("/console/");
    return true;
  }
  auto it = assets_.find(req.path == "/console/" ? "/console/index.html" : req.path);
  if (it == assets_.end()) return false;
  // The console runs only its own script and style: no inline code, no
  // other origin, no framing.
  res.set_header("Content-Security-Policy",
                 "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                 "form-action 'self'; base-uri 'none'");
  res.set_content(it->second.body, it->second.content_type);
  return true;
}

void HttpFrontend::Handle(const httplib::Request& req, httplib::Response& res) {
  const absl::Time start = absl::Now();
  std::string route_name = "unmatched";
  res.status = 200;
  if (req.path == "/healthz") {
    res.set_content("ok\n", "text/plain");
  } else if (req.path == "/readyz") {
    const std::vector<std::string> down = upstream_.Unreachable(absl::Seconds(1));
    res.status = down.empty() ? 200 : 503;
    res.set_content(
        down.empty() ? "ready\n" : absl::StrCat("unreachable: ", absl::StrJoin(down, ", "), "\n"),
        "text/plain");
  } else if (ServeAsset(req, res)) {
    route_name = "asset";
  } else {
    PathTemplate::Bindings bindings;
    std::vector<std::string> other_methods;
    const Route* route = routes_.Find(req.method, req.path, &bindings, &other_methods);
    if (route != nullptr) {
      route_name = route->name();
      Transcode(*route, bindings, req, res);
    } else if (!other_methods.empty()) {
      res.set_header("Allow", absl::StrJoin(other_methods, ", "));
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
  log::Fields fields = {{"route", route_name}, {"status", res.status}};
  if (!reason.empty()) fields.emplace_back("reason", reason);
  fields.emplace_back("ms", absl::ToInt64Milliseconds(absl::Now() - start));
  log::Info("http_request", fields);
}

void HttpFrontend::Transcode(const Route& route, const PathTemplate::Bindings& bindings,
                             const httplib::Request& req, httplib::Response& res) {
  std::unique_ptr<google::protobuf::Message> request = NewMessage(route.method->input_type());
  std::string field;
  // From the URL only: httplib also puts a form-encoded body into
  // req.params, and a body here is JSON whatever its Content-Type says
  // (curl -d sends it as a form).
  std::multimap<std::string, std::string> query;
  if (const size_t mark = req.target.find('?'); mark != std::string::npos) {
    httplib::detail::parse_query_text(req.target.substr(mark + 1), query);
  }
  if (absl::Status built = BuildRequest(route, bindings, query, req.body, request.get(), &field);
      !built.ok()) {
    SetError(res,
             GatewayError(absl::StatusCode::kInvalidArgument, errors::reason::kRequestMalformed,
                          std::string(built.message()), field));
    return;
  }
  GrpcUpstream::CallSpec spec{route.method->service()->full_name(), route.grpc_method(),
                              req.get_header_value("Authorization"), options_.call_timeout};
  if (!route.server_streaming()) {
    std::unique_ptr<google::protobuf::Message> response = NewMessage(route.method->output_type());
    const grpc::Status status = upstream_.Unary(spec, *request, response.get());
    if (!status.ok()) {
      SetError(res,
               ErrorFromStatus(CodeOf(status), status.error_message(), status.error_details()));
      return;
    }
    res.status = 200;
    res.set_content(MessageToJson(*response), "application/json");
    return;
  }
  // A stream: newline-delimited JSON, one message per line. An error before
  // the first message is the HTTP status; one after it, a last line
  // {"error": …} (the status line has been sent).
  if (streams_.fetch_add(1) >= options_.max_streams) {
    streams_.fetch_sub(1);
    SetError(res, GatewayError(absl::StatusCode::kResourceExhausted, errors::reason::kOverloaded,
                               "too many streams open through this gateway; retry later"));
    return;
  }
  spec.timeout = options_.stream_timeout;
  std::shared_ptr<GrpcUpstream::Stream> stream = upstream_.StartStream(spec, *request);
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
      SetError(res,
               ErrorFromStatus(CodeOf(status), status.error_message(), status.error_details()));
    } else {
      res.status = 200;
      res.set_content("", "application/x-ndjson");
    }
    return;
  }
  const bool have_first = polled == GrpcUpstream::Stream::Polled::kMessage;
  res.status = 200;
  res.set_chunked_content_provider(
      "application/x-ndjson",
      [stream, first, have_first](size_t, httplib::DataSink& sink) {
        auto write_line = [&sink](const std::string& json) {
          const std::string line = json + "\n";
          return sink.write(line.data(), line.size());
        };
        bool client_here = !have_first || write_line(MessageToJson(*first));
        std::unique_ptr<google::protobuf::Message> next(first->New());
        while (client_here && stream->Next(next.get(), [&sink] { return sink.is_writable(); })) {
          client_here = write_line(MessageToJson(*next));
        }
        if (!client_here || !sink.is_writable()) return false;  // ~Stream cancels the call.
        const grpc::Status status = stream->Finish();
        if (!status.ok()) {
          write_line(
              ErrorFromStatus(CodeOf(status), status.error_message(), status.error_details()).json);
        }
        sink.done();
        return true;
      },
      [this, stream](bool) { streams_.fetch_sub(1); });
}

}  // namespace giftcard::gateway

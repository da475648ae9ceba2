#include "metrics/http_exporter.h"

#include "absl/strings/str_cat.h"
#include "http/server.h"

namespace giftcard::metrics {

absl::StatusOr<std::unique_ptr<HttpExporter>> HttpExporter::Start(const std::string& listen_address,
                                                                  const Registry& registry) {
  http::ServerOptions options;
  // Scrapes are rare and cheap; nothing but GET /metrics is served, and a
  // request body has no use.
  options.worker_threads = 2;
  options.max_connections = 64;
  options.max_body_bytes = 0;
  auto handle = [&registry](const http::Request& request) {
    http::Response response;
    if (request.RawPath() != "/metrics") {
      response.status = 404;
      response.SetContent("not found: GET /metrics\n", "text/plain");
    } else if (request.method != "GET" && request.method != "HEAD") {
      response.status = 405;
      response.SetHeader("Allow", "GET, HEAD");
      response.SetContent("GET /metrics\n", "text/plain");
    } else {
      response.SetContent(registry.Render(), "text/plain; version=0.0.4; charset=utf-8");
    }
    return response;
  };
  absl::StatusOr<std::unique_ptr<http::Server>> server =
      http::Server::Start(listen_address, options, handle);
  if (!server.ok()) {
    return absl::Status(server.status().code(),
                        absl::StrCat("metrics: ", server.status().message()));
  }
  std::unique_ptr<HttpExporter> exporter(new HttpExporter);
  exporter->server_ = *std::move(server);
  return exporter;
}

int HttpExporter::port() const { return server_->port(); }

HttpExporter::~HttpExporter() {
  if (server_ != nullptr) server_->Stop(absl::ZeroDuration());
}

}  // namespace giftcard::metrics

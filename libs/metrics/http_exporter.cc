#include "metrics/http_exporter.h"

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace giftcard::metrics {

absl::StatusOr<std::unique_ptr<HttpExporter>> HttpExporter::Start(const std::string& listen_address,
                                                                  const Registry& registry) {
  const size_t colon = listen_address.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen_address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address '", listen_address, "' is not host:port"));
  }
  const std::string host = listen_address.substr(0, colon);
  std::unique_ptr<HttpExporter> exporter(new HttpExporter);
  exporter->server_ = std::make_unique<httplib::Server>();
  // Scrapes are rare and cheap: a couple of threads is plenty.
  exporter->server_->new_task_queue = [] { return new httplib::ThreadPool(2); };
  exporter->server_->Get("/metrics", [&registry](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry.Render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  if (port == 0) {
    exporter->port_ = exporter->server_->bind_to_any_port(host);
  } else if (exporter->server_->bind_to_port(host, port)) {
    exporter->port_ = port;
  } else {
    exporter->port_ = -1;
  }
  if (exporter->port_ <= 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", listen_address, " for metrics"));
  }
  httplib::Server* server = exporter->server_.get();
  exporter->thread_ = std::thread([server] { server->listen_after_bind(); });
  return exporter;
}

HttpExporter::~HttpExporter() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace giftcard::metrics

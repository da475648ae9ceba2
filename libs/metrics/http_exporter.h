// Serves a metrics::Registry as GET /metrics on its own HTTP port (apart from
// gRPC, so scraping needs no gRPC client and no caller identity), with
// cpp-httplib from Debian.
#ifndef GIFTCARD_LIBS_METRICS_HTTP_EXPORTER_H_
#define GIFTCARD_LIBS_METRICS_HTTP_EXPORTER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "metrics/registry.h"

namespace httplib {
class Server;
}

namespace giftcard::metrics {

class HttpExporter {
 public:
  // Listens on "host:port" (port 0 picks a free one) and serves until
  // destroyed.
  static absl::StatusOr<std::unique_ptr<HttpExporter>> Start(const std::string& listen_address,
                                                             const Registry& registry);
  ~HttpExporter();
  HttpExporter(const HttpExporter&) = delete;
  HttpExporter& operator=(const HttpExporter&) = delete;

  int port() const { return port_; }

 private:
  HttpExporter() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace giftcard::metrics

#endif  // GIFTCARD_LIBS_METRICS_HTTP_EXPORTER_H_

// Serves a metrics::Registry as GET /metrics on its own HTTP port (apart from
// gRPC, so scraping needs no gRPC client and no caller identity), on the
// project's hardened HTTP server (giftcard::http).
#ifndef GIFTCARD_LIBS_METRICS_HTTP_EXPORTER_H_
#define GIFTCARD_LIBS_METRICS_HTTP_EXPORTER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "metrics/registry.h"

namespace giftcard::http {
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

  int port() const;

 private:
  HttpExporter() = default;
  std::unique_ptr<http::Server> server_;
};

}  // namespace giftcard::metrics

#endif  // GIFTCARD_LIBS_METRICS_HTTP_EXPORTER_H_

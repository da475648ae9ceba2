// giftcard-gateway: HTTP/JSON for callers that do not speak gRPC, and the
// support console. Wiring only: the routes come from the services' own
// descriptors and their google.api.http annotations.
#include "absl/flags/flag.h"
#include "absl/strings/str_join.h"
#include "config/config.h"
#include "giftcard/v1/account_credit.grpc.pb.h"
#include "giftcard/v1/billing.grpc.pb.h"
#include "giftcard/v1/code_vault.grpc.pb.h"
#include "log/log.h"
#include "server/bootstrap.h"
#include "server/client.h"
#include "server/flags.h"
#include "services/gateway/api/embedded_assets.h"
#include "services/gateway/api/http_frontend.h"
#include "services/gateway/transcoding/route_table.h"
#include "services/gateway/upstream/grpc_upstream.h"

ABSL_FLAG(std::string, http_listen, "127.0.0.1:8080", "host:port of the HTTP/JSON API and console");
ABSL_FLAG(std::string, http_port_file, "", "if set, the bound HTTP port is written to this file");
ABSL_FLAG(std::string, code_vault_address, "127.0.0.1:50051", "code-vault host:port");
ABSL_FLAG(std::string, account_credit_address, "127.0.0.1:50052", "account-credit host:port");
ABSL_FLAG(std::string, billing_address, "127.0.0.1:50053", "billing host:port");
ABSL_FLAG(int64_t, max_body_bytes, 64 * 1024,
          "largest request body, however framed (chunked too); larger is 413");
ABSL_FLAG(absl::Duration, call_timeout, absl::Seconds(10), "deadline of each unary upstream call");
ABSL_FLAG(absl::Duration, stream_timeout, absl::Minutes(5),
          "longest life of a streamed answer (WatchEvents, IssueCodes, audit facts)");
ABSL_FLAG(int, max_streams, 8, "concurrent streamed answers; more get 429");
ABSL_FLAG(int64_t, http_max_header_bytes, 16 * 1024,
          "request line and headers together; more is 431");
ABSL_FLAG(int64_t, http_max_header_count, 100, "headers in one request; more is 431");
ABSL_FLAG(absl::Duration, http_header_timeout, absl::Seconds(10),
          "a new connection's deadline for its whole request header (never restarts per byte)");
ABSL_FLAG(absl::Duration, http_idle_timeout, absl::Seconds(5),
          "a kept-alive connection's deadline for its next request header");
ABSL_FLAG(absl::Duration, http_body_timeout, absl::Seconds(10), "deadline to read a body");
ABSL_FLAG(absl::Duration, http_write_timeout, absl::Seconds(10),
          "deadline to write an answer (and each streamed chunk)");
ABSL_FLAG(int64_t, http_max_connections, 1024,
          "open connections; past it a new one is answered 503 and closed");
ABSL_FLAG(int, http_threads, 16, "HTTP worker threads (they wait on the upstream calls)");
ABSL_FLAG(int64_t, http_keep_alive_requests, 1000,
          "requests on one kept-alive connection before it is closed");

int main(int argc, char** argv) {
  using namespace giftcard;
  server::BlockTerminationSignals();
  server::IgnoreBrokenPipes();
  server::ReportCrashes();
  config::ParseFlags(argc, argv, "giftcard-gateway: HTTP/JSON and the support console");
  log::SetServiceName("gateway");
  if (!server::PinToCpusFromFlag()) return 2;

  server::ServeOptions serve = server::ServeOptionsFromFlags("gateway");
  serve.grpc_service_name = "giftcard.gateway";
  absl::StatusOr<gateway::RouteTable> routes =
      gateway::RouteTable::FromServices(gateway::LinkedApiServices());
  if (!routes.ok()) {
    log::Error("routes_invalid", {{"status", std::string(routes.status().message())}});
    return 2;
  }
  const server::ClientTls tls = server::PeerTlsFromFlags();
  gateway::GrpcUpstream upstream(
      {{v1::CodeVault::service_full_name(),
        server::MakeChannel(absl::GetFlag(FLAGS_code_vault_address), tls)},
       {v1::AccountCredit::service_full_name(),
        server::MakeChannel(absl::GetFlag(FLAGS_account_credit_address), tls)},
       {v1::Billing::service_full_name(),
        server::MakeChannel(absl::GetFlag(FLAGS_billing_address), tls)}});
  http::ServerOptions server_options;
  server_options.max_header_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_http_max_header_bytes));
  server_options.max_header_count = static_cast<size_t>(absl::GetFlag(FLAGS_http_max_header_count));
  server_options.max_body_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_body_bytes));
  server_options.header_timeout = absl::GetFlag(FLAGS_http_header_timeout);
  server_options.idle_timeout = absl::GetFlag(FLAGS_http_idle_timeout);
  server_options.body_timeout = absl::GetFlag(FLAGS_http_body_timeout);
  server_options.write_timeout = absl::GetFlag(FLAGS_http_write_timeout);
  server_options.max_connections = static_cast<size_t>(absl::GetFlag(FLAGS_http_max_connections));
  server_options.max_requests_per_connection =
      static_cast<size_t>(absl::GetFlag(FLAGS_http_keep_alive_requests));
  server_options.worker_threads = absl::GetFlag(FLAGS_http_threads);
  gateway::HttpFrontend frontend(*routes, upstream, gateway::EmbeddedAssets(),
                                 {.call_timeout = absl::GetFlag(FLAGS_call_timeout),
                                  .stream_timeout = absl::GetFlag(FLAGS_stream_timeout),
                                  .max_streams = absl::GetFlag(FLAGS_max_streams),
                                  .server = server_options});
  absl::StatusOr<int> http_port = frontend.Start(absl::GetFlag(FLAGS_http_listen));
  if (!http_port.ok()) {
    log::Error("http_listen_failed", {{"status", std::string(http_port.status().message())}});
    return 1;
  }
  if (!absl::GetFlag(FLAGS_http_port_file).empty() &&
      !server::WritePortFile(absl::GetFlag(FLAGS_http_port_file), *http_port)) {
    log::Error("port_file_write_failed", {{"path", absl::GetFlag(FLAGS_http_port_file)}});
    return 1;
  }
  log::Info("http_listening", {{"port", *http_port}, {"routes", routes->routes().size()}});
  serve.on_shutdown = [&frontend] { frontend.Stop(); };
  // gRPC health (and /readyz) follow whether the three services are reachable.
  return server::Serve(serve, {}, [&upstream] {
    const std::vector<std::string> down = upstream.Unreachable(absl::Milliseconds(300));
    return down.empty() ? absl::OkStatus()
                        : absl::UnavailableError("unreachable: " + absl::StrJoin(down, ", "));
  });
}

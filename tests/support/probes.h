// What tests ask a running service: health, /metrics, and the gateway's
// HTTP API.
#ifndef GIFTCARD_TESTS_SUPPORT_PROBES_H_
#define GIFTCARD_TESTS_SUPPORT_PROBES_H_

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "support/process.h"
#include "support/suite.h"

namespace giftcard::testing {

// The value of the unlabelled series `name` in a /metrics scrape, or -1.
double MetricValue(const std::string& scrape, const std::string& name);

// giftcard-gateway in front of a suite's three services, its HTTP API on an
// ephemeral loopback port.
struct GatewayProcess {
  std::unique_ptr<Process> process;
  int http_port = 0;
};
GatewayProcess StartGateway(const Suite& suite, const std::vector<std::string>& args = {});

// One HTTP exchange with a gateway: `token` (if any) as a bearer token.
struct HttpAnswer {
  int status = -1;  // -1: no answer.
  std::string body;
  std::multimap<std::string, std::string> headers;
  std::string Header(const std::string& name) const;
};
HttpAnswer HttpCall(int port, const std::string& method, const std::string& target,
                    const std::string& token, const std::string& body = "",
                    const std::multimap<std::string, std::string>& extra_headers = {});

// GET /metrics of a service started by Suite::StartService (each serves its
// metrics on an ephemeral port written next to its log).
std::string ScrapeMetrics(const Process& service);

// grpc.health.v1 Check of the whole server: "SERVING", "NOT_SERVING" or the error code.
// `service` "" is the whole server (readiness); "giftcard.liveness" stays
// SERVING while the process runs.
std::string HealthOf(const std::string& address, const std::string& service = "");

// Polls `HealthOf(address)` until it equals `want` or `timeout` passes.
bool WaitForHealth(const std::string& address, const std::string& want, absl::Duration timeout);

// WaitForHealth for each of the suite's three services, each failure named.
void ExpectHealthOfAll(const Suite& suite, const std::string& want, absl::Duration timeout);

}  // namespace giftcard::testing

#endif  // GIFTCARD_TESTS_SUPPORT_PROBES_H_

// Test harness: Health checks and metrics scrapes of running services.
#include "support/probes.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "audit/audit.h"
#include "audit/wire.h"
#include "auth/authorizer.h"
#include "codes/codes.h"
#include "config/files.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/client.h"
#include "support/harness_internal.h"

namespace giftcard::testing {

using internal::LogDir;
using internal::ParseEnvFile;
using internal::ReadFile;
using internal::RunShell;

void ExpectHealthOfAll(const Suite& suite, const std::string& want, absl::Duration timeout) {
  for (const std::string& address :
       {suite.account_credit_addr, suite.code_vault_addr, suite.billing_addr}) {
    EXPECT_TRUE(WaitForHealth(address, want, timeout)) << address << " never " << want;
  }
}

double MetricValue(const std::string& scrape, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(scrape, '\n')) {
    if (!absl::ConsumePrefix(&line, name) || !absl::ConsumePrefix(&line, " ")) continue;
    double value = 0;
    if (absl::SimpleAtod(line, &value)) return value;
  }
  return -1;
}

std::string ScrapeMetrics(const Process& service) {
  const std::string port_file =
      absl::StrCat(absl::StripSuffix(service.log_path(), ".log"), ".metrics-port");
  int port = 0;
  for (int i = 0; i < 250 && port <= 0; ++i) {
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(port_file)), &port)) {
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
  if (port <= 0) {
    ADD_FAILURE() << "no metrics port in " << port_file;
    return "";
  }
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  auto response = client.Get("/metrics");
  if (!response || response->status != 200) {
    ADD_FAILURE() << "GET /metrics on port " << port << " failed";
    return "";
  }
  return response->body;
}

std::string HealthOf(const std::string& address, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(server::MakeChannel(address));
  grpc::health::v1::HealthCheckResponse response;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::Status s = stub->Check(Context("", absl::Seconds(2)).get(), request, &response);
  if (!s.ok()) return absl::StrCat("error ", s.error_code());
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

bool WaitForHealth(const std::string& address, const std::string& want, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (HealthOf(address) == want) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return HealthOf(address) == want;
}

}  // namespace giftcard::testing

namespace giftcard::testing {

GatewayProcess StartGateway(const Suite& suite, const std::vector<std::string>& args) {
  GatewayProcess gateway;
  const std::string http_port_file = TempPath("gateway-http-port");
  std::vector<std::string> all_args = {"--http_listen=127.0.0.1:0",
                                       "--http_port_file=" + http_port_file,
                                       "--code_vault_address=" + suite.code_vault_addr,
                                       "--account_credit_address=" + suite.account_credit_addr,
                                       "--billing_address=" + suite.billing_addr};
  all_args.insert(all_args.end(), args.begin(), args.end());
  std::string grpc_address;
  gateway.process = Suite::StartService("giftcard-gateway", all_args, {}, &grpc_address);
  // The HTTP port file is written before the gRPC one.
  if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(ReadFile(http_port_file)), &gateway.http_port)) {
    ADD_FAILURE() << "giftcard-gateway wrote no HTTP port; log:\n" << gateway.process->Log();
  }
  return gateway;
}

std::string HttpAnswer::Header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

HttpAnswer HttpCall(int port, const std::string& method, const std::string& target,
                    const std::string& token, const std::string& body,
                    const std::multimap<std::string, std::string>& extra_headers) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  client.set_read_timeout(30);
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  headers.insert(extra_headers.begin(), extra_headers.end());
  auto send = [&]() -> httplib::Result {
    if (method == "POST") return client.Post(target, headers, body, "application/json");
    if (method == "PUT") return client.Put(target, headers, body, "application/json");
    if (method == "PATCH") return client.Patch(target, headers, body, "application/json");
    if (method == "DELETE") return client.Delete(target, headers, body, "application/json");
    return client.Get(target, headers);
  };
  httplib::Result result = send();
  HttpAnswer answer;
  if (!result) return answer;
  answer.status = result->status;
  answer.body = result->body;
  answer.headers.insert(result->headers.begin(), result->headers.end());
  return answer;
}

}  // namespace giftcard::testing

// giftctl health: a grpc.health.v1 check of each address, naming which of
// the suite's services answers there.
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "calls.h"
#include "common/tool_common.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "output.h"
#include "server/client.h"

namespace giftcard::giftctl {
namespace {

struct HealthFlags {
  std::vector<std::string> addresses;
  std::string wait;
  std::string service;
};

// One Health/Check; "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN" (the
// server has no such name) or the error.
std::string CheckOnce(const Session& session, const std::string& address,
                      const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(server::MakeChannel(address));
  grpc::ClientContext context;
  server::PrepareContext(context, "", absl::Seconds(2));
  grpc::health::v1::HealthCheckResponse response;
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::Status status = stub->Check(&context, request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND) return "SERVICE_UNKNOWN";
  if (!status.ok()) {
    const std::string hint = session.HintFor(status);
    return tools::Describe(status) + (hint.empty() ? "" : " (hint: " + hint + ")");
  }
  return grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
}

// Which of the suite's services answers at `address` (each registers its
// full name with health): its full name, or "".
std::string ServiceAt(const Session& session, const std::string& address) {
  for (const char* name :
       {v1::CodeVault::service_full_name(), v1::AccountCredit::service_full_name(),
        v1::Billing::service_full_name()}) {
    const std::string state = CheckOnce(session, address, name);
    if (state == "SERVING" || state == "NOT_SERVING") return name;
  }
  return "";
}

std::string ShortServiceName(const std::string& full) {
  if (full == v1::CodeVault::service_full_name()) return "code-vault";
  if (full == v1::AccountCredit::service_full_name()) return "account-credit";
  if (full == v1::Billing::service_full_name()) return "billing";
  return full;
}

int Health(const Session& session, const HealthFlags& flags) {
  absl::Duration wait = absl::ZeroDuration();
  if (!flags.wait.empty() && !absl::ParseDuration(flags.wait, &wait)) {
    return session.UsageError("health", "--wait wants a duration such as 30s");
  }
  const absl::Time deadline = absl::Now() + wait;
  int exit_code = kExitOk;
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for (const std::string& address : flags.addresses) {
    std::string state = CheckOnce(session, address, flags.service);
    while (state != "SERVING" && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(100));
      state = CheckOnce(session, address, flags.service);
    }
    const bool reachable = state == "SERVING" || state == "NOT_SERVING";
    const std::string service = reachable ? ServiceAt(session, address) : "";
    if (session.json()) {
      json[address] = {{"status", state}, {"service", service}};
    } else {
      std::printf(
          "%s: %s%s\n", address.c_str(), state.c_str(),
          service.empty() ? "" : absl::StrCat(" (", ShortServiceName(service), ")").c_str());
    }
    if (state != "SERVING") exit_code = kExitFailed;
  }
  if (session.json()) std::printf("%s\n", DumpJson(json).c_str());
  return exit_code;
}

}  // namespace

void AddHealthCommand(CommandLine& cli) {
  HealthFlags& health = cli.NewFlags<HealthFlags>();
  const Session& session = cli.session();
  CLI::App* c = cli.Command(cli.root(), "health",
                            "grpc.health.v1 check of each address, naming the service there",
                            [&] { return Health(session, health); });
  c->add_option("address", health.addresses, "host:port to check")->required();
  c->add_option("--wait", health.wait,
                "keep asking until SERVING or this much time has passed, e.g. 30s");
  c->add_option("--service", health.service,
                "health service name: \"\" (default) is readiness, giftcard.liveness liveness");
}

}  // namespace giftcard::giftctl

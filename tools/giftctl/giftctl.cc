// giftctl: the admin and support CLI. It talks only to the services' gRPC
// APIs, never to their databases.
//
//   giftctl health [--wait=30s] ADDR...   grpc.health.v1 check of each address
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/tool_common.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/client.h"

ABSL_FLAG(absl::Duration, wait, absl::ZeroDuration(),
          "health: keep asking until every address is SERVING or this much time has passed");

namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// One Health/Check of the server as a whole; "SERVING", "NOT_SERVING" or an error.
std::string CheckOnce(const std::string& address) {
  auto stub = grpc::health::v1::Health::NewStub(giftcard::server::MakeChannel(address));
  grpc::ClientContext context;
  giftcard::server::PrepareContext(context, "", absl::Seconds(2));
  HealthCheckResponse response;
  grpc::Status status = stub->Check(&context, HealthCheckRequest(), &response);
  if (!status.ok()) return giftcard::tools::Describe(status);
  return HealthCheckResponse::ServingStatus_Name(response.status());
}

int Health(const std::vector<std::string>& addresses) {
  if (addresses.empty()) {
    std::fprintf(stderr, "usage: giftctl health [--wait=30s] ADDR...\n");
    return 2;
  }
  const absl::Time deadline = absl::Now() + absl::GetFlag(FLAGS_wait);
  int exit_code = 0;
  for (const std::string& address : addresses) {
    std::string state = CheckOnce(address);
    while (state != "SERVING" && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(100));
      state = CheckOnce(address);
    }
    std::printf("%s: %s\n", address.c_str(), state.c_str());
    if (state != "SERVING") exit_code = 1;
  }
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("giftctl COMMAND [flags] ARGS...\n\ncommands:\n  health ADDR...");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() < 2) {
    std::fprintf(stderr, "usage: giftctl health [--wait=30s] ADDR...\n");
    return 2;
  }
  const std::string command = args[1];
  std::vector<std::string> rest(args.begin() + 2, args.end());
  if (command == "health") return Health(rest);
  std::fprintf(stderr, "giftctl: unknown command '%s'\n", command.c_str());
  return 2;
}

// Test harness: Private Postgres clusters and Redis servers, the fixture's servers, TLS material.
#include "support/servers.h"

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

const TestServers& TestServers::Get() {
  static const TestServers* servers = [] {
    auto* s = new TestServers;
    const char* path = std::getenv("GIFTCARD_TEST_ENV");
    if (path == nullptr) {
      std::fprintf(stderr, "GIFTCARD_TEST_ENV is not set: run integration tests through ctest\n");
      std::abort();
    }
    auto env = ParseEnvFile(path);
    if (!absl::SimpleAtoi(env["PG_PORT"], &s->pg_port) ||
        !absl::SimpleAtoi(env["REDIS_PORT"], &s->redis_port)) {
      std::fprintf(stderr, "cannot read the test servers from %s\n", path);
      std::abort();
    }
    return s;
  }();
  return *servers;
}

std::string ServersScript() {
  return absl::StrCat(GIFTCARD_SOURCE_DIR, "/deploy/local/servers.sh");
}

PgCluster::PgCluster() {
  char tmpl[] = "/tmp/giftcard-pgtest.XXXXXX";
  dir_ = mkdtemp(tmpl);
  const std::string out = RunShell(
      absl::StrCat("bash -c 'source ", ServersScript(), " && giftcard_pg_start ", dir_, "' 2>&1"));
  if (!absl::SimpleAtoi(out, &port_)) ADD_FAILURE() << "private postgres did not start: " << out;
}

PgCluster::~PgCluster() {
  Stop("immediate");
  RunShell("rm -rf " + dir_);
}

void PgCluster::Stop(const std::string& mode) {
  RunShell(absl::StrCat("bash -c 'source ", ServersScript(), " && giftcard_pg_stop ", dir_, " ",
                        mode, "'"));
}

void PgCluster::SignalAll(const char* signal) {
  // The postmaster's pid is the first line of postmaster.pid; its children
  // are the backends and auxiliary processes.
  // The postmaster must take the signal; a child may exit between pgrep
  // and kill (a backend ending its session), which is no failure.
  RunShell(absl::StrCat("pid=$(head -1 ", dir_, "/data/postmaster.pid) && kill -", signal,
                        " $pid && for child in $(pgrep -P $pid); do kill -", signal,
                        " $child 2>/dev/null || true; done"));
}

void PgCluster::Restart() {
  RunShell(
      absl::StrCat("bash -c 'source ", ServersScript(), " && giftcard_pg_restart ", dir_, "'"));
}

RedisServer::RedisServer() {
  char tmpl[] = "/tmp/giftcard-redistest.XXXXXX";
  dir_ = mkdtemp(tmpl);
  const std::string out = RunShell(absl::StrCat("bash -c 'source ", ServersScript(),
                                                " && giftcard_redis_start ", dir_, "' 2>&1"));
  if (!absl::SimpleAtoi(out, &port_)) ADD_FAILURE() << "private redis did not start: " << out;
}

RedisServer::~RedisServer() {
  Stop();
  RunShell("rm -rf " + dir_);
}

void RedisServer::Stop() {
  RunShell(
      absl::StrCat("bash -c 'source ", ServersScript(), " && giftcard_redis_stop ", dir_, "'"));
}

void RedisServer::Restart() {
  RunShell(absl::StrCat("bash -c 'source ", ServersScript(), " && GIFTCARD_REDIS_PORT=", port_,
                        " giftcard_redis_start ", dir_, "' >/dev/null"));
}

std::string MakeCerts(const std::string& ca_name) {
  char tmpl[] = "/tmp/giftcard-certs.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  RunShell(
      absl::StrCat("bash ", GIFTCARD_SOURCE_DIR, "/deploy/local/certs.sh ", dir, " ", ca_name));
  return dir;
}

}  // namespace giftcard::testing

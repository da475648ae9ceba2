#include "server/bootstrap.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

#include "absl/debugging/failure_signal_handler.h"
#include "absl/debugging/symbolize.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "config/files.h"
#include "errors/status.h"
#include "log/log.h"
#include "metrics/http_exporter.h"
#include "metrics/registry.h"

namespace giftcard::server {
namespace {

sigset_t TerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

}  // namespace

bool WritePortFile(const std::string& path, int port) {
  // Write then rename, so a reader never sees a half-written file.
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "w");
  if (f == nullptr) return false;
  std::fprintf(f, "%d\n", port);
  if (std::fclose(f) != 0) return false;
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

void BlockTerminationSignals() {
  sigset_t set = TerminationSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void IgnoreBrokenPipes() { signal(SIGPIPE, SIG_IGN); }

void ReportCrashes() {
  absl::InitializeSymbolizer("/proc/self/exe");
  absl::InstallFailureSignalHandler(absl::FailureSignalHandlerOptions{});
}

void DisableCoreDumps() {
  const rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

namespace {

// The listening port's credentials: TLS (mutual when a client CA is given)
// or, for local development, plaintext. nullptr when the files are unreadable.
std::shared_ptr<grpc::ServerCredentials> Credentials(const ServeOptions& options) {
  if (options.tls_cert_file.empty()) {
    log::Warning("plaintext", {{"why", "no --tls_cert_file: local development only"}});
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions ssl(
      options.tls_client_ca_file.empty()
          ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
          : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  std::optional<std::string> cert = config::ReadFile(options.tls_cert_file);
  std::optional<std::string> key = config::ReadFile(options.tls_key_file);
  std::optional<std::string> ca = options.tls_client_ca_file.empty()
                                      ? std::optional<std::string>("")
                                      : config::ReadFile(options.tls_client_ca_file);
  if (!cert || !key || !ca) {
    log::Error("tls_files_unreadable", {{"cert", options.tls_cert_file}});
    return nullptr;
  }
  ssl.pem_root_certs = *ca;
  ssl.pem_key_cert_pairs.push_back({*key, *cert});
  log::Info("tls_enabled", {{"mutual", options.tls_client_ca_file.empty() ? "no" : "yes"}});
  return grpc::SslServerCredentials(ssl);
}

// The per-call log line (the test hooks run in the CallRunner's workers).
void AddInterceptors(const ServeOptions& options, grpc::ServerBuilder& builder) {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(MakeCallLogInterceptorFactory(options.principal_of));
  builder.experimental().SetInterceptorCreators(std::move(creators));
}

// Blocks until SIGTERM or SIGINT, running on_sighup for each SIGHUP; returns
// the signal that ends the wait.
int AwaitTermination(const ServeOptions& options) {
  sigset_t set = TerminationSignals();
  int sig = 0;
  while (true) {
    if (sigwait(&set, &sig) != 0) continue;
    if (sig != SIGHUP) return sig;
    log::Info("sighup");
    if (options.on_sighup) options.on_sighup();
  }
}

// Health follows the dependency probe, so a load balancer stops sending
// calls while the database is gone and resumes when it is back; the
// liveness name stays SERVING while the process runs.
class HealthFollower {
 public:
  HealthFollower(grpc::HealthCheckServiceInterface* health, std::string grpc_service_name,
                 std::function<absl::Status()> probe, absl::Duration interval)
      : health_(health),
        grpc_service_name_(std::move(grpc_service_name)),
        probe_(std::move(probe)),
        interval_(interval) {
    metrics::Global().AddCallback("giftcard_serving",
                                  "1 while health is SERVING (the database answers), else 0.",
                                  "gauge", [this] { return serving_.load() ? 1.0 : 0.0; });
    thread_ = std::thread([this] { Run(); });
  }
  // Stops polling; health answers NOT_SERVING from then on.
  ~HealthFollower() {
    stopping_.Notify();
    thread_.join();
    health_->Shutdown();
    metrics::Global().RemoveCallback("giftcard_serving");
  }

 private:
  void Run() {
    bool last = false;
    bool first = true;
    while (!stopping_.HasBeenNotified()) {
      const absl::Status s = probe_();
      serving_.store(s.ok());
      if (first || s.ok() != last) {
        health_->SetServingStatus(s.ok());
        if (!grpc_service_name_.empty()) health_->SetServingStatus(grpc_service_name_, s.ok());
        health_->SetServingStatus(kLivenessService, true);  // The first line set it too.
        if (s.ok()) {
          log::Info("health_serving");
        } else {
          log::Warning("health_not_serving", {{"status", errors::Describe(s)}});
        }
        last = s.ok();
        first = false;
      }
      stopping_.WaitForNotificationWithTimeout(interval_);
    }
  }

  grpc::HealthCheckServiceInterface* const health_;
  const std::string grpc_service_name_;
  const std::function<absl::Status()> probe_;
  const absl::Duration interval_;
  absl::Notification stopping_;
  std::atomic<bool> serving_{false};
  std::thread thread_;
};

// Stops accepting calls at once and lets those in flight finish until the
// grace passes; handlers still blocked then (a stalled database) are cut
// off through on_grace_expired, so the process can exit.
void Drain(const ServeOptions& options, grpc::Server& server) {
  absl::Notification drained;
  std::thread grace_timer([&] {
    if (!drained.WaitForNotificationWithTimeout(options.shutdown_grace) &&
        options.on_grace_expired) {
      log::Warning("shutdown_grace_expired", {{"action", "cutting off calls in flight"}});
      options.on_grace_expired();
    }
  });
  server.Shutdown(std::chrono::system_clock::now() +
                  std::chrono::milliseconds(absl::ToInt64Milliseconds(options.shutdown_grace)));
  server.Wait();
  drained.Notify();
  grace_timer.join();
}

}  // namespace

int Serve(const ServeOptions& options, const std::vector<grpc::Service*>& services,
          std::function<absl::Status()> probe) {
  // absl::Mutex's deadlock detection keeps a lock graph on every acquisition;
  // a profile of the redemption path showed it, and the services' locks are
  // leaf locks, so it buys nothing here.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  log::SetServiceName(options.service_name);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  std::shared_ptr<grpc::ServerCredentials> credentials = Credentials(options);
  if (credentials == nullptr) return 2;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen_address, credentials, &port);
  grpc::ResourceQuota quota(options.service_name);
  quota.SetMaxThreads(options.max_threads);
  builder.SetResourceQuota(quota);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  for (grpc::Service* s : services) builder.RegisterService(s);
  AddInterceptors(options, builder);

  // Metrics first: once the gRPC port file exists, /metrics answers too.
  std::unique_ptr<metrics::HttpExporter> metrics_exporter;
  if (!options.metrics_listen.empty()) {
    auto exporter = metrics::HttpExporter::Start(options.metrics_listen, metrics::Global());
    if (!exporter.ok()) {
      log::Error("metrics_listen_failed", {{"address", options.metrics_listen},
                                           {"status", errors::Describe(exporter.status())}});
      return 1;
    }
    metrics_exporter = std::move(*exporter);
    if (!options.metrics_port_file.empty() &&
        !WritePortFile(options.metrics_port_file, metrics_exporter->port())) {
      log::Error("port_file_write_failed", {{"path", options.metrics_port_file}});
      return 1;
    }
    log::Info("metrics_listening", {{"port", metrics_exporter->port()}});
  }

  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    log::Error("listen_failed", {{"address", options.listen_address}});
    return 1;
  }
  if (!options.port_file.empty() && !WritePortFile(options.port_file, port)) {
    log::Error("port_file_write_failed", {{"path", options.port_file}});
    return 1;
  }
  {
    HealthFollower health(server->GetHealthCheckService(), options.grpc_service_name,
                          std::move(probe), options.health_interval);
    log::Info("listening", {{"port", port}});
    const int sig = AwaitTermination(options);
    log::Info("shutdown_started", {{"signal", sig}});
  }  // Health answers NOT_SERVING from here on.
  if (options.drain_delay > absl::ZeroDuration()) {
    // A lame duck: clients that watch health send their next calls to
    // another replica, and a call that still comes here is served.
    log::Info("draining", {{"delay_ms", absl::ToInt64Milliseconds(options.drain_delay)}});
    absl::SleepFor(options.drain_delay);
  }
  if (options.on_shutdown) options.on_shutdown();
  Drain(options, *server);
  log::Info("shutdown_complete");
  return 0;
}

}  // namespace giftcard::server

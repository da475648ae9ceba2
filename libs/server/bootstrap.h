// The server bootstrap every service shares. main() wires its objects, then
// calls Serve(), which owns the process until SIGTERM/SIGINT:
//   - gRPC services whose unary methods are callback handlers that give
//     their work to a CallRunner (server/call_runner.h), and whose streaming
//     admin methods stay synchronous on a bounded thread pool;
//   - grpc.health.v1 (SERVING only while the dependency probe passes) and
//     server reflection;
//   - listening on an address whose port may be 0, with the chosen port
//     written to a file so tests and the local stack can find it;
//   - on SIGTERM: health NOT_SERVING, stop accepting, let in-flight calls
//     finish within a grace period, return 0.
#ifndef GIFTCARD_LIBS_SERVER_BOOTSTRAP_H_
#define GIFTCARD_LIBS_SERVER_BOOTSTRAP_H_

#include <grpcpp/grpcpp.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "server/call_log.h"

namespace giftcard::server {

// Health service name that is SERVING for as long as the process serves,
// whatever its database does: the liveness probe's. "" (the whole server)
// follows the dependency probe: readiness.
inline constexpr char kLivenessService[] = "giftcard.liveness";

struct ServeOptions {
  std::string service_name;  // For logs.
  // The gRPC service served ("giftcard.v1.CodeVault"): health answers for
  // this name too, so a client can tell which service an address is.
  std::string grpc_service_name;
  std::string listen_address;  // host:port; port 0 picks a free one.
  std::string port_file;       // If set, the bound port is written here.
  // Prometheus text endpoint (GET /metrics) on its own HTTP port; empty: off.
  std::string metrics_listen;
  std::string metrics_port_file;  // If set, the metrics port is written here.
  int max_threads = 128;          // Upper bound of synchronous (streaming) handler threads.
  int max_message_bytes = 4 << 20;
  absl::Duration health_interval = absl::Milliseconds(500);
  absl::Duration shutdown_grace = absl::Seconds(20);
  // After SIGTERM, serving on while health says NOT_SERVING (lame duck).
  absl::Duration drain_delay = absl::ZeroDuration();
  // TLS: the server's certificate chain and key (PEM files); with a client
  // CA, clients must present a certificate it signed (mutual TLS). Empty:
  // plaintext, for local development.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  // Called on SIGHUP (reload the tokens file).
  std::function<void()> on_sighup;
  // Run when the shutdown grace has passed with calls still in flight (a
  // stalled database): cut them off so the process can exit.
  std::function<void()> on_grace_expired;
  // Run when shutdown starts, before draining: ends long-lived streams
  // (WatchEvents) so the drain does not wait the whole grace for them.
  std::function<void()> on_shutdown;
  // Names the caller in the per-call log line (server/call_log.h).
  PrincipalOf principal_of;
};

// Must run first in main(), before any thread exists: blocks SIGTERM, SIGINT
// and SIGHUP in every thread so Serve() can wait for them synchronously.
void BlockTerminationSignals();

// A write to a socket whose peer has gone answers EPIPE instead of killing
// the process with SIGPIPE: hiredis writes with write(2), not
// send(MSG_NOSIGNAL), so Redis dying under load would otherwise take the
// service down with it, silently.
void IgnoreBrokenPipes();

// A crash (SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE) writes the signal and
// the stack of the thread that crashed to stderr, the service's log, before
// the process dies: without it a crash leaves only the lines the log had
// flushed. A stack holds addresses and function names, never memory: no PIN.
// SIGTERM gets a handler too, but stays blocked in every thread
// (BlockTerminationSignals): Serve() still takes it as a graceful stop.
void ReportCrashes();

// For processes that hold secrets in memory (PINs in code-vault): no core
// dumps, and no ptrace or /proc/<pid>/mem reads by other unprivileged users.
void DisableCoreDumps();

// Writes `port` to `path` (then renames, so a reader never sees half a file).
bool WritePortFile(const std::string& path, int port);

// Builds and runs the server; returns the process exit code. `probe` checks
// the service's own dependencies (its database) and drives health.
int Serve(const ServeOptions& options, const std::vector<grpc::Service*>& services,
          std::function<absl::Status()> probe);

}  // namespace giftcard::server

#endif  // GIFTCARD_LIBS_SERVER_BOOTSTRAP_H_

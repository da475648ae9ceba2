#include "server/flags.h"

#include <algorithm>

#include "absl/flags/flag.h"
#include "log/log.h"
#include "server/cpu_affinity.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "host:port to listen on; port 0 picks a free port");
ABSL_FLAG(std::string, port_file, "", "if set, the bound port is written to this file");
ABSL_FLAG(std::string, metrics_listen, "",
          "host:port of the Prometheus /metrics HTTP endpoint; empty: no endpoint");
ABSL_FLAG(std::string, metrics_port_file, "", "if set, the metrics port is written to this file");
ABSL_FLAG(int, max_threads, 128,
          "upper bound of gRPC's threads for the synchronous (streaming admin) methods");
ABSL_FLAG(int, write_workers, 128,
          "workers that run calls which change state (each may wait on Postgres, Redis or a peer)");
ABSL_FLAG(int, read_workers, 32, "workers that run read-only calls, apart from the writes");
ABSL_FLAG(int, max_queued_calls, 256,
          "per lane (reads, writes): calls waiting for a worker beyond this many are refused with "
          "RESOURCE_EXHAUSTED/OVERLOADED and a RetryInfo");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(20),
          "how long in-flight calls may run after SIGTERM");
ABSL_FLAG(absl::Duration, drain_delay, absl::ZeroDuration(),
          "on SIGTERM, how long to keep serving while health says NOT_SERVING, before taking no "
          "new calls: clients that health-check move their next calls to other replicas first "
          "(a rolling restart); then --shutdown_grace for the calls in flight");
ABSL_FLAG(bool, enable_test_hooks, false, "fault-injection hooks for tests; never in production");
ABSL_FLAG(std::string, test_delay_methods, "",
          "with --enable_test_hooks: hold calls of these methods, 'Method=ms[,Method=ms]'");
ABSL_FLAG(std::string, test_reply_delay_methods, "",
          "with --enable_test_hooks: hold the answers of these methods after their handler ran "
          "(the effect is committed, the caller waits), 'Method=ms[,Method=ms]'");
ABSL_FLAG(std::string, tls_cert_file, "", "server certificate chain (PEM); empty: plaintext");
ABSL_FLAG(std::string, tls_key_file, "", "server private key (PEM)");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "CA for client certificates; set: mutual TLS, every client must present one");
ABSL_FLAG(std::string, peer_tls_ca, "",
          "CA of the peers this service calls (PEM); empty: plaintext");
ABSL_FLAG(std::string, peer_tls_cert, "", "this service's client certificate towards peers");
ABSL_FLAG(std::string, peer_tls_key, "", "this service's client key towards peers");
ABSL_FLAG(std::string, tokens_file, "",
          "bearer tokens: lines '<principal> <sha256 hex of token>'; reloaded on SIGHUP");
ABSL_FLAG(bool, allow_unauthenticated, false,
          "local development only: calls without identity may call every method");
ABSL_FLAG(std::string, pg_dsn, "", "libpq connection string of this service's own database");
ABSL_FLAG(std::string, pg_standby_dsn, "",
          "libpq connection string for the reads that may be a moment stale (GetCodeStatus by "
          "serial, ListCodes, ListLedgerEntries; never a read a decision rests on): a standby, "
          "e.g. the nodes' multi-host DSN with target_session_attrs=prefer-standby. Empty: "
          "--pg_dsn");
ABSL_FLAG(int, pg_pool_size, 8, "Postgres connections per process");
ABSL_FLAG(int, sql_max_batch, 64,
          "concurrent writes of one kind (completions, postings) sent to Postgres as one "
          "statement at most; 1: each alone");
ABSL_FLAG(absl::Duration, event_relay_interval, absl::Milliseconds(100),
          "how often the outbox relay moves committed events to the events table, and how "
          "often a WatchEvents stream looks for new ones");
ABSL_FLAG(absl::Duration, backlog_interval, absl::Seconds(10),
          "how often the sagas waiting for recovery and the events waiting in the outbox are "
          "counted for /metrics (giftcard_sagas_unsettled, giftcard_outbox_events_waiting)");
ABSL_FLAG(absl::Duration, event_retention, absl::Hours(24 * 7),
          "events older than this are pruned; a consumer must resume within it");
ABSL_FLAG(std::string, cpus, "",
          "keep every thread of the process on these CPUs (e.g. 0 or 0,2-3); empty: wherever "
          "the kernel puts them. One CPU per service saves the cross-CPU wake-ups of its "
          "hand-offs (docs/decisions.md)");

namespace giftcard::server {

ServeOptions ServeOptionsFromFlags(const std::string& service_name) {
  ServeOptions o;
  o.service_name = service_name;
  o.listen_address = absl::GetFlag(FLAGS_listen);
  o.port_file = absl::GetFlag(FLAGS_port_file);
  o.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  o.metrics_port_file = absl::GetFlag(FLAGS_metrics_port_file);
  o.max_threads = absl::GetFlag(FLAGS_max_threads);
  o.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  o.drain_delay = absl::GetFlag(FLAGS_drain_delay);
  o.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  o.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  o.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  return o;
}

std::optional<CallRunnerOptions> CallRunnerOptionsFromFlags() {
  CallRunnerOptions o;
  o.read_workers = absl::GetFlag(FLAGS_read_workers);
  o.write_workers = absl::GetFlag(FLAGS_write_workers);
  o.max_queued_calls = absl::GetFlag(FLAGS_max_queued_calls);
  if (absl::GetFlag(FLAGS_enable_test_hooks)) {
    o.test_hooks = TestHooks::FromSpecs(absl::GetFlag(FLAGS_test_delay_methods),
                                        absl::GetFlag(FLAGS_test_reply_delay_methods));
    if (!o.test_hooks) {
      log::Error("bad_test_delay_methods",
                 {{"spec", absl::GetFlag(FLAGS_test_delay_methods)},
                  {"reply_spec", absl::GetFlag(FLAGS_test_reply_delay_methods)}});
      return std::nullopt;
    }
  }
  return o;
}

ClientTls PeerTlsFromFlags() {
  return {absl::GetFlag(FLAGS_peer_tls_ca), absl::GetFlag(FLAGS_peer_tls_cert),
          absl::GetFlag(FLAGS_peer_tls_key)};
}

std::string TokensFileFlag() { return absl::GetFlag(FLAGS_tokens_file); }
bool AllowUnauthenticatedFlag() { return absl::GetFlag(FLAGS_allow_unauthenticated); }

std::string PgDsnFlag() { return absl::GetFlag(FLAGS_pg_dsn); }
int PgPoolSizeFlag() { return absl::GetFlag(FLAGS_pg_pool_size); }
std::string PgStandbyDsnFlag() { return absl::GetFlag(FLAGS_pg_standby_dsn); }
absl::Duration EventRelayIntervalFlag() {
  return std::max(absl::Milliseconds(10), absl::GetFlag(FLAGS_event_relay_interval));
}
absl::Duration BacklogIntervalFlag() {
  return std::max(absl::Milliseconds(100), absl::GetFlag(FLAGS_backlog_interval));
}
absl::Duration EventRetentionFlag() {
  return std::max(absl::Seconds(1), absl::GetFlag(FLAGS_event_retention));
}
size_t SqlMaxBatchFlag() {
  return static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_sql_max_batch)));
}

std::optional<std::string> RequiredPgDsn() {
  std::string dsn = absl::GetFlag(FLAGS_pg_dsn);
  if (dsn.empty()) {
    log::Error("missing_pg_dsn", {{"fix",
                                   "give --pg_dsn (or GIFTCARD_PG_DSN): the libpq "
                                   "connection string of this service's database"}});
    return std::nullopt;
  }
  return dsn;
}

bool PinToCpusFromFlag() {
  const absl::Status pinned = PinProcessToCpus(absl::GetFlag(FLAGS_cpus));
  if (!pinned.ok()) log::Error("bad_cpus", {{"error", std::string(pinned.message())}});
  return pinned.ok();
}

}  // namespace giftcard::server

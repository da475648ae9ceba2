// Flags every service shares (each also settable as GIFTCARD_<NAME>).
#ifndef GIFTCARD_LIBS_SERVER_FLAGS_H_
#define GIFTCARD_LIBS_SERVER_FLAGS_H_

#include <optional>
#include <string>

#include "server/bootstrap.h"
#include "server/call_runner.h"
#include "server/client.h"

namespace giftcard::server {

// ServeOptions from --listen, --port_file, --max_threads, --shutdown_grace.
ServeOptions ServeOptionsFromFlags(const std::string& service_name);

// CallRunnerOptions from --read_workers, --write_workers, --max_queued_calls
// and --enable_test_hooks with its delay specs; nullopt, after logging why,
// when a delay spec is malformed.
std::optional<CallRunnerOptions> CallRunnerOptionsFromFlags();

// TLS towards peers: --peer_tls_ca, --peer_tls_cert, --peer_tls_key.
ClientTls PeerTlsFromFlags();

// Moves the process's threads onto --cpus (server/cpu_affinity.h); false,
// after logging why, when the list is malformed or names a CPU it may not use.
bool PinToCpusFromFlag();

// --tokens_file and --allow_unauthenticated.
std::string TokensFileFlag();
bool AllowUnauthenticatedFlag();

// --pg_dsn and --pg_pool_size.
std::string PgDsnFlag();
// --pg_dsn, or nullopt after logging one line that names the flag and its
// environment variable when it is not set.
std::optional<std::string> RequiredPgDsn();
int PgPoolSizeFlag();
// --pg_standby_dsn: where the reads whose staleness is harmless go (a
// standby); empty when they go to --pg_dsn's primary like the rest.
std::string PgStandbyDsnFlag();
// --sql_max_batch: the most concurrent writes a store batches into one statement.
size_t SqlMaxBatchFlag();
// --event_relay_interval: the outbox relay's and WatchEvents' polling period.
absl::Duration EventRelayIntervalFlag();
// --backlog_interval: how often backlog::Gauges measures what waits.
absl::Duration BacklogIntervalFlag();
// --event_retention: how long events are kept.
absl::Duration EventRetentionFlag();

}  // namespace giftcard::server

#endif  // GIFTCARD_LIBS_SERVER_FLAGS_H_

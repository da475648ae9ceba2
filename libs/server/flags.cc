#include "server/flags.h"

#include "absl/flags/flag.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:0", "host:port to listen on; port 0 picks a free port");
ABSL_FLAG(std::string, port_file, "", "if set, the bound port is written to this file");
ABSL_FLAG(int, max_threads, 128,
          "upper bound of gRPC handler threads; calls beyond it are shed with RESOURCE_EXHAUSTED");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(20),
          "how long in-flight calls may run after SIGTERM");
ABSL_FLAG(bool, enable_test_hooks, false, "fault-injection hooks for tests; never in production");
ABSL_FLAG(std::string, test_delay_methods, "",
          "with --enable_test_hooks: hold calls of these methods, 'Method=ms[,Method=ms]'");
ABSL_FLAG(std::string, pg_dsn, "", "libpq connection string of this service's own database");
ABSL_FLAG(int, pg_pool_size, 8, "Postgres connections per process");

namespace giftcard::server {

ServeOptions ServeOptionsFromFlags(const std::string& service_name) {
  ServeOptions o;
  o.service_name = service_name;
  o.listen_address = absl::GetFlag(FLAGS_listen);
  o.port_file = absl::GetFlag(FLAGS_port_file);
  o.max_threads = absl::GetFlag(FLAGS_max_threads);
  o.shutdown_grace = absl::GetFlag(FLAGS_shutdown_grace);
  o.enable_test_hooks = absl::GetFlag(FLAGS_enable_test_hooks);
  o.test_delay_methods = absl::GetFlag(FLAGS_test_delay_methods);
  return o;
}

std::string PgDsnFlag() { return absl::GetFlag(FLAGS_pg_dsn); }
int PgPoolSizeFlag() { return absl::GetFlag(FLAGS_pg_pool_size); }

}  // namespace giftcard::server

// CPU time of processes, read from /proc: the benchmark reports CPU per
// operation per process, which is steadier on a shared machine than
// throughput and shows where the next microsecond goes.
#ifndef GIFTCARD_TOOLS_GIFTBENCH_CPU_METER_H_
#define GIFTCARD_TOOLS_GIFTBENCH_CPU_METER_H_

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace giftcard::bench {

struct WatchedProcess {
  std::string name;
  pid_t pid = 0;
  // Postgres: a backend per connection, so the postmaster's children count
  // too, live ones and those it has reaped.
  bool with_children = false;
};

// "code-vault=123,postgres=456+" ('+': with children); nullopt when malformed.
std::optional<std::vector<WatchedProcess>> ParseWatchList(const std::string& spec);

// CPU seconds (user + system) the process has used so far; -1 when it is gone.
double CpuSeconds(const WatchedProcess& process);

}  // namespace giftcard::bench

#endif  // GIFTCARD_TOOLS_GIFTBENCH_CPU_METER_H_

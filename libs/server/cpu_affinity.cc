#include "server/cpu_affinity.h"

#include <dirent.h>
#include <sched.h>
#include <sys/types.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace giftcard::server {
namespace {

absl::Status Invalid(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("--cpus: ", why));
}

std::vector<pid_t> ThreadsOfThisProcess() {
  std::vector<pid_t> tids;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return tids;
  while (const dirent* entry = readdir(dir)) {
    int tid;
    if (absl::SimpleAtoi(entry->d_name, &tid)) tids.push_back(tid);
  }
  closedir(dir);
  return tids;
}

}  // namespace

absl::StatusOr<std::set<int>> ParseCpuList(const std::string& spec) {
  std::set<int> cpus;
  for (absl::string_view part : absl::StrSplit(spec, ',')) {
    std::vector<absl::string_view> ends = absl::StrSplit(part, absl::MaxSplits('-', 1));
    int first, last;
    if (!absl::SimpleAtoi(ends[0], &first) ||
        !absl::SimpleAtoi(ends.size() == 2 ? ends[1] : ends[0], &last) || first < 0 ||
        last < first || last >= CPU_SETSIZE) {
      return Invalid(
          absl::StrCat("\"", part, "\" is not a CPU number or range (a list such as 0 or 0,2-3)"));
    }
    for (int cpu = first; cpu <= last; ++cpu) cpus.insert(cpu);
  }
  return cpus;
}

absl::Status PinProcessToCpus(const std::string& spec) {
  if (spec.empty()) return absl::OkStatus();
  absl::StatusOr<std::set<int>> cpus = ParseCpuList(spec);
  if (!cpus.ok()) return cpus.status();
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
    return absl::InternalError(absl::StrCat("--cpus: sched_getaffinity: ", std::strerror(errno)));
  }
  std::vector<int> usable;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) usable.push_back(cpu);
  }
  cpu_set_t wanted;
  CPU_ZERO(&wanted);
  for (int cpu : *cpus) {
    if (!CPU_ISSET(cpu, &allowed)) {
      return Invalid(absl::StrCat("CPU ", cpu, " is not available to this process (it may use ",
                                  absl::StrJoin(usable, ","), ")"));
    }
    CPU_SET(cpu, &wanted);
  }
  // Each thread by its id: a new thread inherits its creator's mask, but one
  // started before this call (the log's writer) would keep the old one.
  for (pid_t tid : ThreadsOfThisProcess()) {
    if (sched_setaffinity(tid, sizeof(wanted), &wanted) != 0 && errno != ESRCH) {
      return absl::InternalError(absl::StrCat("--cpus: sched_setaffinity: ", std::strerror(errno)));
    }
  }
  return absl::OkStatus();
}

}  // namespace giftcard::server

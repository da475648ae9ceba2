#include "cpu_meter.h"

#include <dirent.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace giftcard::bench {
namespace {

struct Stat {
  pid_t ppid = 0;
  double self = 0;      // utime + stime
  double children = 0;  // cutime + cstime: reaped children
};

// /proc/<pid>/stat: the command may hold spaces, so fields count from the
// last ')'. Fields 4 ppid, 14 utime, 15 stime, 16 cutime, 17 cstime.
std::optional<Stat> ReadStat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::vector<std::string> f = absl::StrSplit(line.substr(close + 2), ' ');
  if (f.size() < 15) return std::nullopt;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  long long ppid = 0, ut = 0, st = 0, cut = 0, cst = 0;
  // f[0] is field 3 (state).
  if (!absl::SimpleAtoi(f[1], &ppid) || !absl::SimpleAtoi(f[11], &ut) ||
      !absl::SimpleAtoi(f[12], &st) || !absl::SimpleAtoi(f[13], &cut) ||
      !absl::SimpleAtoi(f[14], &cst)) {
    return std::nullopt;
  }
  return Stat{static_cast<pid_t>(ppid), (ut + st) / tick, (cut + cst) / tick};
}

}  // namespace

std::optional<std::vector<WatchedProcess>> ParseWatchList(const std::string& spec) {
  std::vector<WatchedProcess> out;
  for (absl::string_view item : absl::StrSplit(spec, ',', absl::SkipEmpty())) {
    std::vector<absl::string_view> kv = absl::StrSplit(item, '=');
    if (kv.size() != 2 || kv[0].empty()) return std::nullopt;
    WatchedProcess p;
    p.name = std::string(kv[0]);
    absl::string_view pid = kv[1];
    p.with_children = absl::ConsumeSuffix(&pid, "+");
    int value = 0;
    if (!absl::SimpleAtoi(pid, &value) || value <= 0) return std::nullopt;
    p.pid = value;
    out.push_back(p);
  }
  return out;
}

double CpuSeconds(const WatchedProcess& process) {
  std::optional<Stat> root = ReadStat(process.pid);
  if (!root) return -1;
  double total = root->self;
  if (!process.with_children) return total;
  total += root->children;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return total;
  while (dirent* entry = readdir(proc)) {
    int pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
    std::optional<Stat> child = ReadStat(pid);
    if (child && child->ppid == process.pid) total += child->self;
  }
  closedir(proc);
  return total;
}

}  // namespace giftcard::bench

#include "log/log.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace giftcard::log {
namespace {

absl::Mutex mu;
std::string* service_name = new std::string("giftcard");

// Insertion order is kept: time, level, service and event lead every line.
using Json = nlohmann::ordered_json;

void Set(Json& object, const std::string& key, const Value& value) {
  std::visit([&](const auto& v) { object[key] = v; }, value.repr());
}

std::string Dump(const Json& object) {
  return object.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// Lines go out through a buffer: an INFO line (one per call) is appended
// and written with the others within kFlushInterval by a writer thread, one
// write(2) for many lines; a WARNING or ERROR line, a full buffer, Flush()
// and the process's exit write everything pending at once, in order. What a
// SIGKILL or a crash can lose: the INFO lines of the last interval.
constexpr absl::Duration kFlushInterval = absl::Milliseconds(20);
constexpr size_t kFlushBytes = 64 * 1024;

class Sink {
 public:
  void Append(const std::string& line, bool now) {
    absl::MutexLock lock(&mu_);
    pending_ += line;
    if (now || pending_.size() >= kFlushBytes) return WriteLocked();
    if (!writer_started_) {
      writer_started_ = true;
      std::thread([this] { Run(); }).detach();
    }
  }
  void Flush() {
    absl::MutexLock lock(&mu_);
    WriteLocked();
  }

 private:
  // Wakes when a line is pending (the appending thread's unlock wakes it,
  // once per interval at most), waits out the interval, writes.
  void Run() {
    for (;;) {
      mu_.LockWhen(absl::Condition(
          +[](std::string* pending) { return !pending->empty(); }, &pending_));
      mu_.Unlock();
      absl::SleepFor(kFlushInterval);
      Flush();
    }
  }
  void WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    size_t at = 0;
    while (at < pending_.size()) {
      const ssize_t n = ::write(STDERR_FILENO, pending_.data() + at, pending_.size() - at);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // stderr is gone: nothing else to do with the lines.
      at += static_cast<size_t>(n);
    }
    pending_.clear();
  }

  absl::Mutex mu_;
  std::string pending_ ABSL_GUARDED_BY(mu_);
  bool writer_started_ ABSL_GUARDED_BY(mu_) = false;
};

Sink& TheSink() {
  static Sink* sink = [] {
    auto* s = new Sink;
    std::atexit([] { TheSink().Flush(); });
    return s;
  }();
  return *sink;
}

void Write(absl::string_view level, absl::string_view event, const Fields& fields) {
  Json line;
  line["time"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  line["level"] = std::string(level);
  {
    absl::MutexLock lock(&mu);
    line["service"] = *service_name;
  }
  line["event"] = std::string(event);
  for (const auto& [key, value] : fields) Set(line, key, value);
  TheSink().Append(Dump(line) + "\n", level != "INFO");
}

}  // namespace

std::string JsonObject(const Fields& fields) {
  Json object = Json::object();
  for (const auto& [key, value] : fields) Set(object, key, value);
  return Dump(object);
}

void SetServiceName(absl::string_view name) {
  absl::MutexLock lock(&mu);
  *service_name = std::string(name);
}

void Flush() { TheSink().Flush(); }

void Info(absl::string_view event, const Fields& fields) { Write("INFO", event, fields); }
void Warning(absl::string_view event, const Fields& fields) { Write("WARNING", event, fields); }
void Error(absl::string_view event, const Fields& fields) { Write("ERROR", event, fields); }

}  // namespace giftcard::log

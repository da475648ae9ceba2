#include "log/log.h"

#include <cstdio>
#include <nlohmann/json.hpp>

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
  const std::string text = Dump(line) + "\n";
  // One fwrite per line keeps lines whole across threads.
  std::fwrite(text.data(), 1, text.size(), stderr);
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

void Info(absl::string_view event, const Fields& fields) { Write("INFO", event, fields); }
void Warning(absl::string_view event, const Fields& fields) { Write("WARNING", event, fields); }
void Error(absl::string_view event, const Fields& fields) { Write("ERROR", event, fields); }

}  // namespace giftcard::log

#include "log/log.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace giftcard::log {
namespace {

absl::Mutex mu;
std::string* service_name = new std::string("giftcard");

void Write(absl::string_view level, absl::string_view event, const Fields& fields) {
  std::string line = absl::StrCat(
      "{\"time\":\"", absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()),
      "\",\"level\":\"", level, "\",\"service\":\"");
  {
    absl::MutexLock lock(&mu);
    absl::StrAppend(&line, JsonEscape(*service_name));
  }
  absl::StrAppend(&line, "\",\"event\":\"", JsonEscape(event), "\"");
  for (const auto& [key, value] : fields) {
    absl::StrAppend(&line, ",\"", JsonEscape(key), "\":\"", JsonEscape(value), "\"");
  }
  line += "}\n";
  // One fwrite per line keeps lines whole across threads.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

std::string JsonEscape(absl::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

void SetServiceName(absl::string_view name) {
  absl::MutexLock lock(&mu);
  *service_name = std::string(name);
}

void Info(absl::string_view event, const Fields& fields) { Write("INFO", event, fields); }
void Warning(absl::string_view event, const Fields& fields) { Write("WARNING", event, fields); }
void Error(absl::string_view event, const Fields& fields) { Write("ERROR", event, fields); }

}  // namespace giftcard::log

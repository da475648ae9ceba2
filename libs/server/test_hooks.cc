#include "server/test_hooks.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "log/log.h"

namespace giftcard::server {

std::optional<TestHooks> TestHooks::FromSpecs(const std::string& method_delays,
                                              const std::string& reply_delays) {
  std::map<std::string, int64_t> before, after;
  if (!ParseMethodDelays(method_delays, &before) || !ParseMethodDelays(reply_delays, &after)) {
    return std::nullopt;
  }
  TestHooks hooks;
  hooks.method_delays_.insert(before.begin(), before.end());
  hooks.reply_delays_.insert(after.begin(), after.end());
  return hooks;
}

void TestHooks::BeforeHandler(absl::string_view method,
                              const grpc::ServerContextBase& context) const {
  absl::SleepFor(DelayBefore(method, context));
}

void TestHooks::AfterHandler(absl::string_view method) const { absl::SleepFor(DelayAfter(method)); }

absl::Duration TestHooks::DelayBefore(absl::string_view method,
                                      const grpc::ServerContextBase& context) const {
  int64_t ms = 0;
  if (auto it = method_delays_.find(method); it != method_delays_.end()) ms = it->second;
  const auto& md = context.client_metadata();
  if (auto it = md.find(kTestDelayMetadata); it != md.end()) {
    int64_t asked = 0;
    if (absl::SimpleAtoi(absl::string_view(it->second.data(), it->second.size()), &asked)) {
      ms = std::clamp<int64_t>(asked, 0, 60000);
    }
  }
  if (ms <= 0) return absl::ZeroDuration();
  log::Info("test_hook_delay", {{"ms", ms}});
  return absl::Milliseconds(ms);
}

absl::Duration TestHooks::DelayAfter(absl::string_view method) const {
  auto it = reply_delays_.find(method);
  if (it == reply_delays_.end() || it->second <= 0) return absl::ZeroDuration();
  log::Info("test_hook_reply_delay", {{"ms", it->second}});
  return absl::Milliseconds(it->second);
}

bool ParseMethodDelays(const std::string& spec, std::map<std::string, int64_t>* out) {
  for (absl::string_view entry : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(absl::StripAsciiWhitespace(entry), absl::MaxSplits('=', 1));
    int64_t ms = 0;
    if (kv.first.empty() || !absl::SimpleAtoi(kv.second, &ms) || ms < 0) return false;
    (*out)[kv.first] = std::min<int64_t>(ms, 60000);
  }
  return true;
}

}  // namespace giftcard::server

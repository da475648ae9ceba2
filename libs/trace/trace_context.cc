#include "trace/trace_context.h"

#include <cstdint>

#include "absl/random/random.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace giftcard::trace {
namespace {

bool IsLowerHex(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

bool AllZero(absl::string_view s) { return s.find_first_not_of('0') == absl::string_view::npos; }

// `digits` random lowercase hex digits, not all zero.
std::string RandomHex(int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  thread_local absl::BitGen gen;
  std::string out(digits, '0');
  while (AllZero(out)) {
    for (int i = 0; i < digits; i += 16) {
      uint64_t bits = absl::Uniform<uint64_t>(gen);
      for (int j = i; j < i + 16 && j < digits; ++j, bits >>= 4) out[j] = kHex[bits & 0xf];
    }
  }
  return out;
}

}  // namespace

std::string TraceContext::Traceparent() const {
  return absl::StrCat("00-", trace_id, "-", span_id, "-", flags);
}

std::optional<TraceContext> Parse(absl::string_view v) {
  // version "-" trace-id "-" parent-id "-" flags, then (only for a version
  // after 00) "-" and more.
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') return std::nullopt;
  const absl::string_view version = v.substr(0, 2), trace_id = v.substr(3, 32),
                          span_id = v.substr(36, 16), flags = v.substr(53, 2);
  if (!IsLowerHex(version) || version == "ff") return std::nullopt;
  if (version == "00" ? v.size() != 55 : (v.size() > 55 && v[55] != '-')) return std::nullopt;
  if (!IsLowerHex(trace_id) || AllZero(trace_id) || !IsLowerHex(span_id) || AllZero(span_id) ||
      !IsLowerHex(flags)) {
    return std::nullopt;
  }
  return TraceContext{std::string(trace_id), std::string(span_id), std::string(flags)};
}

TraceContext StartTrace() { return {RandomHex(32), RandomHex(16), "00"}; }

TraceContext ChildOf(const TraceContext& parent) {
  return {parent.trace_id, RandomHex(16), parent.flags};
}

TraceContext ContinueOrStart(absl::string_view traceparent) {
  std::optional<TraceContext> parent = Parse(traceparent);
  return parent ? ChildOf(*parent) : StartTrace();
}

}  // namespace giftcard::trace

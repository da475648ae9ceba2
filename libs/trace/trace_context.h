// W3C Trace Context (https://www.w3.org/TR/trace-context/): the
// `traceparent` a caller sends with a call, so one redemption is followed
// across the gateway's, code-vault's and account-credit's logs by its trace
// id. This suite only carries and logs it; it exports no spans.
#ifndef GIFTCARD_LIBS_TRACE_TRACE_CONTEXT_H_
#define GIFTCARD_LIBS_TRACE_TRACE_CONTEXT_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace giftcard::trace {

// The header (HTTP) and metadata key (gRPC) that carry it.
inline constexpr char kTraceparent[] = "traceparent";

struct TraceContext {
  std::string trace_id;  // 32 lowercase hex digits, not all zero.
  std::string span_id;   // 16 lowercase hex digits, not all zero: the caller's span.
  std::string flags;     // 2 hex digits; bit 0 is "sampled".

  // "00-<trace_id>-<span_id>-<flags>".
  std::string Traceparent() const;
};

// The context a `traceparent` value carries; nullopt when it is malformed
// (the W3C rules: version 00 is exactly 55 characters, lowercase hex, ids
// not all zero; version ff is invalid; a later version is read by its
// first four fields).
std::optional<TraceContext> Parse(absl::string_view traceparent);

// A new trace, for a call that arrived without one.
TraceContext StartTrace();

// This service's span within `parent`'s trace: the same trace id and flags,
// a new span id. What it sends to the services it calls.
TraceContext ChildOf(const TraceContext& parent);

// The context of a call that brought `traceparent` (possibly empty or
// malformed): its child when valid, else a new trace.
TraceContext ContinueOrStart(absl::string_view traceparent);

}  // namespace giftcard::trace

#endif  // GIFTCARD_LIBS_TRACE_TRACE_CONTEXT_H_

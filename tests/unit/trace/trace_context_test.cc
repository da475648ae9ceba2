// W3C traceparent: what is accepted, what is refused, and that a call
// continues its caller's trace with a span of its own.
#include "trace/trace_context.h"

#include <gtest/gtest.h>

namespace giftcard::trace {
namespace {

constexpr char kValid[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceContextTest, ReadsTheW3CExample) {
  std::optional<TraceContext> c = Parse(kValid);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(c->span_id, "00f067aa0ba902b7");
  EXPECT_EQ(c->flags, "01");
  EXPECT_EQ(c->Traceparent(), kValid);
}

TEST(TraceContextTest, RefusesWhatTheSpecificationRefuses) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",        // No flags.
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",     // Uppercase.
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",     // Zero trace id.
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",     // Zero span id.
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",     // Version ff.
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xx",  // 00 has no more.
           "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",     // Separators.
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",     // Not hex.
           "1234-5678-9012-3456",                                         // A PIN, typed here.
       }) {
    EXPECT_FALSE(Parse(bad).has_value()) << bad;
  }
}

TEST(TraceContextTest, ALaterVersionIsReadByItsFirstFields) {
  std::optional<TraceContext> c =
      Parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more");
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_FALSE(Parse("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01more").has_value());
}

TEST(TraceContextTest, ACallContinuesItsCallersTraceWithASpanOfItsOwn) {
  const TraceContext child = ContinueOrStart(kValid);
  EXPECT_EQ(child.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(child.flags, "01");
  EXPECT_NE(child.span_id, "00f067aa0ba902b7");
  ASSERT_TRUE(Parse(child.Traceparent()).has_value()) << child.Traceparent();
}

TEST(TraceContextTest, ACallWithoutOneOrWithAMalformedOneStartsAFreshTrace) {
  const TraceContext a = ContinueOrStart("");
  const TraceContext b = ContinueOrStart("garbage");
  ASSERT_TRUE(Parse(a.Traceparent()).has_value()) << a.Traceparent();
  ASSERT_TRUE(Parse(b.Traceparent()).has_value()) << b.Traceparent();
  EXPECT_NE(a.trace_id, b.trace_id);
  EXPECT_EQ(a.trace_id.size(), 32u);
  EXPECT_EQ(a.span_id.size(), 16u);
}

}  // namespace
}  // namespace giftcard::trace

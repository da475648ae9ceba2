// server: the bound on the calls an engine holds at once.
#include "server/engine_calls.h"

#include <gtest/gtest.h>

#include "errors/grpc_status.h"
#include "errors/status.h"

namespace giftcard::server {
namespace {

TEST(EngineCallsTest, PastTheBoundACallIsRefusedWithARetryDelayAndNotCounted) {
  std::atomic<int> in_flight{0};
  EXPECT_TRUE(EnterEngine(in_flight, 2, absl::Milliseconds(200), "RedeemCode").ok());
  EXPECT_TRUE(EnterEngine(in_flight, 2, absl::Milliseconds(200), "RedeemCode").ok());
  const grpc::Status full = EnterEngine(in_flight, 2, absl::Milliseconds(200), "RedeemCode");
  EXPECT_EQ(full.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  const absl::Status as_absl = errors::FromGrpcStatus(full);
  EXPECT_EQ(errors::ReasonOf(as_absl), "OVERLOADED");
  EXPECT_EQ(errors::RetryDelayOf(as_absl), absl::Milliseconds(200));
  EXPECT_EQ(in_flight.load(), 2);
  in_flight.fetch_sub(1);  // A call answered: room for one more.
  EXPECT_TRUE(EnterEngine(in_flight, 2, absl::Milliseconds(200), "RedeemCode").ok());
  EXPECT_EQ(in_flight.load(), 2);
}

}  // namespace
}  // namespace giftcard::server

#include <gtest/gtest.h>

#include "errors/grpc_status.h"
#include "errors/status.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace giftcard::errors {
namespace {

TEST(ErrorsTest, ErrorInfoTravelsThroughGrpcAndBack) {
  absl::Status original = Error(absl::StatusCode::kFailedPrecondition, reason::kRegionMismatch,
                                "wrong country", {{"code_region", "DE"}});
  grpc::Status wire = ToGrpcStatus(original);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(wire.error_message(), "wrong country");

  // What any gRPC client sees: a google.rpc.Status with an ErrorInfo.
  google::rpc::Status rpc;
  ASSERT_TRUE(rpc.ParseFromString(wire.error_details()));
  ASSERT_EQ(rpc.details_size(), 1);
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(rpc.details(0).UnpackTo(&info));
  EXPECT_EQ(info.reason(), "REGION_MISMATCH");
  EXPECT_EQ(info.domain(), "giftcard.v1");
  EXPECT_EQ(info.metadata().at("code_region"), "DE");

  absl::Status back = FromGrpcStatus(wire);
  EXPECT_EQ(back.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(back), "REGION_MISMATCH");
  EXPECT_EQ(MetadataOf(back, "code_region"), "DE");
  EXPECT_TRUE(Is(back, absl::StatusCode::kFailedPrecondition, reason::kRegionMismatch));
}

TEST(ErrorsTest, FieldViolationsAndRetryInfoSurvive) {
  absl::Status s = WithRetryDelay(InvalidField("amount.amount_minor", "must be positive"),
                                  absl::Milliseconds(1500));
  absl::Status back = FromGrpcStatus(ToGrpcStatus(s));
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReasonOf(back), "INVALID_FIELD");
  auto violations = FieldViolationsOf(back);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].first, "amount.amount_minor");
  EXPECT_EQ(violations[0].second, "must be positive");
  EXPECT_EQ(RetryDelayOf(back), absl::Milliseconds(1500));
}

TEST(ErrorsTest, PlainStatusesMapByCodeAlone) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  grpc::Status wire = ToGrpcStatus(absl::UnavailableError("down"));
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(wire)), "");
  // A peer's status without details (a transport failure) has no reason.
  EXPECT_EQ(ReasonOf(FromGrpcStatus(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "late"))),
            "");
}

TEST(ErrorsTest, OnlyARecordedDecisionEndsASagaAsRefused) {
  const absl::Status region =
      Error(absl::StatusCode::kFailedPrecondition, reason::kRegionMismatch, "not here");
  // A refusal the peer did not say it recorded is an unknown outcome, as are
  // auth and validation errors answered before any lookup.
  EXPECT_FALSE(IsRecordedDecision(region));
  EXPECT_FALSE(IsRecordedDecision(absl::NotFoundError("no account")));
  EXPECT_FALSE(
      IsRecordedDecision(Error(absl::StatusCode::kUnauthenticated, reason::kCallerUnknown, "who")));
  EXPECT_FALSE(IsRecordedDecision(
      Error(absl::StatusCode::kPermissionDenied, reason::kMethodNotAllowed, "no")));
  EXPECT_FALSE(IsRecordedDecision(InvalidField("account_id", "is required")));
  EXPECT_FALSE(IsRecordedDecision(DependencyUnavailable("account-credit", "deadline")));
  EXPECT_FALSE(IsRecordedDecision(absl::OkStatus()));
  // Marked, it survives the wire and keeps its code, reason and metadata.
  const absl::Status recorded =
      MarkRecordedDecision(Error(absl::StatusCode::kFailedPrecondition, reason::kRegionMismatch,
                                 "not here", {{"code_region", "DE"}}));
  EXPECT_TRUE(IsRecordedDecision(recorded));
  const absl::Status back = FromGrpcStatus(ToGrpcStatus(recorded));
  EXPECT_TRUE(IsRecordedDecision(back));
  EXPECT_TRUE(Is(back, absl::StatusCode::kFailedPrecondition, reason::kRegionMismatch));
  EXPECT_EQ(MetadataOf(back, "code_region"), "DE");
}

TEST(ErrorsTest, APeerFailureWithoutDetailsIsDependencyUnavailable) {
  const absl::Status late = PeerError(
      FromGrpcStatus(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "late")), "account-credit");
  EXPECT_TRUE(Is(late, absl::StatusCode::kUnavailable, reason::kDependencyUnavailable));
  EXPECT_EQ(MetadataOf(late, "dependency"), "account-credit");
  const absl::Status refused =
      PeerError(Error(absl::StatusCode::kNotFound, reason::kAccountNotFound, "no"), "x");
  EXPECT_TRUE(Is(refused, absl::StatusCode::kNotFound, reason::kAccountNotFound));
}

}  // namespace
}  // namespace giftcard::errors

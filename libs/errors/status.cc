#include "errors/status.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"

namespace giftcard::errors {
namespace {

std::optional<google::rpc::ErrorInfo> ErrorInfoOf(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorInfoTypeUrl);
  if (!payload) return std::nullopt;
  google::rpc::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) return std::nullopt;
  return info;
}

}  // namespace

absl::Status Error(absl::StatusCode code, absl::string_view reason, absl::string_view message,
                   const Metadata& metadata) {
  absl::Status status(code, message);
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(kDomain));
  for (const auto& [key, value] : metadata) (*info.mutable_metadata())[key] = value;
  status.SetPayload(kErrorInfoTypeUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

absl::Status InvalidField(absl::string_view field, absl::string_view description) {
  absl::Status status =
      Error(absl::StatusCode::kInvalidArgument, reason::kInvalidField,
            std::string(field) + ": " + std::string(description), {{"field", std::string(field)}});
  google::rpc::BadRequest bad_request;
  auto* violation = bad_request.add_field_violations();
  violation->set_field(std::string(field));
  violation->set_description(std::string(description));
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(bad_request.SerializeAsString()));
  return status;
}

absl::Status DependencyUnavailable(absl::string_view dependency, absl::string_view message) {
  return Error(absl::StatusCode::kUnavailable, reason::kDependencyUnavailable,
               std::string(dependency) + " unavailable: " + std::string(message),
               {{"dependency", std::string(dependency)}});
}

absl::Status WithRetryDelay(absl::Status status, absl::Duration delay) {
  google::rpc::RetryInfo retry;
  const int64_t nanos = absl::ToInt64Nanoseconds(delay);
  retry.mutable_retry_delay()->set_seconds(nanos / 1000000000);
  retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(nanos % 1000000000));
  status.SetPayload(kRetryInfoTypeUrl, absl::Cord(retry.SerializeAsString()));
  return status;
}

std::string ReasonOf(const absl::Status& status) {
  auto info = ErrorInfoOf(status);
  return info ? info->reason() : std::string();
}

std::optional<std::string> MetadataOf(const absl::Status& status, absl::string_view key) {
  auto info = ErrorInfoOf(status);
  if (!info) return std::nullopt;
  auto it = info->metadata().find(std::string(key));
  if (it == info->metadata().end()) return std::nullopt;
  return it->second;
}

Metadata MetadataOf(const absl::Status& status) {
  Metadata out;
  auto info = ErrorInfoOf(status);
  if (!info) return out;
  for (const auto& [key, value] : info->metadata()) out.emplace_back(key, value);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::pair<std::string, std::string>> FieldViolationsOf(const absl::Status& status) {
  std::vector<std::pair<std::string, std::string>> out;
  auto payload = status.GetPayload(kBadRequestTypeUrl);
  if (!payload) return out;
  google::rpc::BadRequest bad_request;
  if (!bad_request.ParseFromString(std::string(*payload))) return out;
  for (const auto& v : bad_request.field_violations()) out.emplace_back(v.field(), v.description());
  return out;
}

std::optional<absl::Duration> RetryDelayOf(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryInfoTypeUrl);
  if (!payload) return std::nullopt;
  google::rpc::RetryInfo retry;
  if (!retry.ParseFromString(std::string(*payload))) return std::nullopt;
  return absl::Seconds(retry.retry_delay().seconds()) +
         absl::Nanoseconds(retry.retry_delay().nanos());
}

std::string Describe(const absl::Status& status) {
  if (status.ok()) return "OK";
  const std::string reason = ReasonOf(status);
  return absl::StrCat(absl::StatusCodeToString(status.code()), reason.empty() ? "" : " ", reason,
                      ": ", status.message());
}

bool Is(const absl::Status& status, absl::StatusCode code, absl::string_view reason) {
  return status.code() == code && ReasonOf(status) == reason;
}

namespace {
constexpr absl::string_view kDecisionKey = "decision";
constexpr absl::string_view kRecorded = "recorded";
}  // namespace

absl::Status MarkRecordedDecision(absl::Status refusal) {
  if (refusal.ok()) return refusal;
  google::rpc::ErrorInfo info = ErrorInfoOf(refusal).value_or(google::rpc::ErrorInfo());
  if (info.domain().empty()) info.set_domain(std::string(kDomain));
  (*info.mutable_metadata())[std::string(kDecisionKey)] = std::string(kRecorded);
  refusal.SetPayload(kErrorInfoTypeUrl, absl::Cord(info.SerializeAsString()));
  return refusal;
}

bool IsRecordedDecision(const absl::Status& status) {
  if (status.ok()) return false;
  return MetadataOf(status, kDecisionKey) == std::string(kRecorded);
}

absl::Status PeerError(absl::Status peer_status, absl::string_view peer) {
  if (peer_status.ok() || !ReasonOf(peer_status).empty()) return peer_status;
  return DependencyUnavailable(peer, peer_status.message());
}

}  // namespace giftcard::errors

// Errors as values: an absl::Status whose payloads carry the google.rpc error
// details (ErrorInfo with an UPPER_SNAKE reason, BadRequest, RetryInfo).
// Domain code builds errors here without knowing gRPC; errors/grpc_status.h
// turns them into a grpc::Status at the API edge.
#ifndef GIFTCARD_LIBS_ERRORS_STATUS_H_
#define GIFTCARD_LIBS_ERRORS_STATUS_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace giftcard::errors {

// google.rpc.ErrorInfo.domain of every error of this suite.
inline constexpr absl::string_view kDomain = "giftcard.v1";

// ErrorInfo reasons (DESIGN.md, "Errors").
namespace reason {
inline constexpr absl::string_view kCodeMalformed = "CODE_MALFORMED";
inline constexpr absl::string_view kCodeMistyped = "CODE_MISTYPED";
inline constexpr absl::string_view kRequestIdReused = "REQUEST_ID_REUSED";
inline constexpr absl::string_view kInvalidField = "INVALID_FIELD";
inline constexpr absl::string_view kCodeInvalid = "CODE_INVALID";
inline constexpr absl::string_view kCodeAlreadyRedeemed = "CODE_ALREADY_REDEEMED";
inline constexpr absl::string_view kRegionMismatch = "REGION_MISMATCH";
inline constexpr absl::string_view kCurrencyMismatch = "CURRENCY_MISMATCH";
inline constexpr absl::string_view kThirdPartyBilling = "THIRD_PARTY_BILLING";
inline constexpr absl::string_view kInsufficientCredit = "INSUFFICIENT_CREDIT";
inline constexpr absl::string_view kAccountNotFound = "ACCOUNT_NOT_FOUND";
inline constexpr absl::string_view kInvoiceNotFound = "INVOICE_NOT_FOUND";
inline constexpr absl::string_view kTooManyAttempts = "TOO_MANY_ATTEMPTS";
inline constexpr absl::string_view kRedemptionInProgress = "REDEMPTION_IN_PROGRESS";
inline constexpr absl::string_view kDependencyUnavailable = "DEPENDENCY_UNAVAILABLE";
inline constexpr absl::string_view kCallerUnknown = "CALLER_UNKNOWN";
inline constexpr absl::string_view kMethodNotAllowed = "METHOD_NOT_ALLOWED";
inline constexpr absl::string_view kConflict = "CONFLICT";
inline constexpr absl::string_view kInternal = "INTERNAL";
inline constexpr absl::string_view kCurrencyLocked = "CURRENCY_LOCKED";
// Beyond DESIGN.md's table (docs/decisions.md, "Errors").
inline constexpr absl::string_view kCodeNotFound = "CODE_NOT_FOUND";
inline constexpr absl::string_view kBatchNotFound = "BATCH_NOT_FOUND";
inline constexpr absl::string_view kCodeVoided = "CODE_VOIDED";    // Admin: cannot be activated.
inline constexpr absl::string_view kCodeExpired = "CODE_EXPIRED";  // Admin: cannot be activated.
inline constexpr absl::string_view kCodeBlocked = "CODE_BLOCKED";  // Admin: unblock first.
inline constexpr absl::string_view kTransferNotFound = "TRANSFER_NOT_FOUND";
inline constexpr absl::string_view kAccountClosed = "ACCOUNT_CLOSED";
inline constexpr absl::string_view kCannotReverseReversal = "CANNOT_REVERSE_REVERSAL";
inline constexpr absl::string_view kAlreadyReversed = "ALREADY_REVERSED";
inline constexpr absl::string_view kBalanceLimit = "BALANCE_LIMIT";
inline constexpr absl::string_view kNotACredit = "NOT_A_CREDIT";   // Only credit is clawed back.
inline constexpr absl::string_view kNotRedeemed = "NOT_REDEEMED";  // No redemption to claw back.
inline constexpr absl::string_view kAlreadyClawedBack = "ALREADY_CLAWED_BACK";
inline constexpr absl::string_view kCodeClawedBack = "CODE_CLAWED_BACK";  // Held for good.
inline constexpr absl::string_view kRedemptionNotFound = "REDEMPTION_NOT_FOUND";
// INVALID_ARGUMENT: the request bytes are not the method's message.
inline constexpr absl::string_view kRequestMalformed = "REQUEST_MALFORMED";
// RESOURCE_EXHAUSTED with a RetryInfo: admission control refused the call.
inline constexpr absl::string_view kOverloaded = "OVERLOADED";
// OUT_OF_RANGE: WatchEvents resumed after an event that was pruned since.
inline constexpr absl::string_view kEventsPruned = "EVENTS_PRUNED";
// FAILED_PRECONDITION: WatchEvents resumed under a stream epoch the service
// no longer has: its database was restored to an earlier point.
inline constexpr absl::string_view kEventStreamRestored = "EVENT_STREAM_RESTORED";
// The HTTP gateway's own: no route has the path (404) or not this HTTP
// method (405); the body is over the gateway's limit (413).
inline constexpr absl::string_view kRouteNotFound = "ROUTE_NOT_FOUND";
inline constexpr absl::string_view kRequestTooLarge = "REQUEST_TOO_LARGE";
}  // namespace reason

// Dynamic parts of an error, as ErrorInfo.metadata.
using Metadata = std::vector<std::pair<std::string, std::string>>;

// An error with an ErrorInfo. `message` is for humans and must never hold a
// secret (a PIN); put identifiers a caller needs in `metadata`.
absl::Status Error(absl::StatusCode code, absl::string_view reason, absl::string_view message,
                   const Metadata& metadata = {});

// INVALID_ARGUMENT / INVALID_FIELD with a BadRequest naming `field`.
absl::Status InvalidField(absl::string_view field, absl::string_view description);

// UNAVAILABLE / DEPENDENCY_UNAVAILABLE: `dependency` ("postgres", "redis",
// "account-credit") could not be reached; safe to retry with the same request_id.
absl::Status DependencyUnavailable(absl::string_view dependency, absl::string_view message);

// Returns `status` with a RetryInfo telling the caller when to come back.
absl::Status WithRetryDelay(absl::Status status, absl::Duration delay);

// The ErrorInfo reason, or "" when the status has none (or is OK).
std::string ReasonOf(const absl::Status& status);

// An ErrorInfo metadata value, if present.
std::optional<std::string> MetadataOf(const absl::Status& status, absl::string_view key);

// Every ErrorInfo metadata entry, sorted by key.
Metadata MetadataOf(const absl::Status& status);

// The BadRequest field violations: (field, description) pairs.
std::vector<std::pair<std::string, std::string>> FieldViolationsOf(const absl::Status& status);

// The RetryInfo delay, if present.
std::optional<absl::Duration> RetryDelayOf(const absl::Status& status);

// A refusal the peer stored as its request id's final answer: every replay
// of that request id gets it again, so a saga may end on it. Only
// account-credit's recorded refusals carry the mark (ErrorInfo metadata
// `decision: recorded`).
absl::Status MarkRecordedDecision(absl::Status refusal);

// Whether `status` ends a saga step as refused (DESIGN.md, "Refusals and
// unknown outcomes"): only a refusal the peer recorded under the request id.
// Everything else — UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT from
// a check that ran before the lookup, deadlines, UNAVAILABLE, an error
// without details — says nothing about whether the step happened: the step
// stays pending and is retried with the same request id.
bool IsRecordedDecision(const absl::Status& status);

// A peer's failure as the domain should see it: its own error when it
// carries an ErrorInfo, else (a transport failure: deadline, connection
// refused, a reset) DEPENDENCY_UNAVAILABLE naming `peer`.
absl::Status PeerError(absl::Status peer_status, absl::string_view peer);

// "UNAVAILABLE DEPENDENCY_UNAVAILABLE: message" for logs and tools (the
// payload bytes absl::Status::ToString would print are left out).
std::string Describe(const absl::Status& status);

// True when `status` has the given code and reason.
bool Is(const absl::Status& status, absl::StatusCode code, absl::string_view reason);

// Type URLs under which the details are stored as absl::Status payloads.
inline constexpr absl::string_view kErrorInfoTypeUrl = "type.googleapis.com/google.rpc.ErrorInfo";
inline constexpr absl::string_view kBadRequestTypeUrl = "type.googleapis.com/google.rpc.BadRequest";
inline constexpr absl::string_view kRetryInfoTypeUrl = "type.googleapis.com/google.rpc.RetryInfo";

}  // namespace giftcard::errors

#endif  // GIFTCARD_LIBS_ERRORS_STATUS_H_

// HTTP/JSON ⇄ protobuf for one route: the request message from path
// variables, query parameters and the JSON body; JSON from a response
// message; and the HTTP answer to a failed call, a JSON google.rpc.Status as
// AIP-193 shows it. Protobuf's own JSON mapping with proto field names does
// the conversions; nothing here knows gRPC's transport or HTTP's server.
#ifndef GIFTCARD_SERVICES_GATEWAY_TRANSCODING_TRANSCODER_H_
#define GIFTCARD_SERVICES_GATEWAY_TRANSCODING_TRANSCODER_H_

#include <google/protobuf/message.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "services/gateway/transcoding/route_table.h"

namespace giftcard::gateway {

// The JSON options the gateway and deploy/envoy's transcoder both use:
// proto field names, and fields at their default value printed (a caller
// reads `"redeemable": false`, not a missing key).
std::string MessageToJson(const google::protobuf::Message& message);

// Fills `request` (of route.method's input type) from the route's path
// variables, the query parameters and the body, as AIP-127 maps them:
// body "*" is the whole message and then no query parameter is allowed;
// body "<field>" fills that field; the rest come from the query
// ("?page_size=10&types=a&types=b", nested fields dotted). A path variable
// wins over nothing: the same field with another value in the body is an
// error. INVALID_ARGUMENT naming the field and why, and `*field` set to the
// field's path when one is to blame.
absl::Status BuildRequest(const Route& route, const PathTemplate::Bindings& bindings,
                          const std::multimap<std::string, std::string>& query,
                          const std::string& body, google::protobuf::Message* request,
                          std::string* field);

// Why an Authorization header is refused before anything is forwarded: gRPC
// metadata carries printable ASCII only (gRPC 1.51 aborts the process on
// anything else, and logs the value), and a token longer than any we issue
// is no token. "" when it may be forwarded.
std::string ForwardableHeaderProblem(absl::string_view value);

// An HTTP answer to a failed call.
struct HttpError {
  int http_status = 500;
  std::string json;  // {"error": {"code", "message", "status", "details"}}
  std::vector<std::pair<std::string, std::string>> headers;  // Retry-After, WWW-Authenticate.
  // ErrorFromStatus: the upstream's message was gRPC's own (no ErrorInfo:
  // a transport failure) and was replaced; the caller logs the original.
  bool transport_message_dropped = false;
};

// The HTTP status for a canonical code (google/rpc/code.proto's table).
int HttpStatusOf(absl::StatusCode code);

// From a failed upstream call: its code, message and the serialized
// google.rpc.Status of its details (empty if none). An error without an
// ErrorInfo did not come from our services but from gRPC itself (a refused
// connection, a deadline): it gets DEPENDENCY_UNAVAILABLE for UNAVAILABLE
// and DEADLINE_EXCEEDED, INTERNAL otherwise, and a message of ours, never
// the transport's (addresses, ports, resolver errors).
HttpError ErrorFromStatus(absl::StatusCode code, const std::string& message,
                          const std::string& status_details);

// An error the gateway itself answers: `reason` from libs/errors' list,
// `field` (if any) as a BadRequest field violation. `http_status` 0: the
// code's own.
HttpError GatewayError(absl::StatusCode code, absl::string_view reason, const std::string& message,
                       const std::string& field = "", int http_status = 0);

}  // namespace giftcard::gateway

#endif  // GIFTCARD_SERVICES_GATEWAY_TRANSCODING_TRANSCODER_H_

// An OpenAPI 3.0 document of the HTTP/JSON API, made from the same
// `google.api.http` annotations the gateway routes by (RouteTable) and the
// protos' doc comments: paths, parameters, bodies and a schema per message
// in the JSON the gateway speaks (proto field names, 64-bit integers as
// strings, enums by name, Timestamps as RFC 3339).
#ifndef GIFTCARD_SERVICES_GATEWAY_OPENAPI_OPENAPI_H_
#define GIFTCARD_SERVICES_GATEWAY_OPENAPI_OPENAPI_H_

#include <string>

#include "absl/status/statusor.h"
#include "services/gateway/transcoding/route_table.h"

namespace giftcard::gateway {

// A route's path as the document names it: "/v1/accounts/{account_id}" for
// "/v1/accounts/{account.account_id}" (variables by their last field name,
// without patterns).
std::string OpenApiPath(const std::string& template_text);

// The document as JSON text (keys sorted, so the same protos give the same bytes).
absl::StatusOr<std::string> OpenApiDocument(const RouteTable& routes);

}  // namespace giftcard::gateway

#endif  // GIFTCARD_SERVICES_GATEWAY_OPENAPI_OPENAPI_H_

// The HTTP routes of the API, read from the `google.api.http` annotations of
// the services' method descriptors (AIP-127): path templates with variables
// bound to request fields, custom verbs (`:redeem`), and which part of the
// request the body carries. No handwritten route: a new annotated RPC is a
// new route.
#ifndef GIFTCARD_SERVICES_GATEWAY_TRANSCODING_ROUTE_TABLE_H_
#define GIFTCARD_SERVICES_GATEWAY_TRANSCODING_ROUTE_TABLE_H_

#include <google/protobuf/descriptor.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace giftcard::gateway {

// A path template of AIP-127's grammar: "/v1/codes/{serial}",
// "/v1/{name=accounts/*}/entries", "/v1/codes:redeem". A variable is a
// request field path; its pattern is `*` (one segment) unless given, and may
// end in `**` (the rest of the path).
class PathTemplate {
 public:
  static absl::StatusOr<PathTemplate> Parse(absl::string_view text);

  // (field path, value) per variable, percent-decoded. `raw_path` is the
  // path as it came, not decoded: it is split at '/' first and each segment
  // decoded after, so "%2F" is data inside a segment, never a separator.
  using Bindings = std::vector<std::pair<std::string, std::string>>;
  bool Match(absl::string_view raw_path, Bindings* bindings) const;

  const std::string& text() const { return text_; }
  const std::string& verb() const { return verb_; }
  // Field paths of the variables, in order.
  std::vector<std::string> VariableFields() const;

 private:
  struct Segment {
    enum Kind { kLiteral, kAny, kRest } kind;
    std::string literal;
  };
  struct Variable {
    std::string field_path;
    size_t first_segment;
    size_t end_segment;  // One past the last; for a `**` variable, the end.
  };
  std::string text_;
  std::vector<Segment> segments_;
  std::vector<Variable> variables_;
  std::string verb_;
};

// One HTTP binding of one RPC.
struct Route {
  std::string http_method;  // "GET", "POST", "PUT", "PATCH", "DELETE".
  PathTemplate path;
  // "" (no body: fields come from the path and the query), "*" (the body is
  // the request message) or the name of the request field the body fills.
  std::string body;
  const google::protobuf::MethodDescriptor* method = nullptr;
  // "POST /v1/codes:redeem": what logs and metrics name, never the
  // concrete path (a PIN typed into a serial's place must not be logged).
  std::string name() const { return http_method + " " + path.text(); }
  // "/giftcard.v1.CodeVault/RedeemCode".
  std::string grpc_method() const;
  bool server_streaming() const { return method->server_streaming(); }
};

// The giftcard.v1 services linked into this binary (CodeVault,
// AccountCredit, Billing), from their generated descriptors.
std::vector<const google::protobuf::ServiceDescriptor*> LinkedApiServices();

class RouteTable {
 public:
  // Every binding (and additional binding) of every method of `services`
  // that has a `google.api.http` option. Fails on a malformed template, a
  // body or variable naming no field, or two routes with the same method and
  // template.
  static absl::StatusOr<RouteTable> FromServices(
      const std::vector<const google::protobuf::ServiceDescriptor*>& services);

  // The route for a request (its path raw, not decoded), its variables
  // bound; nullptr when none matches.
  // Then `other_methods` lists the HTTP methods the path has routes for (405
  // rather than 404).
  const Route* Find(absl::string_view http_method, absl::string_view raw_path,
                    PathTemplate::Bindings* bindings,
                    std::vector<std::string>* other_methods) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace giftcard::gateway

#endif  // GIFTCARD_SERVICES_GATEWAY_TRANSCODING_ROUTE_TABLE_H_

#include "services/gateway/transcoding/route_table.h"

#include <google/protobuf/descriptor.pb.h>

#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "http/url.h"
#include "giftcard/v1/account_credit.pb.h"
#include "giftcard/v1/billing.pb.h"
#include "giftcard/v1/code_vault.pb.h"
#include "google/api/annotations.pb.h"
#include "google/api/http.pb.h"

namespace giftcard::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

absl::Status Malformed(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("path template \"", text, "\": ", why));
}

// The field a dotted path names in `message`, or nullptr.
const FieldDescriptor* FieldAt(const Descriptor* message, absl::string_view path) {
  const FieldDescriptor* field = nullptr;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (message == nullptr) return nullptr;
    field = message->FindFieldByName(std::string(part));
    if (field == nullptr) return nullptr;
    message = field->message_type();
  }
  return field;
}

}  // namespace

absl::StatusOr<PathTemplate> PathTemplate::Parse(absl::string_view text) {
  PathTemplate t;
  t.text_ = std::string(text);
  if (text.empty() || text[0] != '/') return Malformed(text, "must start with '/'");
  absl::string_view rest = text.substr(1);
  // The verb follows the last ':' outside a variable and after the last '/'.
  const size_t last_brace = rest.rfind('}');
  const size_t last_slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != absl::string_view::npos &&
      (last_brace == absl::string_view::npos || colon > last_brace) &&
      (last_slash == absl::string_view::npos || colon > last_slash)) {
    t.verb_ = std::string(rest.substr(colon + 1));
    if (t.verb_.empty()) return Malformed(text, "empty verb");
    rest = rest.substr(0, colon);
  }
  auto add_segment = [&](absl::string_view s) -> absl::Status {
    if (s.empty()) return Malformed(text, "empty segment");
    if (s == "*") {
      t.segments_.push_back({Segment::kAny, ""});
    } else if (s == "**") {
      t.segments_.push_back({Segment::kRest, ""});
    } else {
      if (s.find_first_of("{}=*:") != absl::string_view::npos) {
        return Malformed(text, absl::StrCat("bad literal \"", s, "\""));
      }
      t.segments_.push_back({Segment::kLiteral, std::string(s)});
    }
    return absl::OkStatus();
  };
  size_t i = 0;
  while (i <= rest.size()) {
    if (i < rest.size() && rest[i] == '{') {
      const size_t close = rest.find('}', i);
      if (close == absl::string_view::npos) return Malformed(text, "unclosed '{'");
      absl::string_view inside = rest.substr(i + 1, close - i - 1);
      absl::string_view field = inside;
      absl::string_view pattern = "*";
      if (const size_t eq = inside.find('='); eq != absl::string_view::npos) {
        field = inside.substr(0, eq);
        pattern = inside.substr(eq + 1);
      }
      if (field.empty()) return Malformed(text, "variable without a field");
      Variable v{std::string(field), t.segments_.size(), 0};
      for (absl::string_view s : absl::StrSplit(pattern, '/')) {
        if (absl::Status st = add_segment(s); !st.ok()) return st;
      }
      v.end_segment = t.segments_.size();
      t.variables_.push_back(std::move(v));
      i = close + 1;
    } else {
      size_t end = rest.find('/', i);
      if (end == absl::string_view::npos) end = rest.size();
      if (absl::Status st = add_segment(rest.substr(i, end - i)); !st.ok()) return st;
      i = end;
    }
    if (i == rest.size()) break;
    if (rest[i] != '/') return Malformed(text, "a variable must end its segment");
    ++i;
  }
  for (size_t s = 0; s + 1 < t.segments_.size(); ++s) {
    if (t.segments_[s].kind == Segment::kRest) return Malformed(text, "'**' must come last");
  }
  return t;
}

std::vector<std::string> PathTemplate::VariableFields() const {
  std::vector<std::string> out;
  for (const Variable& v : variables_) out.push_back(v.field_path);
  return out;
}

bool PathTemplate::Match(absl::string_view raw_path, Bindings* bindings) const {
  if (raw_path.empty() || raw_path[0] != '/') return false;
  raw_path.remove_prefix(1);
  if (!verb_.empty()) {
    // On the raw path: an encoded ':' (%3A) is data, never the verb's mark.
    const std::string suffix = absl::StrCat(":", verb_);
    if (raw_path.size() <= suffix.size() ||
        raw_path.substr(raw_path.size() - suffix.size()) != suffix) {
      return false;
    }
    raw_path.remove_suffix(suffix.size());
  }
  // Split at '/' first, then decode each segment (AIP-127): an encoded
  // slash (%2F) inside a segment is data and never starts another segment.
  std::vector<std::string> parts;
  for (absl::string_view raw : absl::StrSplit(raw_path, '/')) {
    parts.push_back(http::PercentDecode(raw));
  }
  const bool rest = !segments_.empty() && segments_.back().kind == Segment::kRest;
  if (rest ? parts.size() < segments_.size() : parts.size() != segments_.size()) return false;
  for (size_t s = 0; s < parts.size(); ++s) {
    if (parts[s].empty()) return false;
    if (s < segments_.size() && segments_[s].kind == Segment::kLiteral &&
        parts[s] != segments_[s].literal) {
      return false;
    }
  }
  bindings->clear();
  for (const Variable& v : variables_) {
    const size_t end = v.end_segment == segments_.size() && rest ? parts.size() : v.end_segment;
    std::vector<std::string> value(parts.begin() + v.first_segment, parts.begin() + end);
    bindings->emplace_back(v.field_path, absl::StrJoin(value, "/"));
  }
  return true;
}

std::vector<const google::protobuf::ServiceDescriptor*> LinkedApiServices() {
  // Naming a message of each file links its generated code, and so its
  // descriptors, into the binary.
  return {v1::RedeemCodeRequest::descriptor()->file()->FindServiceByName("CodeVault"),
          v1::GetAccountRequest::descriptor()->file()->FindServiceByName("AccountCredit"),
          v1::ApplyCreditRequest::descriptor()->file()->FindServiceByName("Billing")};
}

std::string Route::grpc_method() const {
  return absl::StrCat("/", method->service()->full_name(), "/", method->name());
}

absl::StatusOr<RouteTable> RouteTable::FromServices(
    const std::vector<const google::protobuf::ServiceDescriptor*>& services) {
  RouteTable table;
  std::set<std::string> seen;
  for (const google::protobuf::ServiceDescriptor* service : services) {
    for (int m = 0; m < service->method_count(); ++m) {
      const google::protobuf::MethodDescriptor* method = service->method(m);
      // Re-parsed into the generated options type, so the annotation reads
      // the same from the binary's own descriptors and from a pool built
      // out of a descriptor set (the OpenAPI generator's).
      google::protobuf::MethodOptions options;
      if (!options.ParseFromString(method->options().SerializeAsString()) ||
          !options.HasExtension(google::api::http)) {
        continue;
      }
      const google::api::HttpRule& top = options.GetExtension(google::api::http);
      std::vector<const google::api::HttpRule*> rules = {&top};
      for (const google::api::HttpRule& extra : top.additional_bindings()) rules.push_back(&extra);
      for (const google::api::HttpRule* rule : rules) {
        Route route;
        route.method = method;
        route.body = rule->body();
        std::string pattern;
        switch (rule->pattern_case()) {
          case google::api::HttpRule::kGet:
            route.http_method = "GET", pattern = rule->get();
            break;
          case google::api::HttpRule::kPost:
            route.http_method = "POST", pattern = rule->post();
            break;
          case google::api::HttpRule::kPut:
            route.http_method = "PUT", pattern = rule->put();
            break;
          case google::api::HttpRule::kPatch:
            route.http_method = "PATCH", pattern = rule->patch();
            break;
          case google::api::HttpRule::kDelete:
            route.http_method = "DELETE", pattern = rule->delete_();
            break;
          default:
            return absl::InvalidArgumentError(
                absl::StrCat(method->full_name(), ": an http rule without a standard method"));
        }
        absl::StatusOr<PathTemplate> path = PathTemplate::Parse(pattern);
        if (!path.ok()) return path.status();
        route.path = *std::move(path);
        const Descriptor* input = method->input_type();
        for (const std::string& field : route.path.VariableFields()) {
          const FieldDescriptor* f = FieldAt(input, field);
          if (f == nullptr || f->is_repeated() || f->message_type() != nullptr) {
            return absl::InvalidArgumentError(absl::StrCat(
                method->full_name(), ": path variable ", field, " is not a singular scalar field"));
          }
        }
        if (!route.body.empty() && route.body != "*" && FieldAt(input, route.body) == nullptr) {
          return absl::InvalidArgumentError(
              absl::StrCat(method->full_name(), ": body names no field: ", route.body));
        }
        if (!seen.insert(route.name()).second) {
          return absl::InvalidArgumentError(absl::StrCat("two routes are ", route.name()));
        }
        table.routes_.push_back(std::move(route));
      }
    }
  }
  return table;
}

const Route* RouteTable::Find(absl::string_view http_method, absl::string_view raw_path,
                              PathTemplate::Bindings* bindings,
                              std::vector<std::string>* other_methods) const {
  other_methods->clear();
  // A custom verb is the more specific match: "/v1/codes/X:reverseRedemption"
  // before "/v1/codes/{serial}".
  for (bool with_verb : {true, false}) {
    for (const Route& route : routes_) {
      if (route.path.verb().empty() == with_verb) continue;
      if (!route.path.Match(raw_path, bindings)) continue;
      if (route.http_method == http_method) return &route;
      other_methods->push_back(route.http_method);
    }
  }
  return nullptr;
}

}  // namespace giftcard::gateway

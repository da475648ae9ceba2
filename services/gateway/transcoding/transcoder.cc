#include "services/gateway/transcoding/transcoder.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "errors/status.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace giftcard::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using nlohmann::json;

struct FieldError {
  std::string field;
  std::string why;
};

// The field a dotted path names (each part by its proto or JSON name), or
// nullptr; `canonical` gets the path in proto names.
const FieldDescriptor* ResolveField(const Descriptor* message, absl::string_view path,
                                    std::vector<std::string>* canonical) {
  const FieldDescriptor* field = nullptr;
  canonical->clear();
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (message == nullptr) return nullptr;
    field = message->FindFieldByName(std::string(part));
    for (int i = 0; field == nullptr && i < message->field_count(); ++i) {
      if (message->field(i)->json_name() == part) field = message->field(i);
    }
    if (field == nullptr) return nullptr;
    canonical->push_back(field->name());
    message = field->message_type();
  }
  return field;
}

// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
// past U+10FFFF). A percent-decoded path or query may be any bytes; JSON
// and proto3 strings may not.
bool IsUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int extra = 0;
    uint32_t min = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, min = 0x10000, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= s.size()) return false;
    for (int k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

bool IsStringLikeWellKnown(const Descriptor* d) {
  const std::string& n = d->full_name();
  return n == "google.protobuf.Timestamp" || n == "google.protobuf.Duration" ||
         n == "google.protobuf.FieldMask" ||
         (n.rfind("google.protobuf.", 0) == 0 && n.size() > 5 &&
          n.compare(n.size() - 5, 5, "Value") == 0);
}

// A text value from the path or the query as the JSON value protobuf's
// parser takes for `field` (numbers may be quoted; bools may not).
absl::StatusOr<json> ScalarJson(const FieldDescriptor* field, const std::string& text) {
  switch (field->type()) {
    case FieldDescriptor::TYPE_BOOL:
      if (text == "true") return json(true);
      if (text == "false") return json(false);
      return absl::InvalidArgumentError("must be true or false");
    case FieldDescriptor::TYPE_ENUM:
      if (!text.empty() && std::all_of(text.begin(), text.end(), absl::ascii_isdigit)) {
        int32_t number = 0;  // Enum numbers are int32.
        if (!absl::SimpleAtoi(text, &number)) return absl::InvalidArgumentError("is no enum value");
        return json(number);
      }
      return json(text);
    case FieldDescriptor::TYPE_MESSAGE:
    case FieldDescriptor::TYPE_GROUP:
      if (IsStringLikeWellKnown(field->message_type())) return json(text);
      return absl::InvalidArgumentError("is a message: set it in a body, not in the URL");
    default:
      return json(text);
  }
}

// Sets `value` at `path` (proto names) in `root`; a repeated field appends.
// `from_path`: a path variable, which the body may repeat but not contradict.
std::optional<FieldError> Place(json& root, const std::vector<std::string>& path,
                                const FieldDescriptor* field, json value, bool from_path) {
  json* node = &root;
  for (size_t i = 0; i + 1 < path.size(); ++i) {
    json& next = (*node)[path[i]];
    if (next.is_null()) next = json::object();
    if (!next.is_object()) return FieldError{path[i], "must be an object"};
    node = &next;
  }
  const std::string dotted = absl::StrJoin(path, ".");
  json& slot = (*node)[path.back()];
  if (field->is_repeated()) {
    if (slot.is_null()) slot = json::array();
    if (!slot.is_array()) return FieldError{dotted, "must be a list"};
    slot.push_back(std::move(value));
    return std::nullopt;
  }
  if (!slot.is_null()) {
    // "42" in the path and 42 in the body are the same value.
    auto text = [](const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
    if (from_path && text(slot) == text(value)) return std::nullopt;
    return FieldError{dotted, from_path ? "differs between the path and the body" : "given twice"};
  }
  slot = std::move(value);
  return std::nullopt;
}

absl::Status FieldStatus(const FieldError& e, std::string* field) {
  *field = e.field;
  return absl::InvalidArgumentError(absl::StrCat(e.field, ": ", e.why));
}

// protobuf's JSON parser names the field first ("acount_id: Cannot find
// field.", "(state): invalid value ... for type TYPE_ENUM"); the caller gets
// a field violation in our words instead, named as the caller wrote it (a
// route whose body is one field, `body_field`, takes that field's fields).
absl::Status ParseFailure(const Descriptor* input, absl::string_view body_field,
                          absl::string_view message, std::string* field) {
  const size_t colon = message.find(": ");
  if (colon == absl::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the request does not fit ", input->full_name(), ": ", message));
  }
  absl::string_view path = message.substr(0, colon);
  if (absl::ConsumePrefix(&path, "(")) absl::ConsumeSuffix(&path, ")");
  std::string why(absl::StripSuffix(message.substr(colon + 2), "."));
  std::vector<std::string> canonical;
  const FieldDescriptor* f = ResolveField(input, path, &canonical);
  if (absl::StartsWith(why, "Cannot find field") || f == nullptr) {
    why = absl::StrCat("no such field in ", input->name());
  } else if (f->enum_type() != nullptr) {
    std::vector<std::string> names;
    for (int i = 1; i < f->enum_type()->value_count(); ++i) {
      names.push_back(f->enum_type()->value(i)->name());
    }
    why = absl::StrCat("must be one of ", absl::StrJoin(names, ", "));
  } else if (!why.empty()) {
    why[0] = absl::ascii_tolower(static_cast<unsigned char>(why[0]));
  }
  absl::string_view as_written = path;
  if (!body_field.empty() && body_field != "*") {
    absl::ConsumePrefix(&as_written, absl::StrCat(body_field, "."));
  }
  return FieldStatus({std::string(as_written), why}, field);
}

std::string CodeName(absl::StatusCode code) { return absl::StatusCodeToString(code); }

json DetailsJson(const google::rpc::Status& status) {
  json details = json::array();
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  for (const google::protobuf::Any& any : status.details()) {
    std::string text;
    if (google::protobuf::util::MessageToJsonString(any, &text, options).ok()) {
      json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (!parsed.is_discarded()) {
        details.push_back(std::move(parsed));
        continue;
      }
    }
    details.push_back({{"@type", any.type_url()}});
  }
  return details;
}

HttpError MakeError(absl::StatusCode code, const std::string& message,
                    const google::rpc::Status& details, int http_status) {
  HttpError e;
  e.http_status = http_status != 0 ? http_status : HttpStatusOf(code);
  json body = {{"error",
                {{"code", e.http_status},
                 {"message", message},
                 {"status", CodeName(code)},
                 {"details", DetailsJson(details)}}}};
  e.json = body.dump();
  for (const google::protobuf::Any& any : details.details()) {
    google::rpc::RetryInfo retry;
    if (any.Is<google::rpc::RetryInfo>() && any.UnpackTo(&retry)) {
      const double seconds = retry.retry_delay().seconds() + retry.retry_delay().nanos() / 1e9;
      e.headers.emplace_back("Retry-After",
                             std::to_string(static_cast<int64_t>(std::ceil(seconds))));
    }
  }
  if (code == absl::StatusCode::kUnauthenticated) {
    e.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"giftcard\"");
  }
  return e;
}

void AddErrorInfo(google::rpc::Status& status, absl::string_view reason) {
  google::rpc::ErrorInfo info;
  info.set_reason(std::string(reason));
  info.set_domain(std::string(errors::kDomain));
  status.add_details()->PackFrom(info);
}

}  // namespace

std::string MessageToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) return "{}";
  return out;
}

absl::Status BuildRequest(const Route& route, const PathTemplate::Bindings& bindings,
                          const std::multimap<std::string, std::string>& query,
                          const std::string& body, google::protobuf::Message* request,
                          std::string* field) {
  field->clear();
  const Descriptor* input = route.method->input_type();
  json root = json::object();
  const bool has_body = !absl::StripAsciiWhitespace(body).empty();
  if (route.body.empty()) {
    if (has_body) {
      return absl::InvalidArgumentError(
          absl::StrCat(route.name(), " takes no body: its fields go in the path and the query"));
    }
  } else if (has_body) {
    json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return absl::InvalidArgumentError("the body is not valid JSON");
    if (route.body == "*") {
      if (!parsed.is_object()) return absl::InvalidArgumentError("the body must be a JSON object");
      root = std::move(parsed);
    } else {
      root[route.body] = std::move(parsed);
    }
  }
  if (route.body == "*" && !query.empty()) {
    *field = query.begin()->first;
    return absl::InvalidArgumentError(absl::StrCat(query.begin()->first, ": ", route.name(),
                                                   " takes its fields in the body, not the query"));
  }
  std::vector<std::string> canonical;
  for (const auto& [name, value] : query) {
    if (!IsUtf8(name)) return FieldStatus({"query", "a parameter name is not UTF-8"}, field);
    if (!IsUtf8(value)) return FieldStatus({name, "is not UTF-8"}, field);
    const FieldDescriptor* f = ResolveField(input, name, &canonical);
    if (f == nullptr) return FieldStatus({name, "no such field"}, field);
    if (!route.body.empty() && canonical.front() == route.body) {
      return FieldStatus({name, "belongs in the body"}, field);
    }
    absl::StatusOr<json> v = ScalarJson(f, value);
    if (!v.ok()) return FieldStatus({name, std::string(v.status().message())}, field);
    if (auto e = Place(root, canonical, f, *std::move(v), false)) return FieldStatus(*e, field);
  }
  for (const auto& [name, value] : bindings) {
    if (!IsUtf8(value)) return FieldStatus({name, "is not UTF-8"}, field);
    const FieldDescriptor* f = ResolveField(input, name, &canonical);
    if (f == nullptr) return FieldStatus({name, "no such field"}, field);
    absl::StatusOr<json> v = ScalarJson(f, value);
    if (!v.ok()) return FieldStatus({name, std::string(v.status().message())}, field);
    if (auto e = Place(root, canonical, f, *std::move(v), true)) return FieldStatus(*e, field);
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  request->Clear();
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      root.dump(-1, ' ', false, json::error_handler_t::replace), request, options);
  if (!parsed.ok()) return ParseFailure(input, route.body, std::string(parsed.message()), field);
  return absl::OkStatus();
}

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kFailedPrecondition:
      return 400;
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    default:
      return 500;
  }
}

std::string ForwardableHeaderProblem(absl::string_view value) {
  constexpr size_t kMaxAuthorizationBytes = 4096;
  if (value.size() > kMaxAuthorizationBytes) {
    return absl::StrCat("the Authorization header is longer than ", kMaxAuthorizationBytes,
                        " bytes");
  }
  for (const char c : value) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u > 0x7e) {
      return "the Authorization header may hold printable ASCII only (a bearer token)";
    }
  }
  return "";
}

HttpError ErrorFromStatus(absl::StatusCode code, const std::string& message,
                          const std::string& status_details) {
  google::rpc::Status details;
  if (!status_details.empty() && !details.ParseFromString(status_details)) details.Clear();
  bool has_info = false;
  for (const google::protobuf::Any& any : details.details()) {
    has_info = has_info || any.Is<google::rpc::ErrorInfo>();
  }
  if (has_info) return MakeError(code, message, details, 0);
  const bool dependency =
      code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded;
  AddErrorInfo(details,
               dependency ? errors::reason::kDependencyUnavailable : errors::reason::kInternal);
  HttpError error = MakeError(
      code,
      dependency ? "a service this call needs did not answer; retry with the same request_id"
                 : "the call failed inside the gateway's path to the service",
      details, 0);
  error.transport_message_dropped = true;
  return error;
}

HttpError GatewayError(absl::StatusCode code, absl::string_view reason, const std::string& message,
                       const std::string& field, int http_status) {
  google::rpc::Status details;
  AddErrorInfo(details, reason);
  if (!field.empty()) {
    google::rpc::BadRequest bad;
    google::rpc::BadRequest::FieldViolation* v = bad.add_field_violations();
    v->set_field(field);
    v->set_description(message);
    details.add_details()->PackFrom(bad);
  }
  return MakeError(code, message, details, http_status);
}

}  // namespace giftcard::gateway

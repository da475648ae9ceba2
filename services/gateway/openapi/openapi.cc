#include "services/gateway/openapi/openapi.h"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace giftcard::gateway {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using nlohmann::json;

constexpr char kErrorSchema[] = "giftcard.Error";

template <typename D>
std::string CommentOf(const D* d) {
  google::protobuf::SourceLocation location;
  if (!d->GetSourceLocation(&location)) return "";
  std::vector<std::string> lines = absl::StrSplit(location.leading_comments, '\n');
  for (std::string& line : lines) line = std::string(absl::StripAsciiWhitespace(line));
  return std::string(absl::StripAsciiWhitespace(absl::StrJoin(lines, "\n")));
}

std::string Ref(const std::string& name) { return "#/components/schemas/" + name; }

class SchemaBuilder {
 public:
  // The schema of one field's value (a repeated field: of the list).
  json FieldSchema(const FieldDescriptor* field) {
    // A map is an object of its values: its entry message is no schema of
    // its own (one would be a component nothing refers to).
    json schema =
        field->is_map()
            ? json{{"type", "object"},
                   {"additionalProperties", ValueSchema(field->message_type()->map_value())}}
            : ValueSchema(field);
    if (!field->is_map() && field->is_repeated()) {
      schema = {{"type", "array"}, {"items", schema}};
    }
    const std::string comment = CommentOf(field);
    if (!comment.empty()) {
      if (schema.contains("$ref")) schema = {{"allOf", json::array({schema})}};
      schema["description"] = comment;
    }
    return schema;
  }

  // A $ref to the message's schema, which is added with those it refers to.
  json MessageRef(const Descriptor* message) {
    if (auto wk = WellKnown(message)) return *wk;
    const std::string& name = message->full_name();
    if (!done_.insert(name).second) return {{"$ref", Ref(name)}};
    json properties = json::object();
    for (int i = 0; i < message->field_count(); ++i) {
      const FieldDescriptor* f = message->field(i);
      properties[f->name()] = FieldSchema(f);
    }
    json schema = {{"type", "object"}, {"properties", properties}};
    const std::string comment = CommentOf(message);
    if (!comment.empty()) schema["description"] = comment;
    schemas_[name] = schema;
    return {{"$ref", Ref(name)}};
  }

  json& schemas() { return schemas_; }

 private:
  static std::optional<json> WellKnown(const Descriptor* m) {
    const std::string& n = m->full_name();
    if (n == "google.protobuf.Timestamp") return json{{"type", "string"}, {"format", "date-time"}};
    if (n == "google.protobuf.Duration") return json{{"type", "string"}, {"example", "1.5s"}};
    if (n == "google.protobuf.Any") return json{{"type", "object"}};
    return std::nullopt;
  }

  json ValueSchema(const FieldDescriptor* field) {
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        if (field->type() == FieldDescriptor::TYPE_BYTES) {
          return {{"type", "string"}, {"format", "byte"}};
        }
        return {{"type", "string"}};
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_UINT32:
        return {{"type", "integer"}, {"format", "int32"}};
      case FieldDescriptor::CPPTYPE_INT64:
      case FieldDescriptor::CPPTYPE_UINT64:
        // proto3 JSON: 64-bit integers are strings.
        return {{"type", "string"}, {"format", "int64"}};
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT:
        return {{"type", "number"}};
      case FieldDescriptor::CPPTYPE_BOOL:
        return {{"type", "boolean"}};
      case FieldDescriptor::CPPTYPE_ENUM: {
        json values = json::array();
        const EnumDescriptor* e = field->enum_type();
        for (int i = 0; i < e->value_count(); ++i) values.push_back(e->value(i)->name());
        return {{"type", "string"}, {"enum", values}};
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return MessageRef(field->message_type());
    }
    return json::object();
  }

  std::set<std::string> done_;
  json schemas_ = json::object();
};

// The name a path variable has in the document: its field path's last part.
// OpenAPI's templates have no patterns, and two paths that differ only in
// their variables' names are the same path to it ("/v1/accounts/{account_id}"
// for UpsertAccount's account.account_id and GetAccount's account_id).
std::string ParameterName(const std::string& field_path) {
  const size_t dot = field_path.rfind('.');
  return dot == std::string::npos ? field_path : field_path.substr(dot + 1);
}

}  // namespace

std::string OpenApiPath(const std::string& text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '{') {
      out.push_back(text[i++]);
      continue;
    }
    const size_t close = text.find('}', i);
    if (close == std::string::npos) return out + text.substr(i);
    std::string inside = text.substr(i + 1, close - i - 1);
    inside = inside.substr(0, inside.find('='));
    absl::StrAppend(&out, "{", ParameterName(inside), "}");
    i = close + 1;
  }
  return out;
}

namespace {

bool ScalarForQuery(const FieldDescriptor* f) {
  return f->message_type() == nullptr ||
         f->message_type()->full_name() == "google.protobuf.Timestamp";
}

// One error shape (AIP-193) under each status a call may answer.
json ErrorResponses() {
  auto error_response = [](const std::string& when) {
    return json{
        {"description", when + ": google.rpc.Status as JSON (AIP-193), its details carrying a "
                               "google.rpc.ErrorInfo whose reason names the case."},
        {"content", {{"application/json", {{"schema", {{"$ref", Ref(kErrorSchema)}}}}}}}};
  };
  return {{"BadRequest", error_response("INVALID_ARGUMENT (a BadRequest detail names the field), "
                                        "FAILED_PRECONDITION or OUT_OF_RANGE")},
          {"Unauthenticated", error_response("UNAUTHENTICATED: no or an unknown bearer token")},
          {"PermissionDenied", error_response("PERMISSION_DENIED: the caller may not call this")},
          {"TooManyRequests",
           error_response("RESOURCE_EXHAUSTED: a limit; RetryInfo and Retry-After say when")},
          {"Unavailable", error_response("UNAVAILABLE: retry with the same request_id")},
          {"Error", error_response("Any other error (404 NOT_FOUND, 409 ABORTED or "
                                   "ALREADY_EXISTS, 504 DEADLINE_EXCEEDED, …)")}};
}

json ErrorSchema() {
  return {{"type", "object"},
          {"properties",
           {{"error",
             {{"type", "object"},
              {"properties",
               {{"code", {{"type", "integer"}, {"description", "The HTTP status."}}},
                {"message", {{"type", "string"}}},
                {"status", {{"type", "string"}, {"description", "The google.rpc.Code name."}}},
                {"details",
                 {{"type", "array"},
                  {"items", {{"type", "object"}}},
                  {"description",
                   "google.rpc.ErrorInfo (reason, domain \"giftcard.v1\", metadata), "
                   "BadRequest, RetryInfo: each with its \"@type\"."}}}}}}}}}};
}

// A route's path variables, then (unless the body is the whole request) the
// request's other scalar fields as query parameters.
json Parameters(const Route& route, SchemaBuilder& schemas) {
  const Descriptor* input = route.method->input_type();
  json parameters = json::array();
  std::set<std::string> in_path;
  for (const std::string& field : route.path.VariableFields()) {
    in_path.insert(field.substr(0, field.find('.')));
    json parameter = {{"name", ParameterName(field)},
                      {"in", "path"},
                      {"required", true},
                      {"schema", {{"type", "string"}}}};
    if (ParameterName(field) != field) parameter["description"] = "Sets " + field + ".";
    parameters.push_back(parameter);
  }
  if (route.body == "*") return parameters;
  for (int i = 0; i < input->field_count(); ++i) {
    const FieldDescriptor* f = input->field(i);
    if (in_path.count(f->name()) || f->name() == route.body || !ScalarForQuery(f)) continue;
    json p = {{"name", f->name()}, {"in", "query"}, {"schema", schemas.FieldSchema(f)}};
    if (f->is_repeated()) {
      p["explode"] = true;
      p["style"] = "form";
    }
    parameters.push_back(p);
  }
  return parameters;
}

json Responses(const Route& route, SchemaBuilder& schemas) {
  const json schema = schemas.MessageRef(route.method->output_type());
  const json ok_content = route.server_streaming()
                              ? json{{"application/x-ndjson", {{"schema", schema}}}}
                              : json{{"application/json", {{"schema", schema}}}};
  return {{"200",
           {{"description", route.server_streaming()
                                ? "A stream: one JSON object per line; an error after the first "
                                  "line comes as a last line {\"error\": …}."
                                : "OK"},
            {"content", ok_content}}},
          // The 4xx and 5xx every call may answer, each the same error shape,
          // so client generators know it; `default` for the rest.
          {"400", {{"$ref", "#/components/responses/BadRequest"}}},
          {"401", {{"$ref", "#/components/responses/Unauthenticated"}}},
          {"403", {{"$ref", "#/components/responses/PermissionDenied"}}},
          {"429", {{"$ref", "#/components/responses/TooManyRequests"}}},
          {"503", {{"$ref", "#/components/responses/Unavailable"}}},
          {"default", {{"$ref", "#/components/responses/Error"}}}};
}

// One route's operation; `binding` counts the method's routes so far.
json Operation(const Route& route, int binding, SchemaBuilder& schemas) {
  const google::protobuf::MethodDescriptor* method = route.method;
  // Unique, as OpenAPI requires: a method's additional bindings are
  // CodeVault_GetCodeStatus_2, _3, ….
  std::string operation_id = absl::StrCat(method->service()->name(), "_", method->name());
  if (binding > 1) absl::StrAppend(&operation_id, "_", binding);
  json op = {{"operationId", operation_id},
             {"tags", json::array({method->service()->name()})},
             {"summary", absl::StrCat(method->service()->name(), ".", method->name())}};
  const std::string comment = CommentOf(method);
  if (!comment.empty()) op["description"] = comment;
  if (json parameters = Parameters(route, schemas); !parameters.empty()) {
    op["parameters"] = parameters;
  }
  if (!route.body.empty()) {
    const Descriptor* input = method->input_type();
    json body_schema = route.body == "*" ? schemas.MessageRef(input)
                                         : schemas.FieldSchema(input->FindFieldByName(route.body));
    op["requestBody"] = {{"required", true},
                         {"content", {{"application/json", {{"schema", body_schema}}}}}};
  }
  op["responses"] = Responses(route, schemas);
  return op;
}

}  // namespace

absl::StatusOr<std::string> OpenApiDocument(const RouteTable& routes) {
  SchemaBuilder schemas;
  json paths = json::object();
  std::map<const google::protobuf::MethodDescriptor*, int> bindings_of;
  for (const Route& route : routes.routes()) {
    std::string http_method = route.http_method;
    absl::AsciiStrToLower(&http_method);
    paths[OpenApiPath(route.path.text())][http_method] =
        Operation(route, ++bindings_of[route.method], schemas);
  }
  schemas.schemas()[kErrorSchema] = ErrorSchema();
  json doc = {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "Gift-card suite HTTP/JSON API"},
        {"version", "v1"},
        {"license", {{"name", "Proprietary: the gift-card suite's operator"}}},
        {"description",
         "giftcard-gateway's transcoding of the giftcard.v1 gRPC services (google.api.http "
         "annotations). Send `Authorization: Bearer <token>`; JSON uses proto field names."}}},
      // Relative: the gateway that serves this document serves the API.
      {"servers", json::array({{{"url", "/"}, {"description", "this gateway"}}})},
      {"security", json::array({{{"bearer", json::array()}}})},
      {"paths", paths},
      {"components",
       {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
        {"responses", ErrorResponses()},
        {"schemas", schemas.schemas()}}}};
  return doc.dump(2) + "\n";
}

}  // namespace giftcard::gateway

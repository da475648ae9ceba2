#include "server/call_log.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/server_context.h>

#include <algorithm>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "log/log.h"
#include "metrics/registry.h"
#include "trace/trace_context.h"
#include "validate/validate.h"

namespace giftcard::server {
namespace {

// Request fields worth a log line, each with its format check. Never
// "code": that is the PIN. A value that fails its field's check is logged
// as "(invalid)", never as typed: a PIN typed where a serial belongs must
// not reach the log.
struct LoggedField {
  const char* name;
  absl::Status (*check)(absl::string_view field, absl::string_view value);
};
constexpr LoggedField kLoggedFields[] = {
    {"request_id", validate::Id}, {"invoice_id", validate::Id}, {"account_id", validate::Id},
    {"serial", validate::Serial}, {"batch_id", validate::Id},   {"transfer_id", validate::Id}};

// Label values are method names, status code names and ErrorInfo reasons:
// small fixed sets, never request data.
struct CallMetrics {
  metrics::Counter& calls = metrics::Global().AddCounter(
      "giftcard_grpc_server_calls_total", "Calls answered, by method and status code.",
      {"method", "code"});
  metrics::Counter& outcomes = metrics::Global().AddCounter(
      "giftcard_grpc_server_outcomes_total",
      "Calls answered, by method and outcome: OK or the ErrorInfo reason (for RedeemCode: "
      "the redemption outcomes).",
      {"method", "outcome"});
  metrics::Histogram& latency = metrics::Global().AddHistogram(
      "giftcard_grpc_server_call_seconds", "Time from a call's arrival to its status, by method.",
      {"method"}, metrics::LatencyBuckets());
};

// The method's path as a label when it names an RPC compiled into this
// binary, else "unknown": any client may send any path, and each distinct
// one must not grow a new series.
// Paths found are remembered (at most one per method compiled in), so a
// call's label costs a lookup in a small set, not in the descriptor pool.
std::string MethodLabel(absl::string_view path) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* known = new absl::flat_hash_set<std::string>;
  {
    absl::ReaderMutexLock lock(&mu);
    if (known->contains(path)) return std::string(path);
  }
  if (!absl::StartsWith(path, "/")) return "unknown";
  std::string full_name(path.substr(1));
  const size_t slash = full_name.rfind('/');
  if (slash == std::string::npos) return "unknown";
  full_name[slash] = '.';
  if (google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full_name) == nullptr) {
    return "unknown";
  }
  absl::MutexLock lock(&mu);
  known->insert(std::string(path));
  return std::string(path);
}

// The logged fields a request message has, found once per message type.
struct LoggedFieldOf {
  const LoggedField* logged;
  const google::protobuf::FieldDescriptor* field;
};
// A batch request's items (a repeated message field) and the `traceparent`
// field each item has.
struct ItemTraceField {
  const google::protobuf::FieldDescriptor* items = nullptr;
  const google::protobuf::FieldDescriptor* traceparent = nullptr;
};
struct LoggedFieldsOfType {
  std::vector<LoggedFieldOf> fields;
  ItemTraceField item_trace;
};

bool IsSingularString(const google::protobuf::FieldDescriptor* field) {
  return field != nullptr && !field->is_repeated() &&
         field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING;
}

const LoggedFieldsOfType& LoggedFieldsOf(const google::protobuf::Descriptor* descriptor) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* by_type =
      new absl::node_hash_map<const google::protobuf::Descriptor*, LoggedFieldsOfType>;
  {
    absl::ReaderMutexLock lock(&mu);
    auto it = by_type->find(descriptor);
    if (it != by_type->end()) return it->second;
  }
  LoggedFieldsOfType of;
  for (const LoggedField& logged : kLoggedFields) {
    const auto* field = descriptor->FindFieldByName(logged.name);
    if (IsSingularString(field)) of.fields.push_back({&logged, field});
  }
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const auto* field = descriptor->field(i);
    if (!field->is_repeated() || field->message_type() == nullptr) continue;
    const auto* traceparent = field->message_type()->FindFieldByName(trace::kTraceparent);
    if (IsSingularString(traceparent)) of.item_trace = {field, traceparent};
  }
  absl::MutexLock lock(&mu);
  // A node map: the reference stays valid as other types are added. Two
  // threads may find the fields of one type; the first insert wins.
  return by_type->try_emplace(descriptor, std::move(of)).first->second;
}

// The distinct trace ids of a batch request's items, joined by commas.
std::string ItemTraceIds(const google::protobuf::Message& message, const ItemTraceField& f) {
  if (f.items == nullptr) return "";
  const auto* reflection = message.GetReflection();
  std::vector<std::string> ids;
  for (int i = 0, n = reflection->FieldSize(message, f.items); i < n; ++i) {
    const auto& item = reflection->GetRepeatedMessage(message, f.items, i);
    std::optional<trace::TraceContext> context =
        trace::Parse(item.GetReflection()->GetString(item, f.traceparent));
    if (context && std::find(ids.begin(), ids.end(), context->trace_id) == ids.end()) {
      ids.push_back(std::move(context->trace_id));
    }
  }
  return absl::StrJoin(ids, ",");
}

// The trace of each call in flight, for OutgoingTraceparent: the
// interceptor adds a call's when its metadata arrives and removes it when
// the call is done.
class CallTraces {
 public:
  void Add(const grpc::ServerContextBase* call, trace::TraceContext context) {
    absl::MutexLock lock(&mu_);
    by_call_[call] = std::move(context);
  }
  void Remove(const grpc::ServerContextBase* call) {
    absl::MutexLock lock(&mu_);
    by_call_.erase(call);
  }
  std::optional<trace::TraceContext> Find(const grpc::ServerContextBase* call) {
    absl::MutexLock lock(&mu_);
    auto it = by_call_.find(call);
    if (it == by_call_.end()) return std::nullopt;
    return it->second;
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<const grpc::ServerContextBase*, trace::TraceContext> by_call_
      ABSL_GUARDED_BY(mu_);
};

CallTraces& Traces() {
  static auto* traces = new CallTraces;
  return *traces;
}

CallMetrics& CallMetricsOf() {
  static auto* m = new CallMetrics;
  return *m;
}

class CallLogInterceptor : public grpc::experimental::Interceptor {
 public:
  CallLogInterceptor(grpc::experimental::ServerRpcInfo* info, const PrincipalOf& principal_of)
      : info_(info), principal_of_(principal_of), start_(absl::Now()) {}

  ~CallLogInterceptor() override {
    if (traced_) Traces().Remove(info_->server_context());
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      absl::string_view traceparent;
      if (const auto* metadata = methods->GetRecvInitialMetadata()) {
        auto it = metadata->find(trace::kTraceparent);
        if (it != metadata->end()) traceparent = {it->second.data(), it->second.size()};
      }
      trace_ = trace::ContinueOrStart(traceparent);
      Traces().Add(info_->server_context(), trace_);
      traced_ = true;
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      if (const auto* message =
              static_cast<const google::protobuf::Message*>(methods->GetRecvMessage())) {
        parsed_ = true;
        const LoggedFieldsOfType& of = LoggedFieldsOf(message->GetDescriptor());
        item_trace_ids_ = ItemTraceIds(*message, of.item_trace);
        for (const LoggedFieldOf& f : of.fields) {
          std::string value = message->GetReflection()->GetString(*message, f.field);
          if (value.empty()) continue;
          fields_.emplace_back(f.logged->name,
                               f.logged->check(f.logged->name, value).ok() ? value : "(invalid)");
        }
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      // A request gRPC could not parse (a proto3 string that is not UTF-8)
      // never reaches a handler; gRPC 1.51 answers it as UNIMPLEMENTED
      // (callback unary: as if the method did not exist) or INTERNAL
      // (synchronous streaming), neither with a reason.
      using Type = grpc::experimental::ServerRpcInfo::Type;
      if (!parsed_ &&
          (status.error_code() == grpc::StatusCode::UNIMPLEMENTED ||
           status.error_code() == grpc::StatusCode::INTERNAL) &&
          (info_->type() == Type::UNARY || info_->type() == Type::SERVER_STREAMING) &&
          MethodLabel(info_->method()) != "unknown") {
        status = errors::ToGrpcStatus(
            errors::Error(absl::StatusCode::kInvalidArgument, errors::reason::kRequestMalformed,
                          "the request is not valid protobuf for this method (every string "
                          "field must be UTF-8)"));
        methods->ModifySendStatus(status);
      }
      const absl::Status as_absl = errors::FromGrpcStatus(status);
      const double seconds = absl::ToDoubleSeconds(absl::Now() - start_);
      const std::string code = absl::StatusCodeToString(as_absl.code());
      const std::string reason = errors::ReasonOf(as_absl);
      const std::string method = MethodLabel(info_->method());
      CallMetricsOf().calls.Increment({method, code});
      CallMetricsOf().outcomes.Increment(
          {method, as_absl.ok() ? "OK" : (reason.empty() ? code : reason)});
      CallMetricsOf().latency.Observe({method}, seconds);
      log::Fields line = {
          {"method", std::string(absl::string_view(info_->method()).substr(0, 200))},
          {"principal", principal_of_ ? principal_of_(*info_->server_context()) : ""},
          {"status", code},
          {"reason", reason},
          {"latency_ms", seconds * 1000},
          {"trace_id", trace_.trace_id},
          {"span_id", trace_.span_id}};
      if (!item_trace_ids_.empty()) line.emplace_back("trace_ids", item_trace_ids_);
      line.insert(line.end(), fields_.begin(), fields_.end());
      log::Info("call", line);
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* info_;
  const PrincipalOf& principal_of_;
  const absl::Time start_;
  log::Fields fields_;
  bool parsed_ = false;  // The request message arrived and parsed.
  trace::TraceContext trace_;
  bool traced_ = false;         // trace_ is in Traces().
  std::string item_trace_ids_;  // A batch's items' trace ids.
};

class CallLogInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallLogInterceptorFactory(PrincipalOf principal_of)
      : principal_of_(std::move(principal_of)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    const char* method = info->method();
    if (method == nullptr || absl::StartsWith(method, "/grpc.")) return nullptr;
    return new CallLogInterceptor(info, principal_of_);
  }

 private:
  const PrincipalOf principal_of_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeCallLogInterceptorFactory(PrincipalOf principal_of) {
  return std::make_unique<CallLogInterceptorFactory>(std::move(principal_of));
}

std::string OutgoingTraceparent(const grpc::ServerContextBase& context) {
  if (std::optional<trace::TraceContext> traced = Traces().Find(&context)) {
    return traced->Traceparent();
  }
  absl::string_view traceparent;
  auto it = context.client_metadata().find(trace::kTraceparent);
  if (it != context.client_metadata().end()) traceparent = {it->second.data(), it->second.size()};
  return trace::ContinueOrStart(traceparent).Traceparent();
}

}  // namespace giftcard::server

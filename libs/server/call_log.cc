#include "server/call_log.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <grpcpp/server_context.h>

#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "log/log.h"
#include "metrics/registry.h"
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
const std::vector<LoggedFieldOf>& LoggedFieldsOf(const google::protobuf::Descriptor* descriptor) {
  static absl::Mutex mu(absl::kConstInit);
  static auto* by_type =
      new absl::node_hash_map<const google::protobuf::Descriptor*, std::vector<LoggedFieldOf>>;
  {
    absl::ReaderMutexLock lock(&mu);
    auto it = by_type->find(descriptor);
    if (it != by_type->end()) return it->second;
  }
  std::vector<LoggedFieldOf> fields;
  for (const LoggedField& logged : kLoggedFields) {
    const auto* field = descriptor->FindFieldByName(logged.name);
    if (field != nullptr && !field->is_repeated() &&
        field->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_STRING) {
      fields.push_back({&logged, field});
    }
  }
  absl::MutexLock lock(&mu);
  // A node map: the reference stays valid as other types are added. Two
  // threads may find the fields of one type; the first insert wins.
  return by_type->try_emplace(descriptor, std::move(fields)).first->second;
}

CallMetrics& CallMetricsOf() {
  static auto* m = new CallMetrics;
  return *m;
}

class CallLogInterceptor : public grpc::experimental::Interceptor {
 public:
  CallLogInterceptor(grpc::experimental::ServerRpcInfo* info, const PrincipalOf& principal_of)
      : info_(info), principal_of_(principal_of), start_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      if (const auto* message =
              static_cast<const google::protobuf::Message*>(methods->GetRecvMessage())) {
        parsed_ = true;
        for (const LoggedFieldOf& f : LoggedFieldsOf(message->GetDescriptor())) {
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
          {"latency_ms", seconds * 1000}};
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

}  // namespace giftcard::server

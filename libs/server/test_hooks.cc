#include "server/test_hooks.h"

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "log/log.h"

namespace giftcard::server {
namespace {

class TestHookInterceptor : public grpc::experimental::Interceptor {
 public:
  TestHookInterceptor(int64_t method_delay_ms, int64_t reply_delay_ms)
      : method_delay_ms_(method_delay_ms), reply_delay_ms_(reply_delay_ms) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* md = methods->GetRecvInitialMetadata();
      auto it = md->find(kTestDelayMetadata);
      int64_t ms = method_delay_ms_;
      if (it != md->end() &&
          absl::SimpleAtoi(std::string(it->second.data(), it->second.size()), &ms)) {
        ms = std::clamp<int64_t>(ms, 0, 60000);
      }
      if (ms > 0) {
        log::Info("test_hook_delay", {{"ms", ms}});
        absl::SleepFor(absl::Milliseconds(ms));
      }
    }
    if (reply_delay_ms_ > 0 && methods->QueryInterceptionHookPoint(
                                   grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      log::Info("test_hook_reply_delay", {{"ms", reply_delay_ms_}});
      absl::SleepFor(absl::Milliseconds(reply_delay_ms_));
    }
    methods->Proceed();
  }

 private:
  const int64_t method_delay_ms_;
  const int64_t reply_delay_ms_;
};

class TestHookInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  TestHookInterceptorFactory(std::map<std::string, int64_t> delays,
                             std::map<std::string, int64_t> reply_delays)
      : delays_(std::move(delays)), reply_delays_(std::move(reply_delays)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    std::string method = info->method() != nullptr ? info->method() : "";
    method = method.substr(method.rfind('/') + 1);
    auto it = delays_.find(method);
    auto reply = reply_delays_.find(method);
    return new TestHookInterceptor(it == delays_.end() ? 0 : it->second,
                                   reply == reply_delays_.end() ? 0 : reply->second);
  }

 private:
  const std::map<std::string, int64_t> delays_;
  const std::map<std::string, int64_t> reply_delays_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeTestHookInterceptorFactory(std::map<std::string, int64_t> method_delays,
                               std::map<std::string, int64_t> reply_delays) {
  return std::make_unique<TestHookInterceptorFactory>(std::move(method_delays),
                                                      std::move(reply_delays));
}

bool ParseMethodDelays(const std::string& spec, std::map<std::string, int64_t>* out) {
  for (absl::string_view entry : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    std::pair<std::string, std::string> kv =
        absl::StrSplit(absl::StripAsciiWhitespace(entry), absl::MaxSplits('=', 1));
    int64_t ms = 0;
    if (kv.first.empty() || !absl::SimpleAtoi(kv.second, &ms) || ms < 0) return false;
    (*out)[kv.first] = std::min<int64_t>(ms, 60000);
  }
  return true;
}

}  // namespace giftcard::server

#include "server/test_hooks.h"

#include <algorithm>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "log/log.h"

namespace giftcard::server {
namespace {

class TestHookInterceptor : public grpc::experimental::Interceptor {
 public:
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      auto* md = methods->GetRecvInitialMetadata();
      auto it = md->find(kTestDelayMetadata);
      int64_t ms = 0;
      if (it != md->end() &&
          absl::SimpleAtoi(std::string(it->second.data(), it->second.size()), &ms)) {
        ms = std::clamp<int64_t>(ms, 0, 60000);
        log::Info("test_hook_delay", {{"ms", std::to_string(ms)}});
        absl::SleepFor(absl::Milliseconds(ms));
      }
    }
    methods->Proceed();
  }
};

class TestHookInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo*) override {
    return new TestHookInterceptor();
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeTestHookInterceptorFactory() {
  return std::make_unique<TestHookInterceptorFactory>();
}

}  // namespace giftcard::server

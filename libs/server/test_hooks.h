// Fault-injection hooks for tests of shutdown and crash recovery. Enabled only
// by --enable_test_hooks (the service logs a warning when it is on). A call is
// held N ms (at most 60 s) after its headers arrive, before its handler runs,
// when it carries the metadata `x-giftcard-test-delay-ms: N`, or when its
// method is named in --test_delay_methods ("CreditAccount=2000,…") — for calls
// from another service, which carry no test metadata. While held it logs
// `test_hook_delay`, so a test can act on the process with the call in flight.
// Methods named in --test_reply_delay_methods have their answer held instead,
// after the handler ran (logging `test_hook_reply_delay`): the effect is
// committed while the caller's deadline passes — an outcome the caller
// cannot know.
#ifndef GIFTCARD_LIBS_SERVER_TEST_HOOKS_H_
#define GIFTCARD_LIBS_SERVER_TEST_HOOKS_H_

#include <grpcpp/support/server_interceptor.h>

#include <map>
#include <memory>
#include <string>

namespace giftcard::server {

inline constexpr char kTestDelayMetadata[] = "x-giftcard-test-delay-ms";

// `method_delays`: method name (the last part of its path) → delay in ms
// before the handler; `reply_delays` likewise, after it.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeTestHookInterceptorFactory(std::map<std::string, int64_t> method_delays,
                               std::map<std::string, int64_t> reply_delays = {});

// Parses "Method=ms[,Method=ms]"; false on a malformed spec.
bool ParseMethodDelays(const std::string& spec, std::map<std::string, int64_t>* out);

}  // namespace giftcard::server

#endif  // GIFTCARD_LIBS_SERVER_TEST_HOOKS_H_

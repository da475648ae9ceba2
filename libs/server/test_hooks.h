// Fault-injection hooks for tests of shutdown and crash recovery. Enabled only
// by --enable_test_hooks (the service logs a warning when it is on). A call is
// held N ms (at most 60 s) before its handler runs, when it carries the
// metadata `x-giftcard-test-delay-ms: N`, or when its method is named in
// --test_delay_methods ("CreditAccount=2000,…") — for calls from another
// service, which carry no test metadata. While held it logs
// `test_hook_delay`, so a test can act on the process with the call in
// flight. Methods named in --test_reply_delay_methods have their answer held
// instead, after the handler ran (logging `test_hook_reply_delay`): the
// effect is committed while the caller's deadline passes — an outcome the
// caller cannot know. The holding is done by the call runner's worker
// (server/call_runner.h) or an engine's timer, never on one of gRPC's
// threads.
#ifndef GIFTCARD_LIBS_SERVER_TEST_HOOKS_H_
#define GIFTCARD_LIBS_SERVER_TEST_HOOKS_H_

#include <grpcpp/server_context.h>

#include <map>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace giftcard::server {

inline constexpr char kTestDelayMetadata[] = "x-giftcard-test-delay-ms";

class TestHooks {
 public:
  // Both specs as ParseMethodDelays reads them; nullopt when one is malformed.
  static std::optional<TestHooks> FromSpecs(const std::string& method_delays,
                                            const std::string& reply_delays);
  // Holds the call before its handler runs, when it is due.
  void BeforeHandler(absl::string_view method, const grpc::ServerContextBase& context) const;
  // Holds the answer after the handler ran, when it is due.
  void AfterHandler(absl::string_view method) const;
  // How long to hold the call before (after) its handler, logged as the
  // holds are: for an engine, which holds a call with a timer, not a sleep.
  absl::Duration DelayBefore(absl::string_view method,
                             const grpc::ServerContextBase& context) const;
  absl::Duration DelayAfter(absl::string_view method) const;

 private:
  std::map<std::string, int64_t, std::less<>> method_delays_;
  std::map<std::string, int64_t, std::less<>> reply_delays_;
};

// Parses "Method=ms[,Method=ms]" (ms capped at a minute); false on a
// malformed spec.
bool ParseMethodDelays(const std::string& spec, std::map<std::string, int64_t>* out);

}  // namespace giftcard::server

#endif  // GIFTCARD_LIBS_SERVER_TEST_HOOKS_H_

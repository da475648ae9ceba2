// Fault-injection hooks for tests of shutdown and crash recovery. Enabled only
// by --enable_test_hooks (the service logs a warning when it is on). A call
// carrying the metadata `x-giftcard-test-delay-ms: N` is held N ms (at most
// 60 s) after its headers arrive, before its handler runs, so a test can put
// a call deterministically "in flight" and act on the process meanwhile.
#ifndef GIFTCARD_LIBS_SERVER_TEST_HOOKS_H_
#define GIFTCARD_LIBS_SERVER_TEST_HOOKS_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>

namespace giftcard::server {

inline constexpr char kTestDelayMetadata[] = "x-giftcard-test-delay-ms";

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
MakeTestHookInterceptorFactory();

}  // namespace giftcard::server

#endif  // GIFTCARD_LIBS_SERVER_TEST_HOOKS_H_

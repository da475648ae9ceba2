// Which targets get client-side health checking: those that may name
// several backends, so a NOT_SERVING one can be routed around.
#include "server/client.h"

#include <gtest/gtest.h>

namespace giftcard::server {
namespace {

TEST(ClientTest, AListOrANameMayBeSeveralBackendsALiteralAddressIsOne) {
  for (const char* several : {"ipv4:127.0.0.1:5001,127.0.0.1:5002", "code-vault:8443",
                              "dns:///account-credit.giftcard.svc:8443", "localhost:5000"}) {
    EXPECT_TRUE(MayNameSeveralBackends(several)) << several;
  }
  for (const char* one : {"127.0.0.1:5001", "ipv4:127.0.0.1:5001", "[::1]:5001",
                          "unix:/tmp/giftcard.sock", "dns:///10.0.0.7:8443"}) {
    EXPECT_FALSE(MayNameSeveralBackends(one)) << one;
  }
}

}  // namespace
}  // namespace giftcard::server

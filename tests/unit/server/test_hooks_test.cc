// server: the test hooks' delay specs.
#include "server/test_hooks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace giftcard {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(TestHooksTest, MethodDelaySpecs) {
  std::map<std::string, int64_t> delays;
  ASSERT_TRUE(server::ParseMethodDelays("CreditAccount=2000, DebitAccount=5", &delays));
  EXPECT_THAT(delays, ElementsAre(Pair("CreditAccount", 2000), Pair("DebitAccount", 5)));
  delays.clear();
  ASSERT_TRUE(server::ParseMethodDelays("", &delays));
  EXPECT_TRUE(delays.empty());
  ASSERT_TRUE(server::ParseMethodDelays("Slow=999999", &delays));
  EXPECT_EQ(delays["Slow"], 60000);  // Capped at a minute.
  for (const char* bad : {"CreditAccount", "=5", "X=-1", "X=abc", "X=1,Y"}) {
    std::map<std::string, int64_t> out;
    EXPECT_FALSE(server::ParseMethodDelays(bad, &out)) << bad;
  }
}

}  // namespace
}  // namespace giftcard

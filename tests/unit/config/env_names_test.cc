// config: every flag has an environment name.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "config/config.h"

namespace giftcard {
namespace {

TEST(ConfigTest, EveryFlagHasAGiftcardEnvironmentName) {
  EXPECT_EQ(config::EnvNameOf("pg_dsn"), "GIFTCARD_PG_DSN");
  EXPECT_EQ(config::EnvNameOf("tokens_file"), "GIFTCARD_TOKENS_FILE");
}

}  // namespace
}  // namespace giftcard

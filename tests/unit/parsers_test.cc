// The small parsers and encoders nothing else tests on their own: Postgres
// array literals, the tokens file, flag → environment names, test-hook specs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "auth/authorizer.h"
#include "config/config.h"
#include "pg/pool.h"
#include "server/test_hooks.h"

namespace giftcard {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(PgArraysTest, TextArrayQuotesAndEscapesEveryElement) {
  EXPECT_EQ(pg::TextArray({}), "{}");
  EXPECT_EQ(pg::TextArray({"a", ""}), R"({"a",""})");
  // Quotes, backslashes, commas, braces and NULL-looking text stay data.
  EXPECT_EQ(pg::TextArray({R"(say "hi")", R"(C:\x)", "a,b", "{}", "NULL"}),
            R"({"say \"hi\"","C:\\x","a,b","{}","NULL"})");
}

TEST(PgArraysTest, ByteaArrayIsHexOfEveryByte) {
  EXPECT_EQ(pg::ByteaArray({}), "{}");
  EXPECT_EQ(pg::ByteaArray({std::string("\x00\xff\x10", 3), ""}), R"({"\\x00ff10","\\x"})");
}

TEST(PgDsnTest, ParametersAreAddedOnceInEitherForm) {
  EXPECT_EQ(pg::WithConnectTimeout("host=h dbname=d", 2), "host=h dbname=d connect_timeout=2");
  EXPECT_EQ(pg::WithConnectTimeout("postgres://h/d", 2), "postgres://h/d?connect_timeout=2");
  EXPECT_EQ(pg::WithConnectTimeout("postgres://h/d?sslmode=disable", 2),
            "postgres://h/d?sslmode=disable&connect_timeout=2");
  EXPECT_EQ(pg::WithConnectTimeout("host=h connect_timeout=9", 2), "host=h connect_timeout=9");
  EXPECT_EQ(pg::WithKeepalives("host=h"),
            "host=h keepalives=1 keepalives_idle=5 keepalives_interval=2 keepalives_count=3 "
            "tcp_user_timeout=10000");
  EXPECT_EQ(pg::WithKeepalives("postgresql://h/d"),
            "postgresql://h/d?keepalives=1&keepalives_idle=5&keepalives_interval=2&"
            "keepalives_count=3&tcp_user_timeout=10000");
  EXPECT_EQ(pg::WithKeepalives("host=h keepalives=0"), "host=h keepalives=0");
}

TEST(TokensFileTest, ParsesPrincipalsAndRefusesAnythingElse) {
  const std::string hash(64, 'a');
  auto tokens = auth::ParseTokensFile("# comment\n\nstorefront " + hash + "\n  admin " +
                                      std::string(64, 'b') + "  \n");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_THAT(*tokens, ElementsAre(Pair(hash, "storefront"), Pair(std::string(64, 'b'), "admin")));
  for (const std::string& bad : {"nobody " + hash,             // not a principal
                                 "storefront " + hash + " x",  // extra field
                                 "storefront " + std::string(63, 'a'),
                                 "storefront " + std::string(64, 'A'),  // upper-case hex
                                 std::string("storefront")}) {
    EXPECT_EQ(auth::ParseTokensFile(bad).status().code(), absl::StatusCode::kInvalidArgument)
        << bad;
  }
  // The hash is SHA-256 of the token, as lower-case hex.
  EXPECT_EQ(auth::TokenHash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ConfigTest, EveryFlagHasAGiftcardEnvironmentName) {
  EXPECT_EQ(config::EnvNameOf("pg_dsn"), "GIFTCARD_PG_DSN");
  EXPECT_EQ(config::EnvNameOf("tokens_file"), "GIFTCARD_TOKENS_FILE");
}

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

// pg: array literals and DSN parameters.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pg/pool.h"

namespace giftcard {
namespace {

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

}  // namespace
}  // namespace giftcard

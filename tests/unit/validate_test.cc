#include "validate/validate.h"

#include <gtest/gtest.h>

namespace giftcard::validate {
namespace {

TEST(ValidateTest, Ids) {
  EXPECT_TRUE(Id("account_id", "user-42").ok());
  EXPECT_TRUE(Id("request_id", "9f1c2a5e-0b7d-4c3e-8a61-2f4b5c6d7e8f").ok());
  EXPECT_TRUE(Id("x", std::string(128, 'a')).ok());
  for (const std::string& bad :
       {std::string(""), std::string(129, 'a'), std::string("a b"), std::string("gift-funding/EUR"),
        std::string("a\nb"), std::string("caf\xC3\xA9"), std::string(10 * 1024, 'a')}) {
    absl::Status s = Id("account_id", bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(std::string(s.message()).find("account_id"), std::string::npos);
  }
}

TEST(ValidateTest, Countries) {
  EXPECT_TRUE(Country("country", "DE").ok());
  EXPECT_TRUE(Country("country", "GB").ok());
  EXPECT_TRUE(Country("country", "AD").ok());
  EXPECT_TRUE(Country("country", "ZW").ok());
  for (const char* bad : {"", "de", "DEU", "D", "D1", "XX", "UK", "EU"}) {
    EXPECT_EQ(Country("country", bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ValidateTest, Text) {
  EXPECT_TRUE(Text("reference", "", 10).ok());
  EXPECT_TRUE(Text("reference", "Grüße", 10).ok());
  EXPECT_FALSE(Text("reference", "12345678901", 10).ok());
  EXPECT_FALSE(Text("reference", "a\x01", 10).ok());
  EXPECT_FALSE(Text("reference", "\xC3", 10).ok());
  EXPECT_FALSE(Text("reference", "\xC0\xAF", 10).ok());
}

}  // namespace
}  // namespace giftcard::validate

// One page-token format for every list (AIP-158): a token continues only
// its own list and query, and nothing else passes for one.
#include "validate/page_token.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "errors/status.h"

namespace giftcard::page_token {
namespace {

using ::testing::HasSubstr;

TEST(PageTokenTest, ATokenContinuesItsListAndQuery) {
  const std::string token = Encode("ledger_entries", {"acct-1", "", "1700000000000000"}, "42");
  absl::StatusOr<std::string> position =
      PositionFor(token, "ledger_entries", {"acct-1", "", "1700000000000000"}, "the range");
  ASSERT_TRUE(position.ok()) << position.status();
  EXPECT_EQ(*position, "42");
  absl::StatusOr<Token> decoded = Decode(Encode("batches", {}, "7"), "batches", 0);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_TRUE(decoded->filter.empty());
  EXPECT_EQ(decoded->position, "7");
  decoded = Decode(Encode("codes", {"", ""}, "GC1"), "codes", 2);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->filter, (std::vector<std::string>{"", ""}));
}

TEST(PageTokenTest, AnotherQueryOrListIsRefusedOnPageToken) {
  const std::string token = Encode("ledger_entries", {"acct-1", "", ""}, "42");
  absl::StatusOr<std::string> other = PositionFor(token, "ledger_entries", {"acct-2", "", ""},
                                                  "account_id, start_time and end_time");
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(other.status().message(), HasSubstr("another account_id, start_time and end_time"));
  ASSERT_EQ(errors::FieldViolationsOf(other.status()).size(), 1u);
  EXPECT_EQ(errors::FieldViolationsOf(other.status())[0].first, "page_token");
  EXPECT_FALSE(PositionFor(token, "dormant_accounts", {"acct-1", "", ""}, "days").ok());
  EXPECT_FALSE(Decode(token, "ledger_entries", 2).ok());  // Another filter's shape.
}

TEST(PageTokenTest, NothingElsePassesForAToken) {
  for (const std::string& junk :
       {std::string("%%%"), std::string(""), absl::WebSafeBase64Escape("p1"),
        absl::WebSafeBase64Escape("p1\x1f"
                                  "batches\x1f"),  // No position.
        absl::WebSafeBase64Escape("p2\x1f"
                                  "batches\x1f"
                                  "7"),
        std::string(600, 'A')}) {
    absl::StatusOr<Token> decoded = Decode(junk, "batches", 0);
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument) << junk;
  }
}

TEST(PageTokenTest, AnEarlierFormatSaysToListAgain) {
  absl::StatusOr<Token> old =
      Decode(absl::WebSafeBase64Escape("v2|acct-1|42||"), "ledger_entries", 3);
  EXPECT_EQ(old.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(old.status().message(), HasSubstr("earlier version"));
  old = Decode(absl::WebSafeBase64Escape("b1\x1f"
                                         "12"),
               "batches", 0);
  EXPECT_THAT(old.status().message(), HasSubstr("list again"));
}

}  // namespace
}  // namespace giftcard::page_token

// auth: the tokens file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "auth/authorizer.h"

namespace giftcard {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

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

}  // namespace
}  // namespace giftcard

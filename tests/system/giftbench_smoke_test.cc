// giftbench is a tool, not a test: this only proves it runs against real
// services for a few seconds and that the audit after it is clean.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

std::string RunGiftbench(Suite& suite, const std::string& args) {
  const std::string command = absl::StrCat(
      AddressesEnv(suite), "GIFTCARD_TOKEN_STOREFRONT=", kStorefrontToken,
      " GIFTCARD_TOKEN_BILLING_SYSTEM=", kBillingSystemToken, " GIFTCARD_TOKEN_ADMIN=", kAdminToken,
      " CODE_VAULT_DSN='", suite.code_vault_dsn, "' ACCOUNT_CREDIT_DSN='", suite.account_credit_dsn,
      "' BILLING_DSN='", suite.billing_dsn, "' ", GIFTCARD_BUILD_DIR_FOR_TESTS,
      "/tools/giftbench/giftbench ", args, " 2>&1; echo exit=$?");
  return RunCommand(command).out;
}

TEST(GiftbenchSmokeTest, RedeemAndApplyCreditRunsLeaveTheBooksClean) {
  Suite suite;
  std::string out =
      RunGiftbench(suite,
                   "--scenario=redeem --concurrency=4 --duration=2s --warmup=0s --codes=3000 "
                   "--accounts=20 --audit");
  EXPECT_THAT(out, ::testing::HasSubstr("\"scenario\":\"redeem\"")) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("audit: clean")) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("exit=0")) << out;
  out = RunGiftbench(suite,
                     "--scenario=mixed --rate=100 --duration=2s --warmup=0s --codes=1000 "
                     "--accounts=20 --flood_rate=50 --audit");
  EXPECT_THAT(out, ::testing::HasSubstr("\"mode\":\"open\"")) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("audit: clean")) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("exit=0")) << out;
}

}  // namespace
}  // namespace giftcard::testing

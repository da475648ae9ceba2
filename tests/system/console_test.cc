// The support console in a real browser: this test starts the services and
// the gateway, makes a redeemed card with an invoice and an active card,
// then runs console_browser.py (Selenium driving Debian's headless
// chromium), and checks afterwards over gRPC what the admin's clicks did.
// Screenshots of each page land in build/Testing/artifacts/console/.
#include <gtest/gtest.h>

#include <algorithm>

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

bool IsPng(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  in.read(magic, sizeof magic);
  return in.gcount() == 8 && std::string(magic + 1, 3) == "PNG";
}

TEST(ConsoleTest, SupportLooksUpAdminBlocksAndUnblocksInARealBrowser) {
  Suite suite;
  GatewayProcess gateway = StartGateway(suite);
  ASSERT_GT(gateway.http_port, 0);
  ASSERT_TRUE(suite.UpsertAccount("console-dana", "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  const std::vector<v1::IssuedCode> codes = suite.IssueActiveCodes(2, 2500, "EUR", "DE");
  ASSERT_TRUE(suite.Redeem(codes[0].code(), "console-dana", "console-redeem").ok());
  v1::CreditApplication app;
  ASSERT_TRUE(suite.ApplyCredit("console-inv-1", "console-dana", 999, "EUR", &app).ok());

  const std::string shots =
      absl::StrCat(GIFTCARD_BUILD_DIR_FOR_TESTS, "/Testing/artifacts/console");
  const ShellRun run = RunCommand(absl::StrCat(
      "/usr/bin/python3 ", GIFTCARD_SOURCE_DIR_FOR_TESTS, "/tests/system/console_browser.py",
      " --url=http://127.0.0.1:", gateway.http_port, " --support-token=", kSupportToken,
      " --admin-token=", kAdminToken, " --redeemed-serial=", codes[0].serial(),
      " --account=console-dana --invoice=console-inv-1 --active-serial=", codes[1].serial(),
      " --redeemed-pin=", codes[0].code(),
      " --shots=", shots));
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  // The PIN typed into the serial box left no trace in the gateway's log.
  std::string pin = codes[0].code();
  pin.erase(std::remove(pin.begin(), pin.end(), '-'), pin.end());
  ASSERT_EQ(pin.size(), 16u);
  EXPECT_FALSE(absl::StrContains(gateway.process->SettledLog(), pin));
  EXPECT_FALSE(absl::StrContains(gateway.process->SettledLog(), codes[0].code()));
  for (const char* name : {"01-sign-in.png", "02-support-card.png", "03-support-statement.png",
                           "04-support-invoice.png", "05-admin-blocked.png",
                           "06-admin-unblocked.png", "07-phone-card.png"}) {
    EXPECT_TRUE(IsPng(shots + "/" + name)) << name;
  }

  // What the admin's clicks did: blocked, then unblocked, each change with
  // the admin as its principal and the reason typed in the console.
  v1::CodeStatus status;
  ASSERT_TRUE(suite.GetCodeStatus(codes[1].serial(), &status).ok());
  EXPECT_EQ(status.state(), v1::CODE_STATE_ACTIVE);
  v1::ListCodeChangesRequest r;
  r.set_serial(codes[1].serial());
  v1::ListCodeChangesResponse changes;
  ASSERT_TRUE(suite.vault_stub->ListCodeChanges(Context(kSupportToken).get(), r, &changes).ok());
  ASSERT_GE(changes.changes_size(), 2);
  const v1::CodeChange& blocked = changes.changes(changes.changes_size() - 2);
  const v1::CodeChange& unblocked = changes.changes(changes.changes_size() - 1);
  EXPECT_EQ(blocked.to_state(), v1::CODE_STATE_BLOCKED);
  EXPECT_EQ(blocked.principal(), "admin");
  EXPECT_EQ(blocked.reason(), "console test: fraud report");
  EXPECT_EQ(unblocked.to_state(), v1::CODE_STATE_ACTIVE);
  EXPECT_EQ(unblocked.reason(), "console test: case closed");
  // Support's lookups changed nothing on the redeemed card.
  ASSERT_TRUE(suite.GetCodeStatus(codes[0].serial(), &status).ok());
  EXPECT_EQ(status.state(), v1::CODE_STATE_REDEEMED);
}

}  // namespace
}  // namespace giftcard::testing

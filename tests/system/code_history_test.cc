// Who did it: every admin change of a code records the
// caller's principal, the reason and the request id next to the change;
// GetCodeStatus shows the latest, ListCodeChanges (and `giftctl codes
// history`) every one; support reads them and changes nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::HasSubstr;

// One change as "FROM>TO principal|reason|request_id|redemption?".
std::string Line(const v1::CodeChange& c) {
  return absl::StrCat(v1::CodeState_Name(c.from_state()), ">", v1::CodeState_Name(c.to_state()),
                      " ", c.principal(), "|", c.reason(), "|", c.request_id(), "|",
                      c.redemption_id().empty() ? "" : "redemption");
}

std::vector<v1::CodeChange> History(Suite& suite, const std::string& serial, int page_size,
                                    const std::string& token = kSupportToken) {
  std::vector<v1::CodeChange> out;
  v1::ListCodeChangesRequest request;
  request.set_serial(serial);
  request.set_page_size(page_size);
  for (int pages = 0; pages < 100; ++pages) {
    v1::ListCodeChangesResponse response;
    grpc::Status s = suite.vault_stub->ListCodeChanges(Context(token).get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok()) break;
    out.insert(out.end(), response.changes().begin(), response.changes().end());
    if (response.next_page_token().empty()) break;
    request.set_page_token(response.next_page_token());
  }
  return out;
}

TEST(CodeHistoryTest, EveryAdminChangeNamesItsCallerReasonAndRequest) {
  Suite suite;
  const std::string holder = UniqueName("holder");
  ASSERT_TRUE(suite.UpsertAccount(holder, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  const std::vector<v1::IssuedCode> codes = suite.IssueCodes(2, 2500, "EUR", "DE", "issue-1");
  ASSERT_EQ(codes.size(), 2u);
  const std::string serial = codes[0].serial();
  auto admin = [&] { return Context(kAdminToken); };
  v1::ActivateCodesRequest activate;
  activate.set_batch_id(codes[0].batch_id());
  activate.set_request_id("activate-1");
  v1::ActivateCodesResponse activated;
  ASSERT_TRUE(suite.vault_stub->ActivateCodes(admin().get(), activate, &activated).ok());
  v1::BlockCodesRequest block;
  block.add_serials(serial);
  block.set_reason("fraud case 17");
  block.set_request_id("block-1");
  v1::BlockCodesResponse blocked;
  ASSERT_TRUE(suite.vault_stub->BlockCodes(admin().get(), block, &blocked).ok());
  v1::UnblockCodesRequest unblock;
  unblock.add_serials(serial);
  unblock.set_reason("cleared by support");
  unblock.set_request_id("unblock-1");
  v1::UnblockCodesResponse unblocked;
  ASSERT_TRUE(suite.vault_stub->UnblockCodes(admin().get(), unblock, &unblocked).ok());
  ASSERT_TRUE(suite.Redeem(codes[0].code(), holder, "r1").ok());
  v1::ReverseRedemptionRequest clawback;
  clawback.set_serial(serial);
  clawback.set_reason("chargeback 4711");
  clawback.set_request_id("clawback-1");
  clawback.set_then_state(v1::CODE_STATE_BLOCKED);
  v1::Clawback clawed;
  ASSERT_TRUE(suite.vault_stub->ReverseRedemption(admin().get(), clawback, &clawed).ok());
  v1::VoidCodesRequest void_request;
  void_request.add_serials(codes[1].serial());
  void_request.set_reason("lost in transit");
  void_request.set_request_id("void-1");
  v1::VoidCodesResponse voided;
  ASSERT_TRUE(suite.vault_stub->VoidCodes(admin().get(), void_request, &voided).ok());

  // Read as support, in pages of two: every change, in order, once.
  std::vector<std::string> lines;
  std::vector<v1::CodeChange> changes = History(suite, serial, 2);
  for (const auto& c : changes) lines.push_back(Line(c));
  EXPECT_THAT(
      lines,
      ::testing::ElementsAre(
          "CODE_STATE_UNSPECIFIED>CODE_STATE_ISSUED admin||issue-1|",
          "CODE_STATE_ISSUED>CODE_STATE_ACTIVE admin||activate-1|",
          "CODE_STATE_ACTIVE>CODE_STATE_BLOCKED admin|fraud case 17|block-1|",
          "CODE_STATE_BLOCKED>CODE_STATE_ACTIVE admin|cleared by support|unblock-1|",
          // A redemption's steps: the storefront that asked, its request id.
          "CODE_STATE_ACTIVE>CODE_STATE_REDEEMING storefront||r1|redemption",
          "CODE_STATE_REDEEMING>CODE_STATE_REDEEMED storefront||r1|redemption",
          "CODE_STATE_REDEEMED>CODE_STATE_BLOCKED admin|chargeback 4711|clawback-1|redemption"));
  for (size_t i = 1; i < changes.size(); ++i) {
    EXPECT_GT(changes[i].change_id(), changes[i - 1].change_id());
    EXPECT_GE(changes[i].change_time().seconds(), changes[i - 1].change_time().seconds());
  }
  // The other code of the batch has its own trail, ending in its void.
  std::vector<v1::CodeChange> other = History(suite, codes[1].serial(), 100);
  ASSERT_EQ(other.size(), 3u);
  EXPECT_EQ(Line(other[2]), "CODE_STATE_ACTIVE>CODE_STATE_VOIDED admin|lost in transit|void-1|");

  // GetCodeStatus shows the latest change.
  v1::CodeStatus status;
  ASSERT_TRUE(suite.GetCodeStatus(serial, &status).ok());
  EXPECT_EQ(Line(status.last_change()),
            "CODE_STATE_REDEEMED>CODE_STATE_BLOCKED admin|chargeback 4711|clawback-1|redemption");
  EXPECT_EQ(status.last_change().change_id(), changes.back().change_id());

  // Support reads and changes nothing.
  const std::string before = suite.ContentsDigest();
  block.set_request_id("block-by-support");
  EXPECT_EQ(
      suite.vault_stub->BlockCodes(Context(kSupportToken).get(), block, &blocked).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(History(suite, serial, 100).size(), changes.size());
  EXPECT_EQ(suite.ContentsDigest(), before);

  // giftctl prints the trail, as support.
  ShellRun run = RunCommand(absl::StrCat(AddressesEnv(suite), "GIFTCTL_TOKEN=", kSupportToken,
                                         " GIFTCTL_TOKEN_FILE= ", GIFTCARD_GIFTCTL,
                                         " codes history ", serial));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("ACTIVE → BLOCKED"));
  EXPECT_THAT(run.out, HasSubstr("fraud case 17"));
  EXPECT_THAT(run.out, HasSubstr("clawback-1"));
  EXPECT_THAT(run.out, ::testing::ContainsRegex("REDEEMING → REDEEMED +storefront +- +r1"))
      << run.out;
  run =
      RunCommand(absl::StrCat(AddressesEnv(suite), "GIFTCTL_TOKEN=", kSupportToken,
                              " GIFTCTL_TOKEN_FILE= ", GIFTCARD_GIFTCTL, " codes status ", serial));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("REDEEMED → BLOCKED by admin: chargeback 4711"));
}

TEST(CodeHistoryTest, UnknownSerialsAndForeignPageTokensAreRefused) {
  Suite suite;
  auto codes = suite.IssueActiveCodes(2, 500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 2u);
  v1::ListCodeChangesRequest request;
  request.set_serial("GC999999999999");
  v1::ListCodeChangesResponse response;
  EXPECT_EQ(
      ReasonOf(suite.vault_stub->ListCodeChanges(Context(kSupportToken).get(), request, &response)),
      "CODE_NOT_FOUND");
  request.set_serial(codes[0].serial());
  request.set_page_size(1);
  ASSERT_TRUE(
      suite.vault_stub->ListCodeChanges(Context(kSupportToken).get(), request, &response).ok());
  ASSERT_FALSE(response.next_page_token().empty());
  request.set_serial(codes[1].serial());  // Another code's token.
  request.set_page_token(response.next_page_token());
  grpc::Status s =
      suite.vault_stub->ListCodeChanges(Context(kSupportToken).get(), request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page_token"));
}

}  // namespace
}  // namespace giftcard::testing

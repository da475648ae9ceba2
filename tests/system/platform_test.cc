// What every service offers besides its API: health, reflection, migrations,
// and a ledger the database itself keeps append-only.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "server/client.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::Contains;
using ::testing::Each;
using ::testing::Eq;

std::vector<std::string> ListServices(const std::string& address) {
  namespace refl = grpc::reflection::v1alpha;
  auto stub = refl::ServerReflection::NewStub(server::MakeChannel(address));
  auto ctx = Context("");
  auto stream = stub->ServerReflectionInfo(ctx.get());
  refl::ServerReflectionRequest request;
  request.set_list_services("");
  std::vector<std::string> names;
  if (!stream->Write(request)) return names;
  stream->WritesDone();
  refl::ServerReflectionResponse response;
  while (stream->Read(&response)) {
    for (const auto& s : response.list_services_response().service()) names.push_back(s.name());
  }
  stream->Finish();
  return names;
}

class PlatformTest : public ::testing::Test {
 protected:
  Suite suite_;
};

TEST_F(PlatformTest, EveryServiceIsServingAndReflectsItsApi) {
  EXPECT_TRUE(WaitForHealth(suite_.code_vault_addr, "SERVING", absl::Seconds(10)));
  EXPECT_TRUE(WaitForHealth(suite_.account_credit_addr, "SERVING", absl::Seconds(10)));
  EXPECT_TRUE(WaitForHealth(suite_.billing_addr, "SERVING", absl::Seconds(10)));
  EXPECT_THAT(ListServices(suite_.code_vault_addr), Contains("giftcard.v1.CodeVault"));
  EXPECT_THAT(ListServices(suite_.account_credit_addr), Contains("giftcard.v1.AccountCredit"));
  EXPECT_THAT(ListServices(suite_.billing_addr), Contains("giftcard.v1.Billing"));
  EXPECT_THAT(ListServices(suite_.billing_addr), Contains("grpc.health.v1.Health"));
}

TEST_F(PlatformTest, MigrationsAreRecordedAndAReplicaStartsOnTheSameDatabase) {
  EXPECT_THAT(QueryColumn(suite_.code_vault_dsn, "SELECT name FROM schema_migrations"),
              Contains("001_codes"));
  // A second replica on the same database applies nothing twice and serves.
  std::string address;
  auto replica = Suite::StartService("account-credit", {},
                                     {{"GIFTCARD_PG_DSN", suite_.account_credit_dsn}}, &address);
  EXPECT_TRUE(WaitForHealth(address, "SERVING", absl::Seconds(10)));
  const auto applied =
      QueryColumn(suite_.account_credit_dsn, "SELECT count(*) FROM schema_migrations");
  replica.reset();
  EXPECT_THAT(QueryColumn(suite_.account_credit_dsn, "SELECT count(*) FROM schema_migrations"),
              Eq(applied));
  EXPECT_THAT(QueryColumn(suite_.account_credit_dsn, "SELECT name FROM schema_migrations"),
              Contains("001_ledger"));
}

TEST_F(PlatformTest, TheDatabaseRefusesToChangeOrDeleteLedgerEntries) {
  const std::string account = UniqueName("acct");
  ASSERT_TRUE(suite_.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite_.IssueActiveCodes(1, 900, "EUR", "DE");
  ASSERT_TRUE(suite_.Redeem(codes.at(0).code(), account, "r1").ok());

  pqxx::connection conn(suite_.account_credit_dsn);
  for (const char* sql :
       {"UPDATE ledger_entries SET amount_minor = amount_minor * 2", "DELETE FROM ledger_entries",
        "TRUNCATE ledger_entries", "UPDATE transfers SET amount_minor = 1"}) {
    pqxx::work tx(conn);
    EXPECT_THROW(tx.exec(sql), pqxx::sql_error) << sql;
  }
  EXPECT_THAT(QueryColumn(suite_.account_credit_dsn, "SELECT count(*) FROM ledger_entries"),
              AllEqual("2"));
}

// The harness's digest, which tests take around calls that must write
// nothing, sees a change in any of the three databases, and only a change.
TEST_F(PlatformTest, TheContentsDigestSeesEveryChangeAndOnlyAChange) {
  const std::string before = suite_.ContentsDigest();
  EXPECT_EQ(suite_.ContentsDigest(), before);
  for (const std::string& dsn :
       {suite_.account_credit_dsn, suite_.code_vault_dsn, suite_.billing_dsn}) {
    const std::string start = suite_.ContentsDigest();
    ASSERT_EQ(ExecSql(dsn, "UPDATE event_counter SET pruned_through = pruned_through + 1"), "");
    EXPECT_NE(suite_.ContentsDigest(), start) << dsn;
  }
}

}  // namespace
}  // namespace giftcard::testing

// Point-in-time restore (pgBackRest): load, back up, load, remember T, load,
// restore to T. Every redemption acknowledged before T is there and none
// after; the audit is clean; a follower that had read past T is told where
// the restored stream goes on, and one that had not reads on. Once on the
// local stack (one Postgres for the three databases) and once on the HA
// stack (GIFTCARD_HA=1: a Patroni cluster per service, three archives
// restored to the one T, each cluster bootstrapped from its backup).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "support/harness.h"
#include "support/local_stack.h"

namespace giftcard::testing {
namespace {

using ::testing::HasSubstr;

class PitrTest : public ::testing::TestWithParam<bool> {
 protected:
  ShellRun Stack(const std::string& verb) { return stack_.Run(verb); }
  ShellRun WithEnv(const std::string& command) { return stack_.WithEnv(command); }
  std::string Tool(const std::string& name) { return stack_.Tool(name); }
  // Redemptions for 2 s at 100/s, each answered; their count.
  int Load() {
    ShellRun run = WithEnv(Tool("giftbench") +
                           " --scenario=redeem --rate=100 --duration=2s --warmup=0s --codes=300"
                           " --accounts=20");
    EXPECT_EQ(run.exit_code, 0) << DescribeRun(run);
    EXPECT_THAT(run.out, HasSubstr("\"errors\":{}")) << run.out;
    std::smatch m;
    int ok = 0;
    if (std::regex_search(run.out, m, std::regex("\"ok\":([0-9]+)"))) {
      (void)absl::SimpleAtoi(m[1].str(), &ok);
    }
    return ok;
  }
  // One value from a service's database.
  std::string Sql(const std::string& dsn_variable, const std::string& sql) {
    ShellRun run = WithEnv(absl::StrCat("psql \"$", dsn_variable, "\" -qAtc \"", sql, "\""));
    EXPECT_EQ(run.exit_code, 0) << DescribeRun(run);
    return std::string(absl::StripAsciiWhitespace(run.out));
  }
  // The code-vault's newest event id and its stream_epoch, as a follower reads them.
  std::pair<int64_t, std::string> NewestEvent() {
    ShellRun run = WithEnv(Tool("giftctl") + " --json events list --service=code-vault");
    EXPECT_EQ(run.exit_code, 0) << DescribeRun(run);
    std::smatch m;
    std::string epoch;
    int64_t id = 0;
    const std::regex event_id("\"event_id\":\"?([0-9]+)\"?");
    for (auto it = std::sregex_iterator(run.out.begin(), run.out.end(), event_id);
         it != std::sregex_iterator(); ++it) {
      int64_t v = 0;
      (void)absl::SimpleAtoi((*it)[1].str(), &v);
      id = std::max(id, v);
    }
    if (std::regex_search(run.out, m, std::regex("\"stream_epoch\":\"([^\"]+)\""))) epoch = m[1];
    return {id, epoch};
  }

  // Whether, within 60 s, no redemption waits for its credit and `completed`
  // are completed (the recovery worker looks every 5 s).
  bool Settled(int completed) {
    const std::string want = absl::StrCat("0 ", completed);
    std::string got;
    for (int i = 0; i < 120; ++i) {
      got = Sql("CODE_VAULT_PG_DSN",
                "SELECT count(*) FILTER (WHERE state <> 'COMPLETED') || ' ' || "
                "count(*) FILTER (WHERE state = 'COMPLETED') FROM redemptions");
      if (got == want) return true;
      absl::SleepFor(absl::Milliseconds(500));
    }
    ADD_FAILURE() << "not completed / completed: " << got << ", want " << want;
    return false;
  }

  LocalStack stack_{GIFTCARD_BUILD_DIR_FOR_TESTS, GIFTCARD_SOURCE_DIR_FOR_TESTS, "pitr-test",
                    GetParam() ? "GIFTCARD_HA=1" : ""};
};

// Count and digest of the completed redemptions, of those waiting for their
// credit, and of all of them; the credits account-credit posted.
constexpr char kRedemptions[] =
    "SELECT count(*) || ':' || md5(string_agg(redemption_id::text, ',' ORDER BY redemption_id)) "
    "FROM redemptions WHERE state = 'COMPLETED'";
constexpr char kPending[] =
    "SELECT count(*) || ':' || md5(string_agg(redemption_id::text, ',' ORDER BY redemption_id)) "
    "FROM redemptions WHERE state = 'PENDING'";
constexpr char kAllRedemptions[] =
    "SELECT count(*) || ':' || md5(string_agg(redemption_id::text, ',' ORDER BY redemption_id)) "
    "FROM redemptions";
constexpr char kCredits[] = "SELECT count(*) FROM transfers WHERE kind = 'CREDIT'";

TEST_P(PitrTest, RestoredToTEveryRedemptionBeforeItIsThereAndNoneAfterIt) {
  ShellRun run = Stack("up");
  ASSERT_EQ(run.exit_code, 0) << DescribeRun(run);
  ASSERT_EQ(Load(), 200);
  run = Stack("backup");
  ASSERT_EQ(run.exit_code, 0) << DescribeRun(run);
  EXPECT_THAT(run.out, HasSubstr("full backup of"));
  EXPECT_THAT(run.out, ::testing::Not(HasSubstr("incr backup")));
  ASSERT_EQ(Load(), 200);

  // Three sagas in flight at T: account-credit is away while three cards
  // are redeemed, so each is reserved in the vault and waits for its credit.
  run = WithEnv(absl::StrCat(
      "set -e; g=", Tool("giftctl"), "; cards=", stack_.dir(), "/cards.csv",
      "; $g codes issue --count=3 --amount=25.00 --currency=EUR --region=DE --plaintext"
      " --out=$cards >/dev/null",
      "; batch=$($g codes status --json $(sed -n 2p $cards | cut -d, -f1) |"
      " sed -n 's/.*\"batch_id\":\"\\([^\"]*\\)\".*/\\1/p')",
      "; $g codes activate --batch_id=$batch >/dev/null",
      "; curl -fsS -X PUT $GATEWAY_URL/v1/accounts/in-flight -H \"Authorization: Bearer"
      " $GIFTCARD_TOKEN_STOREFRONT\" -d '{\"country\":\"DE\",\"currency_code\":\"EUR\","
      "\"billing_channel\":\"BILLING_CHANNEL_DIRECT\"}' >/dev/null",
      "; kill $(cat ", stack_.dir(), "/account-credit.pid); sleep 0.5",
      "; for n in 2 3 4; do curl -sS -X POST $GATEWAY_URL/v1/codes:redeem -H \"Authorization:"
      " Bearer $GIFTCARD_TOKEN_STOREFRONT\" -d \"{\\\"code\\\":\\\"$(sed -n ${n}p $cards |"
      " cut -d, -f2)\\\",\\\"account_id\\\":\\\"in-flight\\\",\\\"request_id\\\":\\\"r$n\\\","
      "\\\"client_ip\\\":\\\"203.0.113.7\\\"}\"; echo; done"));
  ASSERT_EQ(run.exit_code, 0) << DescribeRun(run);
  EXPECT_THAT(run.out, HasSubstr("DEPENDENCY_UNAVAILABLE")) << run.out;

  // T, with no call in flight a second either side of it.
  absl::SleepFor(absl::Milliseconds(1200));
  const std::string t = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone());
  const std::string vault_at_t = Sql("CODE_VAULT_PG_DSN", kRedemptions);
  const std::string all_at_t = Sql("CODE_VAULT_PG_DSN", kAllRedemptions);
  const auto [last_at_t, epoch_before] = NewestEvent();
  const std::string pending_at_t = Sql("CODE_VAULT_PG_DSN", kPending);
  const std::string credits_at_t = Sql("ACCOUNT_CREDIT_PG_DSN", kCredits);
  ASSERT_THAT(vault_at_t, ::testing::StartsWith("400:"));
  ASSERT_THAT(pending_at_t, ::testing::StartsWith("3:"));
  ASSERT_EQ(credits_at_t, "400");
  ASSERT_GT(last_at_t, 0);
  absl::SleepFor(absl::Milliseconds(1200));

  // account-credit is back (roll restarts every process); the recovery
  // worker settles the three, and the load goes on past T.
  run = Stack("roll");
  ASSERT_EQ(run.exit_code, 0) << DescribeRun(run);
  ASSERT_TRUE(Settled(403)) << "the sagas in flight settle once account-credit is back";
  ASSERT_EQ(Load(), 200);
  const auto [last_after_t, epoch_still] = NewestEvent();
  ASSERT_GT(last_after_t, last_at_t);
  ASSERT_EQ(epoch_still, epoch_before);

  const absl::Time restore_start = absl::Now();
  run = Stack("restore --to=" + t);
  ASSERT_EQ(run.exit_code, 0) << DescribeRun(run);
  // The figure docs/operations.md quotes.
  std::printf("restored %s to T in %.1f s\n",
              GetParam() ? "three Patroni clusters" : "one Postgres",
              absl::ToDoubleSeconds(absl::Now() - restore_start));
  // The restored rows are those of T, the three in flight among them; then
  // the vault's recovery re-drives the three, each credited once.
  EXPECT_EQ(Sql("CODE_VAULT_PG_DSN", kAllRedemptions), all_at_t)
      << "the redemptions as of T, exactly";
  EXPECT_TRUE(Settled(403)) << "the sagas in flight at T settle after the restore";
  EXPECT_EQ(Sql("ACCOUNT_CREDIT_PG_DSN", kCredits), "403");
  run = WithEnv(Tool("giftctl") + " audit");
  EXPECT_EQ(run.exit_code, 0) << DescribeRun(run);
  EXPECT_THAT(run.out, HasSubstr("audit: clean"));

  // A follower that had read past T is told where the streams part.
  run = WithEnv(absl::StrCat(Tool("giftctl"), " events list --service=code-vault --after=",
                             last_after_t, " --stream_epoch=", epoch_before));
  EXPECT_EQ(run.exit_code, 1) << DescribeRun(run);
  EXPECT_THAT(run.err, HasSubstr("restored to an earlier point"));
  EXPECT_THAT(run.err, HasSubstr(absl::StrCat("--after=", last_at_t, " --stream_epoch=")));
  const auto [last_restored, epoch_after] = NewestEvent();
  EXPECT_GE(last_restored, last_at_t);
  EXPECT_NE(epoch_after, epoch_before);
  // One that had not read past T reads on, in the new epoch.
  run = WithEnv(absl::StrCat(Tool("giftctl"), " --json events list --service=code-vault --after=",
                             last_at_t - 3, " --stream_epoch=", epoch_before));
  EXPECT_EQ(run.exit_code, 0) << DescribeRun(run);
  EXPECT_THAT(run.out, HasSubstr(epoch_after));

  // The restored stack takes new redemptions, and its books stay clean.
  EXPECT_EQ(Load(), 200);
  run = WithEnv(Tool("giftctl") + " audit");
  EXPECT_THAT(run.out, HasSubstr("audit: clean")) << DescribeRun(run);
}

INSTANTIATE_TEST_SUITE_P(Stacks, PitrTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Patroni" : "OnePostgres";
                         });

}  // namespace
}  // namespace giftcard::testing

// deploy/local/stack.sh as a developer uses it: up, status, up again, down.
// It says what it deletes (the data) and keeps the logs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

bool Exists(const std::string& path) { return std::ifstream(path).good(); }

class LocalStackTest : public ::testing::Test {
 protected:
  LocalStackTest() {
    char dir[] = "/tmp/giftcard-stack-test-XXXXXX";
    stack_dir_ = mkdtemp(dir);
  }
  ~LocalStackTest() override {
    Stack("down");
    std::system(("rm -rf " + stack_dir_ + " " + stack_dir_ + "-cards.csv").c_str());
  }

  ShellRun Stack(const std::string& verb, const std::string& env = "") {
    return RunCommand(absl::StrCat(env, " GIFTCARD_STACK_DIR=", stack_dir_,
                                   " GIFTCARD_BUILD_DIR=", GIFTCARD_BUILD_DIR_FOR_TESTS, " bash ",
                                   GIFTCARD_SOURCE_DIR_FOR_TESTS, "/deploy/local/stack.sh ", verb));
  }

  // giftctl against the stack, with its env file.
  ShellRun Giftctl(const std::string& args) {
    return RunCommand(absl::StrCat(". ", stack_dir_, "/env && ", GIFTCARD_BUILD_DIR_FOR_TESTS,
                                   "/tools/giftctl/giftctl ", args));
  }

  std::string stack_dir_;
};

std::string Describe(const ShellRun& run) {
  return absl::StrCat("exit ", run.exit_code, "\nstdout:\n", run.out, "\nstderr:\n", run.err);
}

TEST_F(LocalStackTest, UpAndDownSayTheyDeleteTheDataAndKeepTheLogs) {
  ShellRun run = Stack("up");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("the next 'up' or 'down' deletes the data, not the logs"));
  run = Stack("status");
  EXPECT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("code-vault: running"));
  EXPECT_THAT(run.out, HasSubstr("data: " + stack_dir_ +
                                 " (deleted by the next 'up' or 'down'); "
                                 "logs: " +
                                 stack_dir_ + "/logs (kept;"));
  run = Giftctl(
      "--json codes issue --plaintext --count=1 --amount=5 --currency=EUR --region=DE --out=" +
      stack_dir_ + "-cards.csv");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  run = Giftctl("batches list");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("5.00 EUR"));

  // up on a running stack says what it resets, and does reset it.
  run = Stack("up");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.err, HasSubstr("a stack is running; starting a new one: its databases, Redis and "
                                 "tokens are deleted"));
  run = Giftctl("batches list");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out, Not(HasSubstr("5.00 EUR"))) << "the new stack starts empty";
  const std::string log = Slurp(stack_dir_ + "/logs/code-vault.log");
  ASSERT_NE(log.find("stack.sh up at"), std::string::npos) << log;
  EXPECT_NE(log.find("stack.sh up at"), log.rfind("stack.sh up at")) << "both runs' lines are kept";

  // down: data gone, logs kept.
  run = Stack("down");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_THAT(run.out,
              HasSubstr("stack: down (data deleted; logs kept in " + stack_dir_ + "/logs)"));
  EXPECT_FALSE(Exists(stack_dir_ + "/env"));
  EXPECT_FALSE(Exists(stack_dir_ + "/tokens"));
  EXPECT_FALSE(Exists(stack_dir_ + "/code-vault.pid"));
  EXPECT_FALSE(Exists(stack_dir_ + "/pg/pg.port"));
  const std::string kept = Slurp(stack_dir_ + "/logs/code-vault.log");
  EXPECT_EQ(kept.substr(0, log.size()), log) << "the log was replaced, not kept";
  EXPECT_THAT(kept.substr(log.size()), HasSubstr("shutdown_complete"));
  run = Stack("status");
  EXPECT_EQ(run.exit_code, 3) << Describe(run);
  EXPECT_THAT(run.out, HasSubstr("stack: stopped (nothing running;"));
  EXPECT_THAT(run.out, Not(HasSubstr("deleted by the next"))) << "there is nothing to delete";

  // A log past the limit is moved aside when its process starts again.
  ASSERT_EQ(
      RunCommand("head -c 2000000 /dev/zero | tr '\\0' x >> " + stack_dir_ + "/logs/code-vault.log")
          .exit_code,
      0);
  run = Stack("up", "GIFTCARD_STACK_LOG_MAX_MB=1");
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  const std::string rotated = Slurp(stack_dir_ + "/logs/code-vault.log.1");
  EXPECT_GT(rotated.size(), 2000000u);
  EXPECT_EQ(rotated.substr(0, log.size()), log) << "the old lines moved, whole";
  const std::string fresh = Slurp(stack_dir_ + "/logs/code-vault.log");
  EXPECT_LT(fresh.size(), 1000000u);
  EXPECT_THAT(fresh, ::testing::StartsWith("==== deploy/local/stack.sh up at"));
  run = Stack("status");
  EXPECT_THAT(run.out, HasSubstr("each moved to .1, .2, .3 at a start once past 10 MB"));
}

// The services reach Postgres and Redis over their Unix sockets;
// GIFTCARD_STACK_TRANSPORT=tcp keeps loopback TCP, as production has it.
// Each way, a card issued and redeemed shows which one they took.
// The CPUs each thread of the stack's `service` may run on, one list per
// distinct mask ("0\n" when every thread is on CPU 0).
std::string CpusOf(const std::string& stack_dir, const std::string& service) {
  return RunCommand(absl::StrCat("cat /proc/$(cat ", stack_dir, "/", service,
                                 ".pid)/task/*/status | sed -n 's/^Cpus_allowed_list:\\s*//p' | "
                                 "sort -u"))
      .out;
}

TEST_F(LocalStackTest, TheServicesUseUnixSocketsAndOneCpuEachUnlessAskedOtherwise) {
  const std::string all_cpus =
      RunCommand("sed -n 's/^Cpus_allowed_list:\\s*//p' /proc/self/status").out;
  for (const std::string transport : {"unix", "tcp"}) {
    SCOPED_TRACE(transport);
    ShellRun run = Stack(
        "up", transport == "tcp" ? "GIFTCARD_STACK_TRANSPORT=tcp GIFTCARD_STACK_CPUS=off" : "");
    ASSERT_EQ(run.exit_code, 0) << Describe(run);
    if (transport == "tcp") {
      EXPECT_EQ(CpusOf(stack_dir_, "code-vault"), all_cpus);
      EXPECT_EQ(CpusOf(stack_dir_, "account-credit"), all_cpus);
    } else if (all_cpus == "0-1\n") {  // The machines this runs on: 2 CPUs.
      EXPECT_EQ(CpusOf(stack_dir_, "code-vault"), "0\n");
      EXPECT_EQ(CpusOf(stack_dir_, "billing"), "0\n");
      EXPECT_EQ(CpusOf(stack_dir_, "account-credit"), "1\n");
      EXPECT_EQ(CpusOf(stack_dir_, "gateway"), "1\n");
    } else {
      for (const char* service : {"code-vault", "account-credit", "billing", "gateway"}) {
        EXPECT_THAT(CpusOf(stack_dir_, service), MatchesRegex("[0-9]+\n")) << service;
      }
    }
    // giftctl issues and activates a card, the storefront redeems it.
    run = RunCommand(
        absl::StrCat(". ", stack_dir_, "/env && export PATH=", GIFTCARD_BUILD_DIR_FOR_TESTS,
                     "/tools/giftctl:$PATH && cards=", stack_dir_, "-cards.csv && ", R"sh(
      rm -f "$cards" &&
      giftctl codes issue --count=1 --amount=5 --currency=EUR --region=DE --plaintext --out="$cards" &&
      serial=$(sed -n 2p "$cards" | cut -d, -f1) && pin=$(sed -n 2p "$cards" | cut -d, -f2) &&
      batch=$(giftctl codes status --json "$serial" | sed -n 's/.*"batch_id":"\([^"]*\)".*/\1/p') &&
      giftctl codes activate --batch_id="$batch" >/dev/null &&
      curl -fsS -X PUT "$GATEWAY_URL/v1/accounts/holder" -H 'Content-Type: application/json' \
        -H "Authorization: Bearer $GIFTCARD_TOKEN_STOREFRONT" \
        -d '{"country":"DE","currency_code":"EUR","billing_channel":"BILLING_CHANNEL_DIRECT"}' &&
      curl -fsS -X POST "$GATEWAY_URL/v1/codes:redeem" -H 'Content-Type: application/json' \
        -H "Authorization: Bearer $GIFTCARD_TOKEN_STOREFRONT" \
        -d "{\"code\":\"$pin\",\"account_id\":\"holder\",\"request_id\":\"r-1\",\"client_ip\":\"203.0.113.7\"}"
    )sh"));
    ASSERT_EQ(run.exit_code, 0) << Describe(run);
    EXPECT_THAT(run.out, HasSubstr("REDEMPTION_STATE_COMPLETED"));

    // Postgres: the address each service's session came from (empty: the
    // Unix socket). Redis: the address of each client but redis-cli's own.
    run = RunCommand(absl::StrCat(
        ". ", stack_dir_, "/env && psql \"$PG_DSN dbname=postgres\" -qAt -c \"SELECT DISTINCT ",
        "datname || '=' || coalesce(host(client_addr), 'socket') FROM pg_stat_activity ",
        "WHERE datname IN ('code_vault', 'account_credit', 'billing') ORDER BY 1\""));
    ASSERT_EQ(run.exit_code, 0) << Describe(run);
    const std::string how = transport == "tcp" ? "127.0.0.1" : "socket";
    EXPECT_EQ(run.out,
              absl::StrCat("account_credit=", how, "\nbilling=", how, "\ncode_vault=", how, "\n"));
    run = RunCommand(absl::StrCat("redis-cli -p $(cat ", stack_dir_,
                                  "/redis/redis.port) CLIENT LIST | grep -v cmd=client"));
    ASSERT_EQ(run.exit_code, 0) << Describe(run);
    ASSERT_THAT(run.out, HasSubstr("addr=")) << "code-vault holds a Redis connection";
    if (transport == "tcp") {
      EXPECT_THAT(run.out, Not(HasSubstr("redis.sock")));
    } else {
      EXPECT_THAT(run.out, Not(HasSubstr("addr=127.0.0.1")));
      EXPECT_THAT(run.out, HasSubstr("laddr=" + stack_dir_ + "/redis/redis.sock"));
    }
  }
}

}  // namespace
}  // namespace giftcard::testing

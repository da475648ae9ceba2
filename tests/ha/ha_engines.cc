#include "ha/ha_engines.h"

#include <gtest/gtest.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

std::string Database(const std::string& scope) { return absl::StrReplaceAll(scope, {{"-", "_"}}); }

}  // namespace

HaEngines::HaEngines(Postgres postgres) : postgres_(postgres) {
  // Engines of an earlier test process that died before stopping them
  // (a timeout's SIGKILL) would hold ports and CPU: stop them first.
  Ha("for d in /tmp/giftcard-ha.*; do [[ -f $d/owner.pid ]] || continue; "
     "kill -0 $(cat $d/owner.pid) 2>/dev/null && continue; "
     "giftcard_ha_stop_all $d; giftcard_pg_stop $d/pg immediate; rm -rf $d; done; true");
  char tmpl[] = "/tmp/giftcard-ha.XXXXXX";
  dir_ = mkdtemp(tmpl);
  std::string script =
      absl::StrCat("chmod 755 ", dir_, " && echo ", getpid(), " >", dir_, "/owner.pid && ");
  if (postgres_ == Postgres::kPatroni) {
    absl::StrAppend(&script, "ep=$(giftcard_etcd_start ", dir_, "/etcd) && ");
    for (const char* scope : kScopes) {
      absl::StrAppend(&script, "giftcard_patroni_start ", dir_, " ", scope, " $ep && ");
    }
  } else if (postgres_ == Postgres::kOneServer) {
    absl::StrAppend(&script, "pg=$(giftcard_pg_start ", dir_, "/pg) && ");
    for (const char* scope : kScopes) {
      absl::StrAppend(&script, "giftcard_pg_createdb $pg ", Database(scope), " && ");
    }
  }
  absl::StrAppend(&script, "giftcard_redis_ha_start ", dir_, "/redis");
  for (const char* scope : kScopes) {
    if (postgres_ != Postgres::kPatroni) break;
    absl::StrAppend(&script, " && giftcard_patroni_wait_healthy ", dir_, " ", scope,
                    " && psql \"$(giftcard_patroni_dsn ", dir_, " ", scope,
                    ") dbname=postgres target_session_attrs=read-write\" -qAt -c 'CREATE DATABASE ",
                    Database(scope), "'");
  }
  Ha(script);
}

HaEngines::~HaEngines() {
  Ha(absl::StrCat("giftcard_ha_stop_all ", dir_, " && giftcard_pg_stop ", dir_, "/pg immediate"));
  RunCommand(absl::StrCat("rm -f ", dir_, "/owner.pid"));
  // Kept for a failed test's post-mortem (Patroni's and Sentinel's logs),
  // or on request (GIFTCARD_HA_KEEP=1), to time a passing one from its logs.
  const char* keep = getenv("GIFTCARD_HA_KEEP");
  if (::testing::Test::HasFailure() || (keep != nullptr && std::string(keep) == "1")) {
    std::printf("[ha] engines' directory kept: %s\n", dir_.c_str());
    return;
  }
  RunCommand("rm -rf " + dir_);
}

ShellRun HaEngines::RunHa(const std::string& script) const {
  const std::string dir = absl::StrCat(GIFTCARD_SOURCE_DIR_FOR_TESTS, "/deploy/local");
  return RunCommand(absl::StrCat("bash -c '. ", dir, "/servers.sh && . ", dir, "/ha.sh && ",
                                 absl::StrReplaceAll(script, {{"'", "'\\''"}}), "'"));
}

std::string HaEngines::Ha(const std::string& script, bool expect_ok) {
  const ShellRun run = RunHa(script);
  if (expect_ok && run.exit_code != 0) {
    ADD_FAILURE() << "ha.sh failed (" << run.exit_code << "): " << script << "\n"
                  << run.out << run.err;
  }
  return std::string(absl::StripAsciiWhitespace(run.out));
}

std::string HaEngines::Dsn(const std::string& scope) const {
  if (postgres_ == Postgres::kOneServer) {
    const ShellRun run = RunCommand(absl::StrCat("cat ", dir_, "/pg/pg.port"));
    return absl::StrCat("host=127.0.0.1 port=", absl::StripAsciiWhitespace(run.out),
                        " user=postgres dbname=", Database(scope));
  }
  const ShellRun run = RunHa(absl::StrCat("giftcard_patroni_dsn ", dir_, " ", scope));
  return absl::StrCat(absl::StripAsciiWhitespace(run.out), " dbname=", Database(scope),
                      " target_session_attrs=read-write");
}

std::string HaEngines::StandbyDsn(const std::string& scope) const {
  const ShellRun run = RunHa(absl::StrCat("giftcard_patroni_dsn ", dir_, " ", scope));
  return absl::StrCat(absl::StripAsciiWhitespace(run.out), " dbname=", Database(scope),
                      " target_session_attrs=prefer-standby");
}

void HaEngines::PauseReplay(const std::string& scope, bool pause) {
  // Patroni resumes a replica's paused replay on its next loop unless the
  // cluster is in maintenance mode (patronictl pause): hold that as long.
  const std::string patronictl =
      absl::StrCat("patronictl -c ", dir_, "/", scope, "/node1/patroni.yml ");
  const std::string replay = absl::StrCat(
      "while read -r name pg rest; do psql \"host=127.0.0.1 port=$pg user=postgres "
      "dbname=postgres\" -qAt -c \"SELECT pg_wal_replay_",
      pause ? "pause" : "resume", "() WHERE pg_is_in_recovery()\" </dev/null >/dev/null; done <",
      dir_, "/", scope, "/nodes");
  if (pause) {
    Ha(absl::StrCat(patronictl, "pause --wait ", scope, " >/dev/null && ", replay));
  } else {
    Ha(absl::StrCat(replay, " && ", patronictl, "resume --wait ", scope, " >/dev/null"));
  }
}

std::string HaEngines::Sentinels() const {
  return std::string(
      absl::StripAsciiWhitespace(RunCommand(absl::StrCat("cat ", dir_, "/redis/sentinels")).out));
}

int HaEngines::Leader(const std::string& scope) {
  const std::string out =
      Ha(absl::StrCat("giftcard_patroni_leader ", dir_, " ", scope, " | cut -d\" \" -f1"), false);
  const size_t dash = out.rfind('-');
  int node = 0;
  if (dash == std::string::npos || !absl::SimpleAtoi(out.substr(dash + 1), &node)) return 0;
  return node;
}

void HaEngines::KillNode(const std::string& scope, int node) {
  Ha(absl::StrCat("giftcard_patroni_kill ", dir_, " ", scope, " ", node));
}

void HaEngines::ReplaceNode(const std::string& scope, int node) {
  Ha(absl::StrCat("giftcard_patroni_node_start ", dir_, " ", scope, " ", node, " fresh"));
}

bool HaEngines::WaitHealthy(const std::string& scope, int seconds) {
  return RunHa(absl::StrCat("giftcard_patroni_wait_healthy ", dir_, " ", scope, " ", seconds))
             .exit_code == 0;
}

std::string HaEngines::Switchover(const std::string& scope) {
  const int leader = Leader(scope);
  const ShellRun run = RunCommand(absl::StrCat("patronictl -c ", dir_, "/", scope,
                                               "/node1/patroni.yml switchover --force --leader ",
                                               scope, "-", leader, " ", scope, " 2>&1"));
  if (run.exit_code == 0 && run.out.find("Successfully switched over") != std::string::npos) {
    return "";
  }
  return run.out + run.err;
}

std::string HaEngines::List(const std::string& scope) {
  return Ha(absl::StrCat("giftcard_patroni_list ", dir_, " ", scope), false);
}

int HaEngines::RedisMasterPort() {
  const std::string out = Ha(absl::StrCat("giftcard_redis_ha_master ", dir_, "/redis"), false);
  const size_t space = out.rfind(' ');
  int port = 0;
  if (space == std::string::npos || !absl::SimpleAtoi(out.substr(space + 1), &port)) return 0;
  return port;
}

void HaEngines::KillRedisMaster() {
  const int port = RedisMasterPort();
  ASSERT_NE(port, 0) << "no sentinel names a master";
  Ha(absl::StrCat("kill -9 $(redis-cli -p ", port,
                  " info server | sed -n \"s/^process_id:\\([0-9]*\\).*/\\1/p\")"));
}

int HaEngines::RedisReplicaPort() {
  const int master = RedisMasterPort();
  for (const char* server : {"master", "replica"}) {
    int port = 0;
    if (absl::SimpleAtoi(
            absl::StripAsciiWhitespace(
                RunCommand(absl::StrCat("cat ", dir_, "/redis/", server, ".port")).out),
            &port) &&
        port != master) {
      return port;
    }
  }
  return 0;
}

bool HaEngines::WaitRedisHealthy(int seconds) {
  return RunHa(absl::StrCat("giftcard_redis_ha_wait_healthy ", dir_, "/redis ", seconds))
             .exit_code == 0;
}

}  // namespace giftcard::testing

// Test harness: SQL against the test databases: creating them, reading them, holding row locks.
#include "support/sql.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <pqxx/pqxx>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "audit/audit.h"
#include "audit/wire.h"
#include "auth/authorizer.h"
#include "codes/codes.h"
#include "config/files.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/client.h"
#include "support/harness_internal.h"
#include "support/suite.h"  // UniqueName

namespace giftcard::testing {

using internal::LogDir;
using internal::ParseEnvFile;
using internal::ReadFile;
using internal::RunShell;

std::string CreateDatabase(int pg_port, const std::string& prefix) {
  const std::string base = absl::StrCat("host=127.0.0.1 port=", pg_port, " user=postgres");
  const std::string name = UniqueName(prefix);
  pqxx::connection conn(base + " dbname=postgres");
  pqxx::nontransaction tx(conn);
  tx.exec("CREATE DATABASE " + conn.quote_name(name));
  return base + " dbname=" + name;
}

std::vector<std::string> QueryColumn(const std::string& dsn, const std::string& sql) {
  pqxx::connection conn(dsn);
  pqxx::work tx(conn);
  std::vector<std::string> out;
  for (const auto& row : tx.exec(sql)) out.push_back(row[0].is_null() ? "NULL" : row[0].c_str());
  return out;
}

std::string QueryValue(const std::string& dsn, const std::string& sql) {
  const std::vector<std::string> rows = QueryColumn(dsn, sql);
  return rows.size() == 1 ? rows[0] : absl::StrCat("(", rows.size(), " rows)");
}

std::string ExecSql(const std::string& dsn, const std::string& sql) {
  try {
    pqxx::connection conn(dsn);
    pqxx::nontransaction tx(conn);
    tx.exec(sql);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

struct RowLock::Impl {
  pqxx::connection conn;
  std::unique_ptr<pqxx::work> tx;
  explicit Impl(const std::string& dsn) : conn(dsn) {}
};

RowLock::RowLock(const std::string& dsn, const std::string& sql)
    : impl_(std::make_unique<Impl>(dsn)) {
  impl_->tx = std::make_unique<pqxx::work>(impl_->conn);
  const pqxx::result locked = impl_->tx->exec(sql);
  EXPECT_FALSE(locked.empty()) << "nothing locked by " << sql;
}

RowLock::~RowLock() { Release(); }

void RowLock::Release() {
  if (impl_->tx) {
    impl_->tx->abort();
    impl_->tx.reset();
  }
}

std::string RowLock::Exec(const std::string& sql) {
  if (!impl_->tx) return "ERROR: released";
  try {
    const pqxx::result r = impl_->tx->exec(sql);
    return r.empty() || r[0].empty() || r[0][0].is_null() ? "" : r[0][0].c_str();
  } catch (const std::exception& e) {
    impl_->tx.reset();  // Failed: Postgres rolled the transaction back.
    return std::string("ERROR: ") + e.what();
  }
}

void RowLock::Commit() {
  if (impl_->tx) {
    impl_->tx->commit();
    impl_->tx.reset();
  }
}

int LockWaiters(const std::string& dsn, const std::string& query_like) {
  std::string sql =
      "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
      "wait_event_type = 'Lock'";
  if (!query_like.empty()) absl::StrAppend(&sql, " AND query LIKE '", query_like, "'");
  return std::stoi(QueryColumn(dsn, sql).at(0));
}

bool WaitForLockWaiters(const std::string& dsn, int n, absl::Duration timeout,
                        const std::string& query_like) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (LockWaiters(dsn, query_like) >= n) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return LockWaiters(dsn, query_like) >= n;
}

}  // namespace giftcard::testing

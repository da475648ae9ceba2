// SQL from tests: fresh databases, queries, statements, and row locks held
// to make a service wait.
#ifndef GIFTCARD_TESTS_SUPPORT_SQL_H_
#define GIFTCARD_TESTS_SUPPORT_SQL_H_

#include <gmock/gmock.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace giftcard::testing {

// Creates a fresh database on 127.0.0.1:pg_port and returns its DSN.
std::string CreateDatabase(int pg_port, const std::string& prefix);

// Runs one SQL query on `dsn` and returns the first column of each row.
std::vector<std::string> QueryColumn(const std::string& dsn, const std::string& sql);

// The one value `sql` returns on `dsn`, or "(N rows)" when it returns N != 1
// rows (so a poll never indexes an empty result).
std::string QueryValue(const std::string& dsn, const std::string& sql);

// Matches a result set whose every element equals `value` and that has at
// least one (Each alone passes on none).
inline auto AllEqual(const std::string& value) {
  return ::testing::AllOf(::testing::Not(::testing::IsEmpty()),
                          ::testing::Each(::testing::Eq(value)));
}

// Runs SQL statements on `dsn`: "" when they succeeded, else the error.
std::string ExecSql(const std::string& dsn, const std::string& sql);

// Holds a row lock in its own transaction on `dsn` until Release() (a
// rollback), Commit() or destruction (a rollback): `sql` is a SELECT … FOR
// UPDATE, or an INSERT … RETURNING whose new keys others then wait on.
class RowLock {
 public:
  RowLock(const std::string& dsn, const std::string& sql);
  ~RowLock();
  void Release();
  void Commit();
  // Runs `sql` in the same transaction, waiting for its locks: its first
  // value, or "ERROR: …" (the transaction is then over).
  std::string Exec(const std::string& sql);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Backends of the database behind `dsn` waiting for a lock now; with
// `query_like`, only those whose statement is LIKE it (one a test wrote,
// without quotes).
int LockWaiters(const std::string& dsn, const std::string& query_like = "");

// Polls LockWaiters(dsn, query_like) until it is at least `n` or `timeout`
// passes.
bool WaitForLockWaiters(const std::string& dsn, int n, absl::Duration timeout,
                        const std::string& query_like = "");

}  // namespace giftcard::testing

#endif  // GIFTCARD_TESTS_SUPPORT_SQL_H_

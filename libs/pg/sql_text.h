// The text the stores and the pool build: named statements, literals for
// array parameters, timestamp columns as microseconds, and DSN options.
#ifndef GIFTCARD_LIBS_PG_SQL_TEXT_H_
#define GIFTCARD_LIBS_PG_SQL_TEXT_H_

#include <string>
#include <vector>

namespace giftcard::pg {

// A named SQL statement, prepared on every pooled connection.
struct Statement {
  std::string name;
  std::string sql;
};

// Transaction control, for a pipelined transaction that spans flights
// (pg::LoopClient): prepared as tx_begin, tx_commit and tx_rollback.
extern const Statement kBegin;
extern const Statement kCommit;
extern const Statement kRollback;

// The statements of several stores, for the one pool they share.
std::vector<Statement> JoinStatements(std::vector<std::vector<Statement>> sets);

// A text-format bytea[] literal of raw byte strings, for `= ANY($1::bytea[])`.
std::string ByteaArray(const std::vector<std::string>& values);

// A text-format text[] literal; elements are quoted and escaped.
std::string TextArray(const std::vector<std::string>& values);

// Adds connect_timeout (seconds) to a DSN that has none, so a dead host fails
// fast instead of hanging a handler thread.
std::string WithConnectTimeout(const std::string& dsn, int seconds);

// Adds TCP keepalives and tcp_user_timeout to a DSN that sets none of them,
// so a peer that vanished is noticed within seconds, not hours.
std::string WithKeepalives(const std::string& dsn);

}  // namespace giftcard::pg

#endif  // GIFTCARD_LIBS_PG_SQL_TEXT_H_

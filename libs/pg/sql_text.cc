#include "pg/sql_text.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace giftcard::pg {

const Statement kBegin{"tx_begin", "BEGIN"};
const Statement kCommit{"tx_commit", "COMMIT"};
const Statement kRollback{"tx_rollback", "ROLLBACK"};

std::vector<Statement> JoinStatements(std::vector<std::vector<Statement>> sets) {
  std::vector<Statement> out;
  for (auto& set : sets) {
    for (auto& st : set) out.push_back(std::move(st));
  }
  return out;
}

std::string ByteaArray(const std::vector<std::string>& values) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ",";
    out += "\"\\\\x";  // "\\x: an escaped backslash inside a quoted element.
    for (unsigned char c : values[i]) {
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
    out += "\"";
  }
  return out + "}";
}

std::string TextArray(const std::vector<std::string>& values) {
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ",";
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

namespace {

// Appends key=value parameters to a DSN in either of libpq's two forms.
std::string AddDsnParameters(const std::string& dsn,
                             const std::vector<std::pair<std::string, std::string>>& params) {
  const bool uri = absl::StartsWith(dsn, "postgres://") || absl::StartsWith(dsn, "postgresql://");
  std::string out = dsn;
  bool first_query = uri && !absl::StrContains(dsn, "?");
  for (const auto& [key, value] : params) {
    absl::StrAppend(&out, uri ? (first_query ? "?" : "&") : " ", key, "=", value);
    first_query = false;
  }
  return out;
}

}  // namespace

std::string WithConnectTimeout(const std::string& dsn, int seconds) {
  if (absl::StrContains(dsn, "connect_timeout")) return dsn;
  return AddDsnParameters(dsn, {{"connect_timeout", absl::StrCat(seconds)}});
}

std::string WithKeepalives(const std::string& dsn) {
  if (absl::StrContains(dsn, "keepalives") || absl::StrContains(dsn, "tcp_user_timeout")) {
    return dsn;
  }
  // Probe an idle connection after 5 s, give up after 3 unanswered probes
  // 2 s apart; unacknowledged data gives up after 10 s.
  return AddDsnParameters(dsn, {{"keepalives", "1"},
                                {"keepalives_idle", "5"},
                                {"keepalives_interval", "2"},
                                {"keepalives_count", "3"},
                                {"tcp_user_timeout", "10000"}});
}

}  // namespace giftcard::pg

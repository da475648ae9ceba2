// The Citus layouts in deploy/citus/ against the real, migrated schemas:
// every table is placed (distributed or reference), and every distribution
// column is part of its table's primary key (Citus's rule for unique
// constraints, and what keeps each key lookup on one shard).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <pqxx/pqxx>
#include <regex>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "config/files.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

struct Layout {
  std::map<std::string, std::string> distributed;  // table → distribution column
  std::set<std::string> reference;
};

Layout ReadLayout(const std::string& file) {
  const std::optional<std::string> text =
      config::ReadFile(absl::StrCat(GIFTCARD_SOURCE_DIR_FOR_TESTS, "/deploy/citus/", file));
  EXPECT_TRUE(text.has_value()) << file;
  const std::string sql = text.value_or("");
  Layout layout;
  const std::regex distributed(R"(create_distributed_table\('(\w+)',\s*'(\w+)')");
  for (std::sregex_iterator it(sql.begin(), sql.end(), distributed), end; it != end; ++it) {
    layout.distributed[(*it)[1]] = (*it)[2];
  }
  const std::regex reference(R"(create_reference_table\('(\w+)'\))");
  for (std::sregex_iterator it(sql.begin(), sql.end(), reference), end; it != end; ++it) {
    layout.reference.insert((*it)[1]);
  }
  return layout;
}

// table → its primary key's columns, for every table of the public schema
// except the migrations' own bookkeeping.
std::map<std::string, std::set<std::string>> PrimaryKeys(const std::string& dsn) {
  pqxx::connection conn(dsn);
  pqxx::nontransaction tx(conn);
  std::map<std::string, std::set<std::string>> keys;
  for (const auto& row : tx.exec("SELECT table_name FROM information_schema.tables "
                                 "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' "
                                 "AND table_name <> 'schema_migrations'")) {
    keys[row[0].as<std::string>()];
  }
  for (const auto& row : tx.exec(
           "SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc "
           "JOIN information_schema.key_column_usage kcu "
           "  ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema "
           "WHERE tc.table_schema = 'public' AND tc.constraint_type = 'PRIMARY KEY'")) {
    auto it = keys.find(row[0].as<std::string>());
    if (it != keys.end()) it->second.insert(row[1].as<std::string>());
  }
  return keys;
}

void CheckDatabase(const std::string& dsn, const std::string& layout_file) {
  const Layout layout = ReadLayout(layout_file);
  const auto keys = PrimaryKeys(dsn);
  ASSERT_FALSE(keys.empty()) << layout_file;
  for (const auto& [table, pk] : keys) {
    const bool is_reference = layout.reference.count(table) > 0;
    auto it = layout.distributed.find(table);
    if (it == layout.distributed.end()) {
      EXPECT_TRUE(is_reference) << table << " is neither distributed nor a reference table in "
                                << layout_file;
      continue;
    }
    EXPECT_FALSE(is_reference) << table << " is placed twice in " << layout_file;
    EXPECT_TRUE(pk.count(it->second) > 0)
        << table << ": distribution column " << it->second << " is not in its primary key ("
        << absl::StrJoin(pk, ", ") << ")";
  }
  for (const auto& [table, column] : layout.distributed) {
    EXPECT_TRUE(keys.count(table) > 0)
        << layout_file << " names a table the schema lacks: " << table;
  }
  for (const std::string& table : layout.reference) {
    EXPECT_TRUE(keys.count(table) > 0)
        << layout_file << " names a table the schema lacks: " << table;
  }
}

TEST(ScalingTest, EveryTableIsPlacedAndItsPrimaryKeyHoldsItsDistributionColumn) {
  Suite suite;  // Its services have migrated their databases.
  CheckDatabase(suite.code_vault_dsn, "code_vault.sql");
  CheckDatabase(suite.account_credit_dsn, "account_credit.sql");
  CheckDatabase(suite.billing_dsn, "billing.sql");
}

}  // namespace
}  // namespace giftcard::testing

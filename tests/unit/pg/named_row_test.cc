// pg::NamedRow over pg::TextRows: fields by column name, groups by prefix,
// and a missing column refused rather than read as another.
#include <gtest/gtest.h>

#include <stdexcept>

#include "pg/text_row.h"

namespace giftcard {
namespace {

pg::TextRows Rows() {
  return pg::TextRows({"serial", "state", "prior_serial", "prior_state", "amount_minor"},
                      {{"GC1", "ACTIVE", std::nullopt, std::nullopt, "500"}});
}

TEST(NamedRowTest, ReadsEachColumnByItsNameInAnyOrder) {
  const pg::TextRows rows = Rows();
  const pg::NamedRow r(rows.front());
  EXPECT_EQ(pg::Int64(r["amount_minor"]), 500);
  EXPECT_EQ(pg::Text(r["serial"]), "GC1");
  EXPECT_EQ(pg::Text(r["state"]), "ACTIVE");
  EXPECT_EQ(pg::Text(r["serial"]), "GC1");
}

TEST(NamedRowTest, APrefixReadsItsGroupOnly) {
  const pg::TextRows rows = Rows();
  const pg::NamedRow prior(rows.front(), "prior_");
  EXPECT_TRUE(prior["serial"].is_null());
  EXPECT_TRUE(prior["state"].is_null());
  EXPECT_TRUE(prior.Has("state"));
  EXPECT_FALSE(prior.Has("amount_minor"));
  // Without the prefix, "serial" is the first group's, not prior_serial.
  EXPECT_EQ(pg::Text(pg::NamedRow(rows.front())["serial"]), "GC1");
}

TEST(NamedRowTest, AColumnTheRowLacksIsAnErrorNotAnotherColumn) {
  const pg::TextRows rows = Rows();
  const pg::NamedRow r(rows.front());
  EXPECT_THROW(r["amount"], std::logic_error);
  EXPECT_THROW((void)pg::NamedRow(rows.front(), "prior_")["amount_minor"], std::logic_error);
}

TEST(NamedRowTest, ASliceKeepsItsColumnsNames) {
  const pg::TextRows rows = Rows();
  const pg::TextRow tail = rows.front().slice(2, 4);
  EXPECT_EQ(tail.size(), 2);
  EXPECT_EQ(tail.column_name(0), "prior_serial");
  EXPECT_THROW((void)pg::NamedRow(tail)["serial"], std::logic_error);
}

}  // namespace
}  // namespace giftcard

// Rows as the stores read them. A pipelined result (pg::TextRows, from
// pg::PipelineConnection) is read like a libpqxx result: TextRow has fields
// by index, NULL checks and the same free readers (Text, Int64, ...) as a
// pqxx::field. NamedRow reads either kind of row by column name, so one
// row-to-value function serves the blocking store and the engine's, and
// names the columns it reads rather than counting them.
#ifndef GIFTCARD_LIBS_PG_TEXT_ROW_H_
#define GIFTCARD_LIBS_PG_TEXT_ROW_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"

namespace giftcard::pg {

// One row's values as text; NULL is nullopt.
using Cells = std::vector<std::optional<std::string>>;

class TextField {
 public:
  explicit TextField(const std::optional<std::string>* value) : value_(value) {}
  bool is_null() const { return !value_->has_value(); }
  // The text; "" for NULL.
  const std::string& text() const {
    static const std::string kEmpty;
    return value_->has_value() ? **value_ : kEmpty;
  }

 private:
  const std::optional<std::string>* value_;
};

class TextRow {
 public:
  // `names` has one name per cell; both outlive the row (a view).
  TextRow(const Cells& cells, const std::vector<std::string>& names)
      : cells_(cells.data()),
        names_(names.data()),
        begin_(0),
        end_(static_cast<int>(cells.size())) {}
  TextField operator[](int i) const { return TextField(&cells_[begin_ + i]); }
  // Columns [from, to) of this row, as pqxx::row::slice.
  TextRow slice(int from, int to) const {
    return TextRow(cells_, names_, begin_ + from, begin_ + to);
  }
  int size() const { return end_ - begin_; }
  const std::string& column_name(int i) const { return names_[begin_ + i]; }

 private:
  TextRow(const std::optional<std::string>* cells, const std::string* names, int begin, int end)
      : cells_(cells), names_(names), begin_(begin), end_(end) {}
  const std::optional<std::string>* cells_;
  const std::string* names_;
  int begin_, end_;
};

// One statement's rows and its result's column names.
class TextRows {
 public:
  TextRows() = default;
  TextRows(std::vector<std::string> columns, std::vector<Cells> rows)
      : columns_(std::move(columns)), rows_(std::move(rows)) {}

  size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  TextRow operator[](size_t i) const { return TextRow(rows_[i], columns_); }
  TextRow front() const { return (*this)[0]; }
  const std::vector<std::string>& columns() const { return columns_; }

  class Iterator {
   public:
    Iterator(const TextRows* rows, size_t i) : rows_(rows), i_(i) {}
    TextRow operator*() const { return (*rows_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const Iterator& other) const { return i_ != other.i_; }

   private:
    const TextRows* rows_;
    size_t i_;
  };
  Iterator begin() const { return Iterator(this, 0); }
  Iterator end() const { return Iterator(this, rows_.size()); }

 private:
  std::vector<std::string> columns_;
  std::vector<Cells> rows_;
};

// Readers for either kind of field (a NULL or malformed number reads 0).
inline std::string Text(const pqxx::field& f) { return f.as<std::string>(); }
inline std::string Text(const TextField& f) { return f.text(); }
inline int64_t Int64(const pqxx::field& f) { return f.as<int64_t>(); }
inline int64_t Int64(const TextField& f) {
  int64_t v = 0;
  return absl::SimpleAtoi(f.text(), &v) ? v : 0;
}
inline int Int32(const pqxx::field& f) { return f.as<int>(); }
inline int Int32(const TextField& f) {
  int v = 0;
  return absl::SimpleAtoi(f.text(), &v) ? v : 0;
}

inline bool Bool(const pqxx::field& f) { return f.as<bool>(); }
inline bool Bool(const TextField& f) { return f.text() == "t"; }

inline pqxx::field FieldAt(const pqxx::row& row, int i) {
  return row[static_cast<pqxx::row::size_type>(i)];
}
inline TextField FieldAt(const TextRow& row, int i) { return row[i]; }
inline std::string_view ColumnName(const pqxx::row& row, int i) { return FieldAt(row, i).name(); }
inline std::string_view ColumnName(const TextRow& row, int i) { return row.column_name(i); }

// A row read by column name: NamedRow(row)["serial"]. With a prefix, the
// names are the prefix's group of a wider row: NamedRow(row, "prior_")
// ["serial"] reads column prior_serial. Each name is first compared with
// the column after the last one read (a reader reads in the order its
// statements list the columns), so a read costs one comparison, and only a
// name found elsewhere costs a search. A name the row lacks is a defect of
// the statement or its reader: std::logic_error (the pool's edge turns it
// into INTERNAL; on an engine's loop it ends the process).
template <typename Row>
class NamedRow {
 public:
  explicit NamedRow(Row row, std::string_view prefix = "")
      : row_(std::move(row)), prefix_(prefix) {}
  auto operator[](std::string_view name) const { return FieldAt(row_, Find(name)); }
  bool Has(std::string_view name) const {
    for (int i = 0; i < static_cast<int>(row_.size()); ++i) {
      if (Matches(i, name)) return true;
    }
    return false;
  }

 private:
  bool Matches(int i, std::string_view name) const {
    const std::string_view column = ColumnName(row_, i);
    return column.size() == prefix_.size() + name.size() &&
           column.substr(0, prefix_.size()) == prefix_ && column.substr(prefix_.size()) == name;
  }
  int Find(std::string_view name) const {
    const int columns = static_cast<int>(row_.size());
    if (next_ < columns && Matches(next_, name)) return next_++;
    for (int i = 0; i < columns; ++i) {
      if (Matches(i, name)) {
        next_ = i + 1;
        return i;
      }
    }
    throw std::logic_error("the row has no column " + std::string(prefix_) + std::string(name));
  }

  const Row row_;  // A view (TextRow) or a handle (pqxx::row): cheap to copy.
  const std::string_view prefix_;
  mutable int next_ = 0;
};

}  // namespace giftcard::pg

#endif  // GIFTCARD_LIBS_PG_TEXT_ROW_H_

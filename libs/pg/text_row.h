// A row of a pipelined result (pg::PipelineRows) read like a libpqxx row:
// fields by index, slices, NULL checks, and the same free readers for both
// kinds of field, so one row-to-value function serves the blocking store
// and the engine's.
#ifndef GIFTCARD_LIBS_PG_TEXT_ROW_H_
#define GIFTCARD_LIBS_PG_TEXT_ROW_H_

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"

namespace giftcard::pg {

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
  TextRow(const std::vector<std::optional<std::string>>& cells)  // NOLINT: a view
      : cells_(&cells), begin_(0), end_(static_cast<int>(cells.size())) {}
  TextField operator[](int i) const {
    return TextField(&(*cells_)[static_cast<size_t>(begin_ + i)]);
  }
  // Columns [from, to) of this row, as pqxx::row::slice.
  TextRow slice(int from, int to) const { return TextRow(*cells_, begin_ + from, begin_ + to); }
  int size() const { return end_ - begin_; }

 private:
  TextRow(const std::vector<std::optional<std::string>>& cells, int begin, int end)
      : cells_(&cells), begin_(begin), end_(end) {}
  const std::vector<std::optional<std::string>>* cells_;
  int begin_, end_;
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

}  // namespace giftcard::pg

#endif  // GIFTCARD_LIBS_PG_TEXT_ROW_H_

// Structured logs: one JSON object per line on stderr, so a collector can
// parse them (written with nlohmann-json). Callers pass identifiers as
// fields, never a PIN. Numbers are JSON numbers ("latency_ms":1.25).
// INFO lines are buffered and written within 20 ms, many to a write;
// WARNING and ERROR lines at once, with everything before them.
#ifndef GIFTCARD_LIBS_LOG_LOG_H_
#define GIFTCARD_LIBS_LOG_LOG_H_

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/string_view.h"

namespace giftcard::log {

// A field's value: text, or a number or flag the line carries as such.
class Value {
 public:
  using Repr = std::variant<std::string, int64_t, double, bool>;
  Value(std::string text) : repr_(std::move(text)) {}          // NOLINT: implicit by design.
  Value(const char* text) : repr_(std::string(text)) {}        // NOLINT
  Value(absl::string_view text) : repr_(std::string(text)) {}  // NOLINT
  Value(bool flag) : repr_(flag) {}                            // NOLINT
  template <typename T,
            std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Value(T number) : repr_(static_cast<int64_t>(number)) {}  // NOLINT
  template <typename T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  Value(T number) : repr_(static_cast<double>(number)) {}  // NOLINT
  const Repr& repr() const { return repr_; }

 private:
  Repr repr_;
};

using Fields = std::vector<std::pair<std::string, Value>>;

void Info(absl::string_view event, const Fields& fields = {});
void Warning(absl::string_view event, const Fields& fields = {});
void Error(absl::string_view event, const Fields& fields = {});

// Writes every buffered line now (the process's exit does it too).
void Flush();

// Sets the "service" field of every line.
void SetServiceName(absl::string_view name);

// The JSON line (without the newline) for `fields`, in order; invalid
// UTF-8 is replaced, never passed on. Exposed for tools that print JSON.
std::string JsonObject(const Fields& fields);

}  // namespace giftcard::log

#endif  // GIFTCARD_LIBS_LOG_LOG_H_

// Structured logs: one JSON object per line on stderr, so a collector can
// parse them. Callers pass identifiers as fields, never a PIN.
#ifndef GIFTCARD_LIBS_LOG_LOG_H_
#define GIFTCARD_LIBS_LOG_LOG_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace giftcard::log {

using Fields = std::vector<std::pair<std::string, std::string>>;

void Info(absl::string_view event, const Fields& fields = {});
void Warning(absl::string_view event, const Fields& fields = {});
void Error(absl::string_view event, const Fields& fields = {});

// Sets the "service" field of every line.
void SetServiceName(absl::string_view name);

// JSON string escaping, exposed for tests.
std::string JsonEscape(absl::string_view in);

}  // namespace giftcard::log

#endif  // GIFTCARD_LIBS_LOG_LOG_H_

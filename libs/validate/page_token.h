// Page tokens (AIP-158), one format for every list the suite pages: web-safe
// base64 of "p1", the list's name, the query's filter fields and the
// position the next page starts after, separated by U+001F (which no filter
// field holds). Opaque to callers: they pass it back as it came. It names
// its list and query, so a token is refused with another list or filter,
// and a token of an earlier format is refused with a message that says to
// list again from the first page.
#ifndef GIFTCARD_LIBS_VALIDATE_PAGE_TOKEN_H_
#define GIFTCARD_LIBS_VALIDATE_PAGE_TOKEN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace giftcard::page_token {

// The token for the page after `position` of `list` under `filter`.
std::string Encode(absl::string_view list, const std::vector<std::string>& filter,
                   absl::string_view position);

struct Token {
  std::vector<std::string> filter;
  std::string position;  // Never empty.
};

// A token of `list` with `filter_size` filter fields; otherwise
// INVALID_ARGUMENT on page_token.
absl::StatusOr<Token> Decode(absl::string_view token, absl::string_view list, size_t filter_size);

// The position of a token of `list` returned for the same `filter`; a token
// of another filter is refused, saying which fields to keep
// (`filter_names`, "start_time and end_time").
absl::StatusOr<std::string> PositionFor(absl::string_view token, absl::string_view list,
                                        const std::vector<std::string>& filter,
                                        absl::string_view filter_names);

}  // namespace giftcard::page_token

#endif  // GIFTCARD_LIBS_VALIDATE_PAGE_TOKEN_H_

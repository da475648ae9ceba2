#include "validate/page_token.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "errors/status.h"

namespace giftcard::page_token {
namespace {

constexpr char kVersion[] = "p1";
constexpr char kSeparator = '\x1f';
// A token is a few ids and a position: anything longer was not ours.
constexpr size_t kMaxTokenBytes = 512;

absl::Status NotOurs() {
  return errors::InvalidField("page_token", "is not a token this API returned");
}

}  // namespace

std::string Encode(absl::string_view list, const std::vector<std::string>& filter,
                   absl::string_view position) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(kVersion, std::string(1, kSeparator), list, std::string(1, kSeparator),
                   absl::StrJoin(filter, std::string(1, kSeparator)),
                   filter.empty() ? "" : std::string(1, kSeparator), position));
}

absl::StatusOr<Token> Decode(absl::string_view token, absl::string_view list, size_t filter_size) {
  std::string raw;
  if (token.size() > kMaxTokenBytes || !absl::WebSafeBase64Unescape(token, &raw)) return NotOurs();
  std::vector<std::string> parts = absl::StrSplit(raw, kSeparator);
  if (parts.empty() || parts[0] != kVersion) {
    // The formats before this one began "v1|", "v2|", "v1\x1f" or "b1\x1f".
    if (raw.size() > 2 && (raw[0] == 'v' || raw[0] == 'b') && raw[1] >= '1' && raw[1] <= '9') {
      return errors::InvalidField(
          "page_token", "comes from an earlier version of this API; list again without it");
    }
    return NotOurs();
  }
  if (parts.size() != filter_size + 3 || parts[1] != list || parts.back().empty()) {
    return NotOurs();
  }
  Token out;
  out.filter.assign(parts.begin() + 2, parts.end() - 1);
  out.position = std::move(parts.back());
  return out;
}

absl::StatusOr<std::string> PositionFor(absl::string_view token, absl::string_view list,
                                        const std::vector<std::string>& filter,
                                        absl::string_view filter_names) {
  absl::StatusOr<Token> decoded = Decode(token, list, filter.size());
  if (!decoded.ok()) return decoded.status();
  if (decoded->filter != filter) {
    return errors::InvalidField(
        "page_token", absl::StrCat("was returned for another ", filter_names, "; send the same ",
                                   filter_names, " with it, or drop it"));
  }
  return std::move(decoded->position);
}

}  // namespace giftcard::page_token

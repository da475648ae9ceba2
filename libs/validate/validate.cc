#include "validate/validate.h"

#include "absl/strings/str_cat.h"
#include "errors/status.h"

namespace giftcard::validate {
namespace {

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '@' || c == '-';
}

// Length of the UTF-8 sequence starting at s[i], or 0 if invalid.
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const unsigned char c = s[i];
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  }
  if (n == 2 && c < 0xC2) return 0;  // Overlong.
  return n;
}

}  // namespace

absl::Status Id(absl::string_view field, absl::string_view value) {
  if (value.empty()) return errors::InvalidField(field, "is required");
  if (value.size() > kMaxIdLength) {
    return errors::InvalidField(field,
                                absl::StrCat("must be at most ", kMaxIdLength, " characters"));
  }
  for (char c : value) {
    if (!IsIdChar(c)) {
      return errors::InvalidField(field, "may only contain letters, digits and . _ : @ -");
    }
  }
  return absl::OkStatus();
}

absl::Status Country(absl::string_view field, absl::string_view value) {
  if (value.empty()) return errors::InvalidField(field, "is required");
  if (value.size() != 2 || value[0] < 'A' || value[0] > 'Z' || value[1] < 'A' || value[1] > 'Z') {
    return errors::InvalidField(field, "must be two upper-case letters (ISO-3166 alpha-2)");
  }
  return absl::OkStatus();
}

absl::Status Text(absl::string_view field, absl::string_view value, size_t max_length) {
  if (value.size() > max_length) {
    return errors::InvalidField(field, absl::StrCat("must be at most ", max_length, " bytes"));
  }
  for (size_t i = 0; i < value.size();) {
    const size_t n = Utf8SequenceLength(value, i);
    if (n == 0) return errors::InvalidField(field, "must be valid UTF-8");
    if (n == 1 && (static_cast<unsigned char>(value[i]) < 0x20 || value[i] == 0x7f)) {
      return errors::InvalidField(field, "must not contain control characters");
    }
    i += n;
  }
  return absl::OkStatus();
}

}  // namespace giftcard::validate

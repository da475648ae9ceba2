#include "validate/validate.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <iterator>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "errors/status.h"
#include "trace/trace_context.h"

namespace giftcard::validate {
namespace {

// ISO-3166-1 alpha-2, the 249 officially assigned codes, sorted.
constexpr absl::string_view kCountries[] = {
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
};

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
  if (!std::binary_search(std::begin(kCountries), std::end(kCountries), value)) {
    return errors::InvalidField(field, "is not an ISO-3166 country code");
  }
  return absl::OkStatus();
}

absl::Status Traceparent(absl::string_view field, absl::string_view value) {
  if (value.empty() || trace::Parse(value).has_value()) return absl::OkStatus();
  return errors::InvalidField(field,
                              "must be empty or a W3C traceparent "
                              "(00-<32 hex digits>-<16 hex digits>-<2 hex digits>)");
}

bool IsUuid(absl::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = s[i];
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (dash ? c != '-' : !hex) return false;
  }
  return true;
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

absl::Status Serial(absl::string_view field, absl::string_view value) {
  const bool ok =
      value.size() >= 14 && value.size() <= 21 && value.substr(0, 2) == "GC" &&
      std::all_of(value.begin() + 2, value.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!ok) return errors::InvalidField(field, "must be GC followed by 12 to 19 digits");
  return absl::OkStatus();
}

std::string CanonicalSerial(absl::string_view typed) {
  std::string serial;
  serial.reserve(typed.size());
  for (size_t i = 0; i < typed.size(); ++i) {
    const char c = typed[i];
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '/' ||
        c == '_') {
      continue;
    }
    if (c == '\xC2' && i + 1 < typed.size() && typed[i + 1] == '\xA0') {  // U+00A0
      ++i;
      continue;
    }
    serial.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  return serial;
}

absl::StatusOr<std::string> ClientAddressKey(absl::string_view field, absl::string_view value) {
  // The longest IPv6 text form is 45 characters; a zone ("%eth0") or a
  // prefix length is not an end user's address.
  if (value.empty()) return errors::InvalidField(field, "is required");
  if (value.size() > 45) return errors::InvalidField(field, "must be an IPv4 or IPv6 address");
  const std::string text(value);
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    char out[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &v4, out, sizeof(out));
    return std::string(out);
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) {
    return errors::InvalidField(field, "must be an IPv4 or IPv6 address");
  }
  static constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(v6.s6_addr, kMappedPrefix, sizeof(kMappedPrefix)) == 0) {
    std::memcpy(&v4, v6.s6_addr + 12, 4);
    char out[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &v4, out, sizeof(out));
    return std::string(out);
  }
  // One end user usually holds a whole /64: count the prefix, not the host.
  std::memset(v6.s6_addr + 8, 0, 8);
  char out[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, &v6, out, sizeof(out));
  return absl::StrCat(out, "/64");
}

}  // namespace giftcard::validate

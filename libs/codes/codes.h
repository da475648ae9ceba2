// Gift-card PINs: 16 symbols of Crockford base32, 15 random (75 bits from
// OpenSSL's CSPRNG) and one check symbol. The check symbol is a Damm-style
// check over the quasigroup x∘y = 2·x + y in GF(32): it catches every
// single-symbol substitution and every swap of two neighbours.
//
// Nothing here logs or echoes its input: a PIN is a secret.
#ifndef GIFTCARD_LIBS_CODES_CODES_H_
#define GIFTCARD_LIBS_CODES_CODES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace giftcard::codes {

inline constexpr int kPinLength = 16;
inline constexpr absl::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// A fresh normalized PIN (16 symbols, no separators).
std::string GeneratePin();

// The check symbol for 15 normalized symbols.
char CheckSymbol(absl::string_view body);

// Normalizes what a person typed: case, ASCII and Unicode spaces, hyphens,
// dots, slashes and underscores are ignored; O→0, I/L→1; full-width forms are
// folded; zero-width characters and junk around the code (quotes,
// punctuation, line breaks) are dropped. Errors (INVALID_ARGUMENT): CODE_MALFORMED for a foreign
// symbol or a wrong length, CODE_MISTYPED for a wrong check symbol. Never touches storage.
absl::StatusOr<std::string> Normalize(absl::string_view input);

// "XXXX-XXXX-XXXX-XXXX" for a normalized PIN.
std::string Format(absl::string_view normalized);

// The last four symbols, kept for support conversations.
std::string LastFour(absl::string_view normalized);

}  // namespace giftcard::codes

#endif  // GIFTCARD_LIBS_CODES_CODES_H_

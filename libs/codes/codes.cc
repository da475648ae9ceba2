#include "codes/codes.h"

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <cstdlib>

#include "errors/status.h"

namespace giftcard::codes {
namespace {

// Longest input worth looking at; anything longer is malformed without work.
constexpr size_t kMaxInputBytes = 128;

// Value of an ASCII symbol in the alphabet after folding, or -1.
int SymbolValue(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  switch (c) {
    case 'O':
      return 0;
    case 'I':
    case 'L':
      return 1;
    case 'U':
      return -1;
    default:
      break;
  }
  const size_t pos = kAlphabet.find(c);
  return pos == absl::string_view::npos ? -1 : static_cast<int>(pos);
}

bool IsAsciiSeparator(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '-' || c == '.' || c == '/' ||
         c == '_';
}

// Multiplication by x in GF(32) modulo x^5 + x^2 + 1.
uint8_t Times2(uint8_t v) {
  v = static_cast<uint8_t>(v << 1);
  if (v & 0x20) v ^= 0x25;
  return v;
}

uint8_t Step(uint8_t interim, uint8_t symbol) { return Times2(interim) ^ symbol; }

absl::Status Malformed() {
  return errors::Error(absl::StatusCode::kInvalidArgument, errors::reason::kCodeMalformed,
                       "the code must be 16 letters and digits, as printed on the card");
}

}  // namespace

std::string GeneratePin() {
  std::array<unsigned char, kPinLength - 1> random;
  // RAND_bytes only fails when the CSPRNG cannot be seeded; a PIN from a weak
  // source would be worth money to a guesser, so stop the process.
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) std::abort();
  std::string pin;
  pin.reserve(kPinLength);
  for (unsigned char r : random) pin.push_back(kAlphabet[r & 0x1f]);
  pin.push_back(CheckSymbol(pin));
  return pin;
}

char CheckSymbol(absl::string_view body) {
  uint8_t interim = 0;
  for (char c : body) interim = Step(interim, static_cast<uint8_t>(SymbolValue(c)));
  // The check symbol c makes the final step zero: 2·interim ⊕ c = 0.
  return kAlphabet[Times2(interim)];
}

absl::StatusOr<std::string> Normalize(absl::string_view input) {
  if (input.size() > kMaxInputBytes) return Malformed();
  std::string out;
  out.reserve(kPinLength);
  for (size_t i = 0; i < input.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(input[i]);
    char ascii = 0;
    if (c < 0x80) {
      if (IsAsciiSeparator(static_cast<char>(c))) continue;
      ascii = static_cast<char>(c);
    } else if (c == 0xC2 && i + 1 < input.size() &&
               static_cast<unsigned char>(input[i + 1]) == 0xA0) {
      ++i;  // U+00A0 no-break space.
      continue;
    } else if (c == 0xE2 && i + 2 < input.size()) {
      const unsigned char b1 = input[i + 1], b2 = input[i + 2];
      // U+2000..U+200B spaces, U+2010..U+2015 dashes, U+202F, U+205F, U+2212 minus.
      const bool space_or_dash = (b1 == 0x80 && ((b2 >= 0x80 && b2 <= 0x8B) ||
                                                 (b2 >= 0x90 && b2 <= 0x95) || b2 == 0xAF)) ||
                                 (b1 == 0x81 && b2 == 0x9F) || (b1 == 0x88 && b2 == 0x92);
      if (!space_or_dash) return Malformed();
      i += 2;
      continue;
    } else if (c == 0xE3 && i + 2 < input.size() &&
               static_cast<unsigned char>(input[i + 1]) == 0x80 &&
               static_cast<unsigned char>(input[i + 2]) == 0x80) {
      i += 2;  // U+3000 ideographic (full-width) space.
      continue;
    } else if (c == 0xEF && i + 2 < input.size()) {
      // Full-width forms U+FF01..U+FF5E map to ASCII 0x21..0x7E.
      const unsigned char b1 = input[i + 1], b2 = input[i + 2];
      uint32_t cp = ((c & 0x0F) << 12) | ((b1 & 0x3F) << 6) | (b2 & 0x3F);
      if ((b1 & 0xC0) != 0x80 || (b2 & 0xC0) != 0x80 || cp < 0xFF01 || cp > 0xFF5E) {
        return Malformed();
      }
      i += 2;
      ascii = static_cast<char>(cp - 0xFF01 + 0x21);
      if (IsAsciiSeparator(ascii)) continue;
    } else {
      return Malformed();
    }
    const int value = SymbolValue(ascii);
    if (value < 0 || out.size() == kPinLength) return Malformed();
    out.push_back(kAlphabet[value]);
  }
  if (out.size() != kPinLength) return Malformed();
  if (CheckSymbol(absl::string_view(out).substr(0, kPinLength - 1)) != out.back()) {
    return errors::Error(absl::StatusCode::kInvalidArgument, errors::reason::kCodeMistyped,
                         "the code has a typo: please check each symbol against the card");
  }
  return out;
}

std::string Format(absl::string_view normalized) {
  std::string out;
  for (size_t i = 0; i < normalized.size(); ++i) {
    if (i > 0 && i % 4 == 0) out.push_back('-');
    out.push_back(normalized[i]);
  }
  return out;
}

std::string LastFour(absl::string_view normalized) {
  return std::string(normalized.substr(normalized.size() >= 4 ? normalized.size() - 4 : 0));
}

}  // namespace giftcard::codes

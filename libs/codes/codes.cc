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

namespace {

// What a code point means to a person typing a code: itself (ASCII and
// full-width forms), a space, a dash, a quote, nothing at all (zero-width
// characters a copy-paste drags along), or kForeign.
constexpr char kForeign = '\x01';
constexpr char kIgnored = '\0';

char Fold(uint32_t cp) {
  if (cp < 0x80) {
    const bool control = (cp < 0x20 && cp != '\t' && cp != '\r' && cp != '\n') || cp == 0x7F;
    return control ? kForeign : static_cast<char>(cp);
  }
  if (cp >= 0xFF01 && cp <= 0xFF5E) return static_cast<char>(cp - 0xFF01 + 0x21);  // Full width.
  if (cp == 0x00A0 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F ||
      cp == 0x3000) {
    return ' ';
  }
  if ((cp >= 0x200B && cp <= 0x200D) || cp == 0x2060 || cp == 0xFEFF) return kIgnored;
  if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 || cp == 0x30FC) return '-';
  if (cp == 0x2018 || cp == 0x2019 || cp == 0x201C || cp == 0x201D || cp == 0x00AB ||
      cp == 0x00BB) {
    return '"';
  }
  return kForeign;
}

// Decodes one UTF-8 sequence at s[i]; returns its length (0 if invalid).
size_t DecodeUtf8(absl::string_view s, size_t i, uint32_t* cp) {
  const unsigned char c = s[i];
  size_t n;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    n = 2;
    *cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    *cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    *cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const unsigned char b = s[i + k];
    if ((b & 0xC0) != 0x80) return 0;
    *cp = (*cp << 6) | (b & 0x3F);
  }
  return n;
}

bool IsAsciiAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

}  // namespace

absl::StatusOr<std::string> Normalize(absl::string_view input) {
  if (input.size() > kMaxInputBytes) return Malformed();
  // 1. Fold every code point to what it means here.
  std::string folded;
  for (size_t i = 0; i < input.size();) {
    uint32_t cp = 0;
    const size_t n = DecodeUtf8(input, i, &cp);
    if (n == 0) return Malformed();
    i += n;
    const char c = Fold(cp);
    if (c == kForeign) return Malformed();
    if (c != kIgnored) folded.push_back(c);
  }
  // 2. Junk around the code (quotes, a trailing full stop, line breaks) goes.
  size_t begin = 0, end = folded.size();
  while (begin < end && !IsAsciiAlnum(folded[begin])) ++begin;
  while (end > begin && !IsAsciiAlnum(folded[end - 1])) --end;
  // 3. Inside, separators are ignored and every other symbol must be ours.
  std::string out;
  out.reserve(kPinLength);
  for (size_t i = begin; i < end; ++i) {
    const char c = folded[i];
    if (IsAsciiSeparator(c)) continue;
    const int value = SymbolValue(c);
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

// libFuzzer target: what a person types into the redeem page.
// Normalize must never crash, never accept a malformed code, and be stable:
// a normalized code formats and normalizes back to itself.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "codes/codes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::string> normalized = giftcard::codes::Normalize(input);
  if (!normalized.ok()) return 0;
  if (normalized->size() != giftcard::codes::kPinLength) std::abort();
  for (char c : *normalized) {
    if (giftcard::codes::kAlphabet.find(c) == absl::string_view::npos) std::abort();
  }
  absl::StatusOr<std::string> again =
      giftcard::codes::Normalize(giftcard::codes::Format(*normalized));
  if (!again.ok() || *again != *normalized) std::abort();
  return 0;
}

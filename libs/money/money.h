// Money is an exact int64 count of minor units in one ISO-4217 currency.
// Never a float. Arithmetic is checked: an overflow is an error, not a wrap.
#ifndef GIFTCARD_LIBS_MONEY_MONEY_H_
#define GIFTCARD_LIBS_MONEY_MONEY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace giftcard::money {

// Largest amount any single request may carry: 10^15 minor units. Far above
// any gift card, far below int64 overflow even after summing many of them.
inline constexpr int64_t kMaxAmountMinor = 1'000'000'000'000'000;

struct Money {
  std::string currency_code;
  int64_t amount_minor = 0;

  friend bool operator==(const Money& a, const Money& b) {
    return a.currency_code == b.currency_code && a.amount_minor == b.amount_minor;
  }
};

// Number of decimals of an active ISO-4217 currency (2 for EUR, 0 for JPY,
// 3 for KWD), or nullopt for a code that is not an active currency.
std::optional<int> MinorUnitExponent(absl::string_view currency_code);

// INVALID_ARGUMENT naming `field` unless `code` is an active ISO-4217 code in upper case.
absl::Status ValidateCurrencyCode(absl::string_view field, absl::string_view code);

// INVALID_ARGUMENT naming `field` unless the currency is valid and
// 0 < amount <= kMaxAmountMinor.
absl::Status ValidatePositive(absl::string_view field, const Money& money);

// a + b, or OUT_OF_RANGE on overflow.
absl::StatusOr<int64_t> CheckedAdd(int64_t a, int64_t b);
// a - b, or OUT_OF_RANGE on overflow.
absl::StatusOr<int64_t> CheckedSub(int64_t a, int64_t b);

// a + b in one currency; INVALID_ARGUMENT on mixed currencies.
absl::StatusOr<Money> Add(const Money& a, const Money& b);
// a - b in one currency; INVALID_ARGUMENT on mixed currencies.
absl::StatusOr<Money> Subtract(const Money& a, const Money& b);

// Human form with the currency's decimals: "11.99 EUR", "-5 JPY".
std::string ToString(const Money& money);

}  // namespace giftcard::money

#endif  // GIFTCARD_LIBS_MONEY_MONEY_H_

#include "money/money.h"

#include <algorithm>
#include <cstdlib>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "errors/status.h"

namespace giftcard::money {
namespace {

// Active ISO-4217 currencies (list of 2024), sorted for binary search.
// Precious metals, testing and fund codes other than the CFA/CFP francs and
// the East Caribbean dollar are left out: no gift card is sold in them.
constexpr absl::string_view kCurrencies[] = {
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD",
    "CAD", "CDF", "CHE", "CHF", "CHW", "CLF", "CLP", "CNY", "COP", "COU", "CRC", "CUC", "CUP",
    "CVE", "CZK", "DJF", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP",
    "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS",
    "INR", "IQD", "IRR", "ISK", "JMD", "JOD", "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW",
    "KWD", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD",
    "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN",
    "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "PYG", "QAR",
    "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL",
    "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TND", "TOP", "TRY",
    "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "USN", "UYI", "UYU", "UYW", "UZS", "VED", "VES",
    "VND", "VUV", "WST", "XAF", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWL",
};

constexpr absl::string_view kZeroDecimals[] = {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY",
                                               "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
                                               "VND", "VUV", "XAF", "XOF", "XPF"};
constexpr absl::string_view kThreeDecimals[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"};
constexpr absl::string_view kFourDecimals[] = {"CLF", "UYW"};

template <size_t N>
bool Contains(const absl::string_view (&table)[N], absl::string_view code) {
  return std::find(std::begin(table), std::end(table), code) != std::end(table);
}

}  // namespace

std::optional<int> MinorUnitExponent(absl::string_view currency_code) {
  if (!std::binary_search(std::begin(kCurrencies), std::end(kCurrencies), currency_code)) {
    return std::nullopt;
  }
  if (Contains(kZeroDecimals, currency_code)) return 0;
  if (Contains(kThreeDecimals, currency_code)) return 3;
  if (Contains(kFourDecimals, currency_code)) return 4;
  return 2;
}

absl::Status ValidateCurrencyCode(absl::string_view field, absl::string_view code) {
  if (code.empty()) return errors::InvalidField(field, "is required");
  if (code.size() != 3 ||
      !std::all_of(code.begin(), code.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return errors::InvalidField(field, "must be three upper-case letters (ISO-4217)");
  }
  if (!MinorUnitExponent(code)) {
    return errors::InvalidField(field, "is not an active ISO-4217 currency");
  }
  return absl::OkStatus();
}

absl::Status ValidatePositive(absl::string_view field, const Money& money) {
  if (auto s = ValidateCurrencyCode(absl::StrCat(field, ".currency_code"), money.currency_code);
      !s.ok()) {
    return s;
  }
  const std::string amount_field = absl::StrCat(field, ".amount_minor");
  if (money.amount_minor <= 0) return errors::InvalidField(amount_field, "must be positive");
  if (money.amount_minor > kMaxAmountMinor) {
    return errors::InvalidField(amount_field, "must be at most 10^15 minor units");
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> CheckedAdd(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) return absl::OutOfRangeError("money overflow");
  return out;
}

absl::StatusOr<int64_t> CheckedSub(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_sub_overflow(a, b, &out)) return absl::OutOfRangeError("money overflow");
  return out;
}

absl::StatusOr<Money> Add(const Money& a, const Money& b) {
  if (a.currency_code != b.currency_code) return absl::InvalidArgumentError("currency mismatch");
  auto sum = CheckedAdd(a.amount_minor, b.amount_minor);
  if (!sum.ok()) return sum.status();
  return Money{a.currency_code, *sum};
}

absl::StatusOr<Money> Subtract(const Money& a, const Money& b) {
  if (a.currency_code != b.currency_code) return absl::InvalidArgumentError("currency mismatch");
  auto diff = CheckedSub(a.amount_minor, b.amount_minor);
  if (!diff.ok()) return diff.status();
  return Money{a.currency_code, *diff};
}

std::string ToString(const Money& money) {
  const int exponent = MinorUnitExponent(money.currency_code).value_or(2);
  // Work on the magnitude as unsigned so INT64_MIN prints correctly.
  const bool negative = money.amount_minor < 0;
  uint64_t magnitude = negative ? 0 - static_cast<uint64_t>(money.amount_minor)
                                : static_cast<uint64_t>(money.amount_minor);
  uint64_t scale = 1;
  for (int i = 0; i < exponent; ++i) scale *= 10;
  std::string out = absl::StrCat(negative ? "-" : "", magnitude / scale);
  if (exponent > 0) {
    std::string frac = absl::StrCat(magnitude % scale);
    out += "." + std::string(exponent - frac.size(), '0') + frac;
  }
  return absl::StrCat(out, " ", money.currency_code);
}

}  // namespace giftcard::money

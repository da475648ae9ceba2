#include "money/money.h"

#include <gtest/gtest.h>

#include <limits>

#include "errors/status.h"

namespace giftcard::money {
namespace {

TEST(MoneyTest, KnowsRealCurrenciesAndTheirExponents) {
  EXPECT_EQ(MinorUnitExponent("EUR"), 2);
  EXPECT_EQ(MinorUnitExponent("JPY"), 0);
  EXPECT_EQ(MinorUnitExponent("KWD"), 3);
  EXPECT_EQ(MinorUnitExponent("CLF"), 4);
  EXPECT_FALSE(MinorUnitExponent("EUX").has_value());
  EXPECT_FALSE(MinorUnitExponent("eur").has_value());
  EXPECT_FALSE(MinorUnitExponent("XAU").has_value());
}

TEST(MoneyTest, ValidationNamesTheField) {
  EXPECT_TRUE(ValidatePositive("amount", {"EUR", 1}).ok());
  EXPECT_TRUE(ValidatePositive("amount", {"EUR", kMaxAmountMinor}).ok());
  for (const Money& bad : {Money{"EUR", 0}, Money{"EUR", -5}, Money{"EUR", kMaxAmountMinor + 1},
                           Money{"eur", 5}, Money{"EURO", 5}, Money{"ZZZ", 5}, Money{"", 5}}) {
    absl::Status s = ValidatePositive("amount", bad);
    ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument)
        << bad.currency_code << bad.amount_minor;
    auto violations = errors::FieldViolationsOf(s);
    ASSERT_EQ(violations.size(), 1u);
    EXPECT_EQ(violations[0].first.rfind("amount.", 0), 0u) << violations[0].first;
  }
}

TEST(MoneyTest, ArithmeticIsCheckedNotWrapped) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(*CheckedAdd(2, 3), 5);
  EXPECT_FALSE(CheckedAdd(kMax, 1).ok());
  EXPECT_FALSE(CheckedSub(std::numeric_limits<int64_t>::min(), 1).ok());
  EXPECT_EQ(Add({"EUR", 1199}, {"EUR", 1}).value(), (Money{"EUR", 1200}));
  EXPECT_FALSE(Add({"EUR", 1}, {"USD", 1}).ok());
  EXPECT_EQ(Subtract({"EUR", 3000}, {"EUR", 1199}).value(), (Money{"EUR", 1801}));
}

TEST(MoneyTest, PrintsWithTheCurrencysDecimals) {
  EXPECT_EQ(ToString({"EUR", 1199}), "11.99 EUR");
  EXPECT_EQ(ToString({"EUR", 5}), "0.05 EUR");
  EXPECT_EQ(ToString({"EUR", -602}), "-6.02 EUR");
  EXPECT_EQ(ToString({"JPY", 500}), "500 JPY");
  EXPECT_EQ(ToString({"KWD", 1234}), "1.234 KWD");
  EXPECT_EQ(ToString({"EUR", std::numeric_limits<int64_t>::min()}), "-92233720368547758.08 EUR");
}

}  // namespace
}  // namespace giftcard::money

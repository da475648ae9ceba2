// The Prometheus text the registry renders.
#include "metrics/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace giftcard::metrics {
namespace {

using ::testing::HasSubstr;

TEST(RegistryTest, AValueKeepsEveryDigitItHas) {
  // A Unix timestamp with a fraction (the backlog probe's), a large sum of
  // seconds, a small fraction: printed as "%g" they lost all but six digits
  // (1796614383.25 became 1.79661e+09, an hour and more off).
  Registry registry;
  registry.AddCallback("when_seconds", "a timestamp", "gauge", [] { return 1796614383.25; });
  registry.AddCallback("sum_seconds", "a sum", "counter", [] { return 12345678.125; });
  registry.AddCallback("ratio", "a fraction", "gauge", [] { return 0.1; });
  registry.AddCallback("whole", "an integer", "gauge", [] { return 42.0; });
  const std::string text = registry.Render();
  EXPECT_THAT(text, HasSubstr("\nwhen_seconds 1796614383.25\n"));
  EXPECT_THAT(text, HasSubstr("\nsum_seconds 12345678.125\n"));
  EXPECT_THAT(text, HasSubstr("\nratio 0.1\n"));
  EXPECT_THAT(text, HasSubstr("\nwhole 42\n"));
}

TEST(RegistryTest, AFamilyIsListedBeforeItsFirstSample) {
  Registry registry;
  registry.AddCounter("refused_total", "refusals", {"lane"});
  EXPECT_THAT(registry.Render(), HasSubstr("# TYPE refused_total counter\n"));
}

}  // namespace
}  // namespace giftcard::metrics

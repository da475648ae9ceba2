#include "validate/validate.h"

#include <gtest/gtest.h>

namespace giftcard::validate {
namespace {

TEST(ValidateTest, Ids) {
  EXPECT_TRUE(Id("account_id", "user-42").ok());
  EXPECT_TRUE(Id("request_id", "9f1c2a5e-0b7d-4c3e-8a61-2f4b5c6d7e8f").ok());
  EXPECT_TRUE(Id("x", std::string(128, 'a')).ok());
  for (const std::string& bad :
       {std::string(""), std::string(129, 'a'), std::string("a b"), std::string("gift-funding/EUR"),
        std::string("a\nb"), std::string("caf\xC3\xA9"), std::string(10 * 1024, 'a')}) {
    absl::Status s = Id("account_id", bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(std::string(s.message()).find("account_id"), std::string::npos);
  }
}

TEST(ValidateTest, Countries) {
  EXPECT_TRUE(Country("country", "DE").ok());
  EXPECT_TRUE(Country("country", "GB").ok());
  EXPECT_TRUE(Country("country", "AD").ok());
  EXPECT_TRUE(Country("country", "ZW").ok());
  for (const char* bad : {"", "de", "DEU", "D", "D1", "XX", "UK", "EU"}) {
    EXPECT_EQ(Country("country", bad).code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ValidateTest, Serials) {
  EXPECT_TRUE(Serial("serial", "GC000001000001").ok());
  EXPECT_TRUE(Serial("serial", "GC1000000000001").ok());  // Batch numbers past 999,999.
  for (const char* bad : {"", "GC1", "gc000001000001", "GC00000100000", "GC00000100000A",
                          "XX000001000001", "S75K-EY1Y-501E-FNM2", "GC00000100000100000000"}) {
    absl::Status s = Serial("serial", bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    if (*bad != 0) {
      EXPECT_EQ(std::string(s.message()).find(bad), std::string::npos) << bad;
    }
  }
}

TEST(ValidateTest, ASerialIsForgivenItsSpellingAsAPinIs) {
  for (const char* typed : {"GC000001000001", "gc000001000001", " GC000001000001",
                            "GC-000001-000001", "gc 000001 000001\n",
                            "GC\xC2\xA0"
                            "000001.000001",
                            "GC_000001/000001"}) {
    EXPECT_EQ(CanonicalSerial(typed), "GC000001000001") << typed;
    EXPECT_TRUE(Serial("serial", CanonicalSerial(typed)).ok()) << typed;
  }
  // Only the spelling: what is not a serial stays one that Serial refuses.
  for (const char* typed :
       {"", "GC00000100000", "GX000001000001", "GC00000100000l", "ABCD-EFGH-JKMN-PQRS"}) {
    EXPECT_FALSE(Serial("serial", CanonicalSerial(typed)).ok()) << typed;
  }
}

TEST(ValidateTest, ClientAddressesHaveOneKeyWhateverTheirSpelling) {
  for (const char* same : {"203.0.113.77", "::ffff:203.0.113.77", "::FFFF:203.0.113.77",
                           "0:0:0:0:0:ffff:cb00:714d", "::ffff:cb00:714d"}) {
    EXPECT_EQ(ClientAddressKey("client_ip", same).value_or("?"), "203.0.113.77") << same;
  }
  // IPv6 per /64, in one canonical form.
  EXPECT_EQ(ClientAddressKey("client_ip", "2001:DB8:1:2:aaaa::1").value_or("?"),
            "2001:db8:1:2::/64");
  EXPECT_EQ(ClientAddressKey("client_ip", "2001:0db8:0001:0002:ffff:ffff:ffff:ffff").value_or("?"),
            "2001:db8:1:2::/64");
  EXPECT_EQ(ClientAddressKey("client_ip", "::1").value_or("?"), "::/64");
  for (const char* bad : {"", "localhost", "203.0.113.777", "203.0.113", "fe80::1%eth0",
                          "10.0.0.1/24", " 10.0.0.1", "1.2.3.4.5", "::ffff:1.2.3"}) {
    auto key = ClientAddressKey("client_ip", bad);
    EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ValidateTest, Text) {
  EXPECT_TRUE(Text("reference", "", 10).ok());
  EXPECT_TRUE(Text("reference", "Grüße", 10).ok());
  EXPECT_FALSE(Text("reference", "12345678901", 10).ok());
  EXPECT_FALSE(Text("reference", "a\x01", 10).ok());
  EXPECT_FALSE(Text("reference", "\xC3", 10).ok());
  EXPECT_FALSE(Text("reference", "\xC0\xAF", 10).ok());
}

TEST(ValidateTest, Traceparent) {
  EXPECT_TRUE(Traceparent("traceparent", "").ok());
  EXPECT_TRUE(
      Traceparent("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").ok());
  const absl::Status bad = Traceparent("traceparent", "1234-5678-9012-3456");
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.message().find("1234"), absl::string_view::npos) << "never echoes the value";
  EXPECT_FALSE(Traceparent("traceparent", std::string(10000, 'a')).ok());
}

}  // namespace
}  // namespace giftcard::validate

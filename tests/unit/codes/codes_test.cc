#include "codes/codes.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "absl/strings/escaping.h"
#include "codes/hasher.h"
#include "errors/status.h"

namespace giftcard::codes {
namespace {

std::string Reason(const absl::StatusOr<std::string>& s) { return errors::ReasonOf(s.status()); }

TEST(CodesTest, GeneratedPinsAreValidUniqueAndUseTheAlphabet) {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    const std::string pin = GeneratePin();
    ASSERT_EQ(pin.size(), 16u);
    for (char c : pin) ASSERT_NE(kAlphabet.find(c), absl::string_view::npos) << pin;
    auto normalized = Normalize(pin);
    ASSERT_TRUE(normalized.ok()) << pin;
    EXPECT_EQ(*normalized, pin);
    seen.insert(pin);
  }
  EXPECT_EQ(seen.size(), 10000u);
}

TEST(CodesTest, CheckSymbolCatchesEverySingleSubstitutionAndAdjacentSwap) {
  for (int n = 0; n < 1000; ++n) {
    const std::string pin = GeneratePin();
    for (size_t i = 0; i < pin.size(); ++i) {
      for (char c : kAlphabet) {
        if (c == pin[i]) continue;
        std::string typo = pin;
        typo[i] = c;
        EXPECT_FALSE(Normalize(typo).ok()) << pin << " → " << typo;
      }
      if (i + 1 < pin.size() && pin[i] != pin[i + 1]) {
        std::string swapped = pin;
        std::swap(swapped[i], swapped[i + 1]);
        EXPECT_EQ(Reason(Normalize(swapped)), "CODE_MISTYPED") << pin << " → " << swapped;
      }
    }
  }
}

TEST(CodesTest, InputIsForgiving) {
  const std::string pin = GeneratePin();
  const std::string formatted = Format(pin);
  EXPECT_EQ(formatted.size(), 19u);
  std::string lower = formatted;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const std::string& typed :
       {formatted, lower, " " + pin + "\n",
        pin.substr(0, 4) + ". " + pin.substr(4, 8) + "/" + pin.substr(12),
        pin.substr(0, 8) + "\xC2\xA0" + pin.substr(8),      // no-break space
        pin.substr(0, 8) + "\xE3\x80\x80" + pin.substr(8),  // ideographic space
        pin.substr(0, 8) + "\xE2\x80\x93" + pin.substr(8),  // en dash
        "\"" + formatted + "\".", "  (" + formatted + ")\r\n",
        "\xE2\x80\x9C" + pin + "\xE2\x80\x9D", "\xEF\xBB\xBF" + formatted,
        pin.substr(0, 4) + "\xE2\x80\x8B" + pin.substr(4), "\t" + pin + ",",
        "#" + formatted + "!"}) {
    auto normalized = Normalize(typed);
    ASSERT_TRUE(normalized.ok()) << typed;
    EXPECT_EQ(*normalized, pin);
  }
}

TEST(CodesTest, LookAlikeLettersAndFullWidthFormsAreFolded) {
  // Build a PIN with 0 and 1 in it, then type them as O, I and L.
  std::string body = "0123456789ABCDE";
  std::string pin = body + CheckSymbol(body);
  std::string typed = pin;
  typed[0] = 'O';
  typed[1] = 'l';
  ASSERT_TRUE(Normalize(typed).ok());
  EXPECT_EQ(*Normalize(typed), pin);
  typed[1] = 'I';
  EXPECT_EQ(*Normalize(typed), pin);
  // Full-width "０" (U+FF10) for the leading zero.
  EXPECT_EQ(*Normalize("\xEF\xBC\x90" + pin.substr(1)), pin);
}

TEST(CodesTest, MalformedInputIsRefusedWithoutEchoingIt) {
  for (const std::string& bad :
       {std::string(""), std::string("ABC"), std::string(17, 'A'),
        std::string("ABCD-EFGH-JKMN-PQR!"), std::string("UUUU-UUUU-UUUU-UUUU"),
        std::string(500, '1'), std::string("\xff\xfe"),
        std::string("ABCD\x00"
                    "EFGHJKMNPQRS",
                    17)}) {
    auto s = Normalize(bad);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(Reason(s), "CODE_MALFORMED");
    if (bad.size() > 3) {
      EXPECT_EQ(std::string(s.status().message()).find(bad), std::string::npos);
    }
  }
}

TEST(HasherTest, HashesWithTheActiveKeyAndFindsCodesUnderOldKeys) {
  const std::string k1(64, 'a'), k2(64, 'b');
  auto old_only = CodeHasher::FromSpec("k1:" + k1);
  auto rotated = CodeHasher::FromSpec("k2:" + k2 + ",k1:" + k1);
  ASSERT_TRUE(old_only.ok());
  ASSERT_TRUE(rotated.ok());
  const std::string pin = GeneratePin();
  const CodeHash stored = old_only->Hash(pin);
  EXPECT_EQ(stored.key_id, "k1");
  EXPECT_EQ(stored.digest.size(), 32u);
  EXPECT_EQ(rotated->Hash(pin).key_id, "k2");
  EXPECT_NE(rotated->Hash(pin).digest, stored.digest);
  bool found = false;
  for (const auto& h : rotated->AllHashes(pin)) found |= (h.digest == stored.digest);
  EXPECT_TRUE(found);
  EXPECT_NE(old_only->Hash(GeneratePin()).digest, stored.digest);
}

// RFC 4231 test case 6 (a 131-byte key): the keyed context, copied for each
// digest, gives HMAC-SHA256 itself, from any number of threads at once.
TEST(HasherTest, DigestIsHmacSha256FromEveryThread) {
  auto hasher = CodeHasher::FromSpec("k1:" + std::string(262, 'a'));
  ASSERT_TRUE(hasher.ok());
  const std::string data = "Test Using Larger Than Block-Size Key - Hash Key First";
  const std::string want = "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54";
  EXPECT_EQ(absl::BytesToHexString(hasher->Hash(data).digest), want);
  std::vector<std::string> got(8);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) got[t] = absl::BytesToHexString(hasher->Hash(data).digest);
    });
  }
  for (auto& t : threads) t.join();
  for (const std::string& g : got) EXPECT_EQ(g, want);
}

TEST(HasherTest, RefusesWeakOrMalformedPeppers) {
  EXPECT_FALSE(CodeHasher::FromSpec("").ok());
  EXPECT_FALSE(CodeHasher::FromSpec("k1:abcd").ok());
  EXPECT_FALSE(CodeHasher::FromSpec("k1:" + std::string(64, 'z')).ok());
  EXPECT_FALSE(CodeHasher::FromSpec(":" + std::string(64, 'a')).ok());
  EXPECT_FALSE(
      CodeHasher::FromSpec("k1:" + std::string(64, 'a') + ",k1:" + std::string(64, 'b')).ok());
}

}  // namespace
}  // namespace giftcard::codes

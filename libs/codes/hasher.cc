#include "codes/hasher.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace giftcard::codes {

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

absl::StatusOr<CodeHasher> CodeHasher::FromSpec(absl::string_view spec) {
  CodeHasher hasher;
  for (absl::string_view entry : absl::StrSplit(spec, ',', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> kv = absl::StrSplit(entry, ':');
    const std::string key_id(absl::StripAsciiWhitespace(kv.first));
    const absl::string_view hex = absl::StripAsciiWhitespace(kv.second);
    if (key_id.empty() || key_id.size() > 32) {
      return absl::InvalidArgumentError("pepper key id must be 1 to 32 characters");
    }
    if (hex.size() < 64 || hex.size() % 2 != 0 ||
        hex.find_first_not_of("0123456789abcdefABCDEF") != absl::string_view::npos) {
      return absl::InvalidArgumentError("pepper secret of key '" + key_id +
                                        "' must be at least 64 hex digits");
    }
    if (!hasher.secrets_.emplace(key_id, absl::HexStringToBytes(hex)).second) {
      return absl::InvalidArgumentError("pepper key id '" + key_id + "' appears twice");
    }
    if (hasher.active_key_id_.empty()) hasher.active_key_id_ = key_id;
  }
  if (hasher.active_key_id_.empty()) return absl::InvalidArgumentError("no pepper key configured");
  return hasher;
}

std::string CodeHasher::Digest(const std::string& secret, absl::string_view normalized) const {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(normalized.data()), normalized.size(), out, &out_len);
  return std::string(reinterpret_cast<const char*>(out), out_len);
}

CodeHash CodeHasher::Hash(absl::string_view normalized) const {
  return {active_key_id_, Digest(secrets_.at(active_key_id_), normalized)};
}

std::vector<CodeHash> CodeHasher::AllHashes(absl::string_view normalized) const {
  std::vector<CodeHash> out;
  out.push_back(Hash(normalized));
  for (const auto& [key_id, secret] : secrets_) {
    if (key_id != active_key_id_) out.push_back({key_id, Digest(secret, normalized)});
  }
  return out;
}

}  // namespace giftcard::codes

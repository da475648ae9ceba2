#include "codes/hasher.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>

#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace giftcard::codes {

std::vector<std::string> DigestsOf(const std::vector<CodeHash>& hashes) {
  std::vector<std::string> out;
  out.reserve(hashes.size());
  for (const CodeHash& h : hashes) out.push_back(h.digest);
  return out;
}

std::string Sha256Hex(absl::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

class CodeHasher::KeyedMac {
 public:
  explicit KeyedMac(const std::string& secret) {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr);
    if (mac != nullptr) ctx_ = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // The context keeps its own reference.
    char digest[] = OSSL_DIGEST_NAME_SHA2_256;
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                                 OSSL_PARAM_construct_end()};
    if (ctx_ == nullptr || EVP_MAC_init(ctx_, reinterpret_cast<const unsigned char*>(secret.data()),
                                        secret.size(), params) != 1) {
      std::abort();  // No HMAC-SHA256 in this OpenSSL: nothing could be hashed.
    }
  }
  ~KeyedMac() { EVP_MAC_CTX_free(ctx_); }
  KeyedMac(const KeyedMac&) = delete;
  KeyedMac& operator=(const KeyedMac&) = delete;

  // HMAC-SHA256(secret, data): a copy of the keyed context, so threads share
  // this one only for reading.
  std::string Digest(absl::string_view data) const {
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_dup(ctx_);
    unsigned char out[EVP_MAX_MD_SIZE];
    size_t out_len = 0;
    const bool ok = ctx != nullptr &&
                    EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()),
                                   data.size()) == 1 &&
                    EVP_MAC_final(ctx, out, &out_len, sizeof(out)) == 1;
    EVP_MAC_CTX_free(ctx);
    if (!ok) std::abort();  // Out of memory: no digest to give.
    return std::string(reinterpret_cast<const char*>(out), out_len);
  }

 private:
  EVP_MAC_CTX* ctx_ = nullptr;
};

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
    if (hasher.macs_.count(key_id) != 0) {
      return absl::InvalidArgumentError("pepper key id '" + key_id + "' appears twice");
    }
    hasher.macs_.emplace(key_id, std::make_shared<const KeyedMac>(absl::HexStringToBytes(hex)));
    if (hasher.active_key_id_.empty()) hasher.active_key_id_ = key_id;
  }
  if (hasher.active_key_id_.empty()) return absl::InvalidArgumentError("no pepper key configured");
  return hasher;
}

std::string CodeHasher::Digest(const KeyedMac& mac, absl::string_view normalized) {
  return mac.Digest(normalized);
}

CodeHash CodeHasher::Hash(absl::string_view normalized) const {
  return {active_key_id_, Digest(*macs_.at(active_key_id_), normalized)};
}

std::vector<CodeHash> CodeHasher::AllHashes(absl::string_view normalized) const {
  std::vector<CodeHash> out;
  out.push_back(Hash(normalized));
  for (const auto& [key_id, mac] : macs_) {
    if (key_id != active_key_id_) out.push_back({key_id, Digest(*mac, normalized)});
  }
  return out;
}

}  // namespace giftcard::codes

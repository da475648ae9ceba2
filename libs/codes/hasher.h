// Codes are stored only as HMAC-SHA256(pepper, normalized PIN), tagged with
// the pepper's key id so the pepper can be rotated: new codes use the active
// key, lookups try every configured key, so old codes still redeem.
#ifndef GIFTCARD_LIBS_CODES_HASHER_H_
#define GIFTCARD_LIBS_CODES_HASHER_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace giftcard::codes {

struct CodeHash {
  std::string key_id;
  std::string digest;  // 32 raw bytes.
};

// The digests of `hashes`, in order (a batch's keys for a lookup).
std::vector<std::string> DigestsOf(const std::vector<CodeHash>& hashes);

// SHA-256 of `data` as 64 hex digits (request fingerprints).
std::string Sha256Hex(absl::string_view data);

class CodeHasher {
 public:
  // `spec` is "kid:hexsecret[,kid:hexsecret...]"; the first key is the active
  // one. Secrets must be at least 32 bytes (64 hex digits).
  static absl::StatusOr<CodeHasher> FromSpec(absl::string_view spec);

  // Hash under the active key, for new codes.
  CodeHash Hash(absl::string_view normalized) const;
  // Hashes under every key, for lookups.
  std::vector<CodeHash> AllHashes(absl::string_view normalized) const;

 private:
  // A pepper's HMAC, keyed once: each digest copies it (OpenSSL 3's
  // one-shot HMAC() looks the algorithm up and sets the key every call).
  class KeyedMac;

  CodeHasher() = default;
  static std::string Digest(const KeyedMac& mac, absl::string_view normalized);

  std::string active_key_id_;
  std::map<std::string, std::shared_ptr<const KeyedMac>> macs_;  // by key id
};

}  // namespace giftcard::codes

#endif  // GIFTCARD_LIBS_CODES_HASHER_H_

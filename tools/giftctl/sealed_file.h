// An issuance file sealed for the card printer: OpenPGP-encrypted to the
// printer's public key with GPGME, so the PINs are never on disk in plain
// text. GPGME stays inside sealed_file.cc.
#ifndef GIFTCARD_TOOLS_GIFTCTL_SEALED_FILE_H_
#define GIFTCARD_TOOLS_GIFTCTL_SEALED_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace giftcard::giftctl {

// The keys a file is encrypted to, found before anything is issued.
struct Recipients {
  std::vector<std::string> fingerprints;
  // Every recipient was named by its full fingerprint: the operator pinned
  // the key, so its web-of-trust validity is not asked for.
  bool pinned = false;
};

// Each pattern (a full fingerprint, a key id or a user id such as an email
// address) must name exactly one key in the keyring (GNUPGHOME) that can
// encrypt and is not revoked, expired or disabled; one named by user id or
// key id must also be valid (certified) there. FAILED_PRECONDITION with
// what to do otherwise.
absl::StatusOr<Recipients> FindRecipients(const std::vector<std::string>& patterns);

// Encrypts `plaintext` to the recipients (binary OpenPGP) into `fd`.
absl::Status WriteSealed(const Recipients& recipients, const std::string& plaintext, int fd);

}  // namespace giftcard::giftctl

#endif  // GIFTCARD_TOOLS_GIFTCTL_SEALED_FILE_H_

#include "sealed_file.h"

#include <gpgme++/context.h>
#include <gpgme++/data.h>
#include <gpgme++/encryptionresult.h>
#include <gpgme++/error.h>
#include <gpgme++/global.h>
#include <gpgme++/key.h>
#include <gpgme++/keylistresult.h>

#include <cctype>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace giftcard::giftctl {
namespace {

std::unique_ptr<GpgME::Context> OpenPgp() {
  static const bool initialized = [] {
    GpgME::initializeLibrary();
    return true;
  }();
  (void)initialized;
  return std::unique_ptr<GpgME::Context>(GpgME::Context::createForProtocol(GpgME::OpenPGP));
}

bool IsFingerprint(const std::string& pattern) {
  std::string hex = pattern;
  if (absl::StartsWithIgnoreCase(hex, "0x")) hex = hex.substr(2);
  if (hex.size() != 40 && hex.size() != 64) return false;
  for (char c : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::Status Refused(const std::string& message) { return absl::FailedPreconditionError(message); }

bool AnyValidUserId(const GpgME::Key& key) {
  for (const GpgME::UserID& uid : key.userIDs()) {
    if (!uid.isRevoked() && !uid.isInvalid() && uid.validity() >= GpgME::UserID::Full) {
      return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<Recipients> FindRecipients(const std::vector<std::string>& patterns) {
  auto ctx = OpenPgp();
  if (!ctx) return Refused("GnuPG (gpg) is not available: cannot encrypt the file");
  Recipients out;
  out.pinned = !patterns.empty();
  for (const std::string& pattern : patterns) {
    const bool fingerprint = IsFingerprint(pattern);
    out.pinned = out.pinned && fingerprint;
    std::vector<GpgME::Key> found;
    if (GpgME::Error e = ctx->startKeyListing(pattern.c_str(), false)) {
      return Refused(absl::StrCat("cannot list OpenPGP keys: ", e.asString()));
    }
    GpgME::Error e;
    for (GpgME::Key key = ctx->nextKey(e); !e && !key.isNull(); key = ctx->nextKey(e)) {
      found.push_back(key);
    }
    ctx->endKeyListing();
    if (found.empty()) {
      return Refused(absl::StrCat("--recipient=", pattern,
                                  ": no such public key in the keyring (gpg --import the "
                                  "printer's key first; GNUPGHOME picks the keyring)"));
    }
    if (found.size() > 1) {
      return Refused(absl::StrCat("--recipient=", pattern, " matches ", found.size(),
                                  " keys: give the full fingerprint of the printer's key"));
    }
    const GpgME::Key& key = found[0];
    const std::string fpr = key.primaryFingerprint() ? key.primaryFingerprint() : "";
    if (key.isBad() || !key.canEncrypt()) {
      return Refused(absl::StrCat("--recipient=", pattern, ": key ", fpr,
                                  " cannot encrypt (revoked, expired, disabled or without an "
                                  "encryption subkey)"));
    }
    if (!fingerprint && !AnyValidUserId(key)) {
      return Refused(absl::StrCat("--recipient=", pattern, ": key ", fpr,
                                  " is not certified in this keyring; check it with the printer "
                                  "and give its full fingerprint to use it"));
    }
    out.fingerprints.push_back(fpr);
  }
  return out;
}

absl::Status WriteSealed(const Recipients& recipients, const std::string& plaintext, int fd) {
  auto ctx = OpenPgp();
  if (!ctx) return Refused("GnuPG (gpg) is not available: cannot encrypt the file");
  std::vector<GpgME::Key> keys;
  for (const std::string& fpr : recipients.fingerprints) {
    GpgME::Error e;
    GpgME::Key key = ctx->key(fpr.c_str(), e, false);
    if (e || key.isNull()) {
      return Refused(absl::StrCat("key ", fpr, " left the keyring: ", e.asString()));
    }
    keys.push_back(key);
  }
  ctx->setArmor(false);
  GpgME::Data in(plaintext.data(), plaintext.size(), /*copy=*/false);
  GpgME::Data out(fd);
  // (NoEncryptTo, to ignore gpg.conf's encrypt-to keys, answers "Not
  // implemented" with GPGME 1.18.)
  const auto flags = recipients.pinned ? GpgME::Context::AlwaysTrust : GpgME::Context::None;
  const GpgME::EncryptionResult result = ctx->encrypt(keys, in, out, flags);
  if (result.error()) {
    return absl::InternalError(absl::StrCat("encrypting failed: ", result.error().asString()));
  }
  return absl::OkStatus();
}

}  // namespace giftcard::giftctl

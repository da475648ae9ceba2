// VaultService: the vault's rules, one file per job (vault_issuance.cc,
// vault_reads.cc, vault_redemption.cc, vault_clawback.cc); here what they
// share.
#include "services/code_vault/domain/vault_service.h"

#include <algorithm>
#include <memory>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "codes/codes.h"
#include "errors/macros.h"
#include "errors/status.h"
#include "log/log.h"
#include "validate/validate.h"

namespace giftcard::code_vault {

VaultService::VaultService(CodeStore& store, RedemptionGuard& guard, CreditGateway& credit,
                           AttemptLimiter& limiter, const codes::CodeHasher& hasher,
                           Options options)
    : store_(store),
      guard_(guard),
      credit_(credit),
      limiter_(limiter),
      hasher_(hasher),
      options_(std::move(options)),
      sync_admission_(guard, limiter),
      sync_store_(store),
      sync_credit_(credit) {}

std::vector<LimitKey> VaultService::LimitKeys(const std::string& account_id,
                                              const std::string& client_key) const {
  std::vector<LimitKey> keys;
  if (!account_id.empty()) {
    keys.push_back({"acct:" + account_id, options_.max_failures_per_account});
  }
  keys.push_back({"ip:" + client_key, options_.max_failures_per_client});
  return keys;
}

}  // namespace giftcard::code_vault

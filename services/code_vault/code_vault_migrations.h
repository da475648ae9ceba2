// Schema of code-vault, compiled from schema/*.sql.
#ifndef GIFTCARD_SERVICES_CODE_VAULT_MIGRATIONS_H_
#define GIFTCARD_SERVICES_CODE_VAULT_MIGRATIONS_H_

#include <vector>

#include "pg/migrations.h"

namespace giftcard::code_vault {

// Advisory lock key under which replicas apply migrations one at a time.
inline constexpr int64_t kMigrationLockKey = 0x636f'6465'7661'756c;  // "codevaul"

const std::vector<pg::Migration>& Migrations();

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_MIGRATIONS_H_

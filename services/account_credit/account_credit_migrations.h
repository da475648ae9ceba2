// Schema of account-credit, compiled from schema/*.sql.
#ifndef GIFTCARD_SERVICES_ACCOUNT_CREDIT_MIGRATIONS_H_
#define GIFTCARD_SERVICES_ACCOUNT_CREDIT_MIGRATIONS_H_

#include <vector>

#include "pg/migrations.h"

namespace giftcard::account_credit {

// Advisory lock key under which replicas apply migrations one at a time.
inline constexpr int64_t kMigrationLockKey = 0x6163'6372'6564'6974;  // "accredit"

const std::vector<pg::Migration>& Migrations();

}  // namespace giftcard::account_credit

#endif  // GIFTCARD_SERVICES_ACCOUNT_CREDIT_MIGRATIONS_H_

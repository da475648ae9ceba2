// Schema of billing, compiled from schema/*.sql.
#ifndef GIFTCARD_SERVICES_BILLING_MIGRATIONS_H_
#define GIFTCARD_SERVICES_BILLING_MIGRATIONS_H_

#include <vector>

#include "pg/migrations.h"

namespace giftcard::billing {

// Advisory lock key under which replicas apply migrations one at a time.
inline constexpr int64_t kMigrationLockKey = 0x6269'6c6c'696e'6721;  // "billing!"

const std::vector<pg::Migration>& Migrations();

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_MIGRATIONS_H_

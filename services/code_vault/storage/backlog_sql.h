// The vault's sagas the recovery worker has not settled yet, measured for
// backlog::Gauges (the pool must prepare them).
#ifndef GIFTCARD_SERVICES_CODE_VAULT_STORAGE_BACKLOG_SQL_H_
#define GIFTCARD_SERVICES_CODE_VAULT_STORAGE_BACKLOG_SQL_H_

#include <vector>

#include "pg/pool.h"

namespace giftcard::code_vault {

// sql::kBacklogRedemptions, sql::kBacklogClawbacks.
std::vector<pg::Statement> BacklogStatements();

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_STORAGE_BACKLOG_SQL_H_

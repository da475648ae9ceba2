#include "services/code_vault/storage/backlog_sql.h"

#include "services/code_vault/storage/sql/statements.h"

namespace giftcard::code_vault {

std::vector<pg::Statement> BacklogStatements() {
  return {sql::kBacklogRedemptions, sql::kBacklogClawbacks};
}

}  // namespace giftcard::code_vault

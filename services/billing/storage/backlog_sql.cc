#include "services/billing/storage/backlog_sql.h"

#include "services/billing/storage/sql/statements.h"

namespace giftcard::billing {

std::vector<pg::Statement> BacklogStatements() { return {sql::kBacklogApplications}; }

}  // namespace giftcard::billing

#include "services/billing/storage/backlog_sql.h"

namespace giftcard::billing {

// A credit application waiting for its debit (PENDING) or its reversal
// (REVERSAL_PENDING), aged from its last change: the reversal's intent is
// written as an update. Over the partial index the recovery worker claims from.
std::vector<pg::Statement> BacklogStatements() {
  return {{"bl_backlog_applications",
           "SELECT count(*), coalesce(extract(epoch FROM now() - min(update_time))::float8, 0)"
           " FROM credit_applications WHERE state IN ('PENDING', 'REVERSAL_PENDING')"}};
}

}  // namespace giftcard::billing

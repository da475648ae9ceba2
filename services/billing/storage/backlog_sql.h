// Billing's sagas the recovery worker has not settled yet, measured for
// backlog::Gauges (the pool must prepare them).
#ifndef GIFTCARD_SERVICES_BILLING_STORAGE_BACKLOG_SQL_H_
#define GIFTCARD_SERVICES_BILLING_STORAGE_BACKLOG_SQL_H_

#include <vector>

#include "pg/pool.h"

namespace giftcard::billing {

// sql::kBacklogApplications.
std::vector<pg::Statement> BacklogStatements();

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_STORAGE_BACKLOG_SQL_H_

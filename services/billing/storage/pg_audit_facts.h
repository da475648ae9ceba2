// billing's side of the audit (audit::BillingFacts), read from its own table
// with named statements, in one REPEATABLE READ snapshot.
#ifndef GIFTCARD_SERVICES_BILLING_STORAGE_PG_AUDIT_FACTS_H_
#define GIFTCARD_SERVICES_BILLING_STORAGE_PG_AUDIT_FACTS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "audit/audit.h"
#include "pg/pool.h"

namespace giftcard::billing {

// The statements ReadAuditFacts runs; the pool must prepare them.
std::vector<pg::Statement> AuditStatements();

absl::StatusOr<audit::BillingFacts> ReadAuditFacts(pg::Pool& pool);

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_STORAGE_PG_AUDIT_FACTS_H_

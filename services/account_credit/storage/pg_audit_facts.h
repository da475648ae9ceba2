// account-credit's side of the audit (audit::LedgerFacts), read from its own
// tables with named statements, in one REPEATABLE READ snapshot.
#ifndef GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_PG_AUDIT_FACTS_H_
#define GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_PG_AUDIT_FACTS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "audit/audit.h"
#include "pg/pool.h"

namespace giftcard::account_credit {

// The statements ReadAuditFacts runs; the pool must prepare them.
std::vector<pg::Statement> AuditStatements();

absl::StatusOr<audit::LedgerFacts> ReadAuditFacts(pg::Pool& pool);

}  // namespace giftcard::account_credit

#endif  // GIFTCARD_SERVICES_ACCOUNT_CREDIT_STORAGE_PG_AUDIT_FACTS_H_

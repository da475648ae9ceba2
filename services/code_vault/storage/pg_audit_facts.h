// code-vault's side of the audit (audit::VaultFacts), read from its own
// tables with named statements, in one REPEATABLE READ snapshot.
#ifndef GIFTCARD_SERVICES_CODE_VAULT_STORAGE_PG_AUDIT_FACTS_H_
#define GIFTCARD_SERVICES_CODE_VAULT_STORAGE_PG_AUDIT_FACTS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "audit/audit.h"
#include "pg/pool.h"

namespace giftcard::code_vault {

// The statements ReadAuditFacts runs; the pool must prepare them.
std::vector<pg::Statement> AuditStatements();

absl::StatusOr<audit::VaultFacts> ReadAuditFacts(pg::Pool& pool);

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_STORAGE_PG_AUDIT_FACTS_H_

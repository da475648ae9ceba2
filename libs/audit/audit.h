// The audit: every invariant of DESIGN.md's "Ledger" section, checked across
// the three databases, each violation reported on its own.
//
// Facts are read in the order vault, billing, ledger, each database in one
// REPEATABLE READ snapshot. A redemption or application completes only after
// its transfer is committed, so anything settled in the earlier snapshots has
// its transfer in the later one. Work still in flight (PENDING rows, and
// transfers newer than the earlier snapshots) is not a violation.
//
// The check itself (Check) is a pure function of the facts, so it is unit
// tested. Each service reads its own facts from its own tables
// (services/<svc>/storage/pg_audit_facts.h) and exports them over
// ExportAuditFacts; tools and tests read them there (audit/wire.h), never a
// database.
#ifndef GIFTCARD_LIBS_AUDIT_AUDIT_H_
#define GIFTCARD_LIBS_AUDIT_AUDIT_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace giftcard::audit {

struct Violation {
  std::string invariant;  // A short name, e.g. "currency_sums_to_zero".
  std::string detail;     // Ids and amounts; never a PIN.
};

// Facts from account-credit.
struct LedgerFacts {
  struct Transfer {
    std::string transfer_id, request_id, kind, account_id, currency_code, reverses_transfer_id;
    int64_t amount_minor = 0;
    absl::Time create_time;
    int entries = 0;                // Number of ledger entries.
    int64_t entries_sum = 0;        // Their signed sum (0 for a balanced transfer).
    int64_t customer_side = 0;      // The entry on the customer account.
    int64_t owed_added_minor = 0;   // A clawback's unrecovered part; -1: not recorded.
    int64_t owed_repaid_minor = 0;  // A credit's part that paid owed.
  };
  std::map<std::string, int64_t> currency_sums;  // Sum of all entries per currency.
  struct Balance {
    std::string account_id;
    int64_t balance_minor = 0;
    int64_t entries_sum = 0;  // Of its entries in the account's currency.
    std::string currency_code;
    int64_t foreign_currency_entries = 0;  // Entries in any other currency.
    int64_t owed_minor = 0;
    int64_t owed_from_transfers = 0;  // Owed added minus repaid over its transfers.
  };
  std::vector<Balance> balances;
  std::vector<Transfer> transfers;
};

// Facts from code-vault.
struct VaultFacts {
  struct Redemption {
    std::string redemption_id, account_id, state, currency_code;
    int64_t amount_minor = 0;
  };
  struct RedeemedCode {
    std::string serial, redemption_id, account_id;
  };
  struct Clawback {
    std::string clawback_id, redemption_id, state, ledger_request_id, currency_code;
    int64_t clawed_back_minor = 0;  // COMPLETED only.
    std::string code_state;         // The stored state of the redemption's code.
  };
  std::vector<Redemption> redemptions;
  std::vector<RedeemedCode> redeemed_codes;
  std::vector<Clawback> clawbacks;
  absl::Time snapshot_time;
};

// Facts from billing.
struct BillingFacts {
  struct Application {
    std::string invoice_id, account_id, state, debit_transfer_id, reversal_transfer_id;
    int64_t applied_minor = 0;
  };
  std::vector<Application> applications;
  absl::Time snapshot_time;
};

std::vector<Violation> Check(const VaultFacts& vault, const BillingFacts& billing,
                             const LedgerFacts& ledger);

// "invariant: detail" lines, one per violation.
std::string Format(const std::vector<Violation>& violations);

}  // namespace giftcard::audit

#endif  // GIFTCARD_LIBS_AUDIT_AUDIT_H_

// Domain types of billing. No gRPC, libpqxx or hiredis here.
#ifndef GIFTCARD_SERVICES_BILLING_DOMAIN_MODEL_H_
#define GIFTCARD_SERVICES_BILLING_DOMAIN_MODEL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "money/money.h"

namespace giftcard::billing {

enum class ApplicationState { kPending, kApplied, kReversalPending, kReversed };

const char* ApplicationStateName(ApplicationState state);
std::optional<ApplicationState> ApplicationStateFromName(const std::string& name);

struct CreditApplication {
  std::string invoice_id;
  std::string account_id;
  money::Money amount_due;
  ApplicationState state = ApplicationState::kPending;
  int64_t applied_minor = 0;           // Meaningful once kApplied.
  int64_t remaining_credit_minor = 0;  // Meaningful once kApplied.
  std::string debit_transfer_id;
  std::string reversal_transfer_id;
  absl::Time create_time;
  absl::Time update_time;
  int attempts = 0;  // Recovery attempts claimed so far (ClaimUnsettled counts them).
  // The W3C trace context of the call driving the saga now, carried to
  // account-credit. Not stored: a recovery worker's attempt has none.
  std::string traceparent;

  int64_t amount_to_charge_minor() const { return amount_due.amount_minor - applied_minor; }
  // The cue for a "credit runs out soon" notice.
  bool next_invoice_covered() const { return remaining_credit_minor >= amount_due.amount_minor; }
};

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_DOMAIN_MODEL_H_

// The rules of accounts and credit: validation, eligibility of gift credit
// (DESIGN.md "Eligibility"), how much a debit takes, what a reversal may put
// back. Storage makes each posting atomic; this class decides what it is.
#ifndef GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_ACCOUNT_SERVICE_H_
#define GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_ACCOUNT_SERVICE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/account_credit/domain/ledger_store.h"
#include "services/account_credit/domain/model.h"

namespace giftcard::account_credit {

// Whether gift credit of `currency_code` sold in `code_region` may go to
// `account`: ACCOUNT_CLOSED, REGION_MISMATCH, CURRENCY_MISMATCH or
// THIRD_PARTY_BILLING (FAILED_PRECONDITION), each a definite refusal.
absl::Status CheckGiftCreditEligibility(const Account& account, const std::string& currency_code,
                                        const std::string& code_region);

// What reversing `original` moves: the same amount, the other way (a debit's
// reversal pays what the account owes first, as every credit does). Refused
// (FAILED_PRECONDITION) for a reversal of a reversal (CANNOT_REVERSE_REVERSAL),
// a transfer already reversed (ALREADY_REVERSED), or gift credit already
// spent (INSUFFICIENT_CREDIT).
absl::StatusOr<Movement> PlanReversal(const PostingContext& context);

// What clawing back the gift credit `original` moves: the credit's amount,
// or the account's balance when less was left (never below zero), the rest
// added to what the account owes. Refused
// (FAILED_PRECONDITION) for anything but a credit (NOT_A_CREDIT) or a credit
// already reversed (ALREADY_REVERSED).
absl::StatusOr<Movement> PlanClawback(const PostingContext& context);

struct ListEntriesQuery {
  std::string account_id;
  int page_size = 0;  // 0: the default.
  std::string page_token;
  // Entries written in [start_time, end_time); unset: unbounded.
  std::optional<absl::Time> start_time = std::nullopt;
  std::optional<absl::Time> end_time = std::nullopt;
};

struct ListEntriesResult {
  std::vector<LedgerEntry> entries;
  std::string next_page_token;
};

// The most commands one batch call may carry.
inline constexpr size_t kMaxBatchCommands = 1000;

class AccountService {
 public:
  explicit AccountService(LedgerStore& store) : store_(store), sync_postings_(store) {}

  // Creates or updates an account; `closed` unset keeps the stored state
  // (OPEN for a new account).
  absl::StatusOr<Account> UpsertAccount(const Account& account, std::optional<bool> closed);
  absl::StatusOr<Account> GetAccount(const std::string& account_id);
  absl::StatusOr<Transfer> CreditAccount(const CreditCommand& command);
  absl::StatusOr<Transfer> DebitAccount(const DebitCommand& command);
  // Many credits (debits) in one call, not atomic: one answer per command,
  // in order, each exactly what CreditAccount (DebitAccount) would answer
  // it; the valid ones are posted together (LedgerStore::PostAll).
  // INVALID_ARGUMENT for the whole call when there are none or more than
  // kMaxBatchCommands.
  absl::StatusOr<std::vector<absl::StatusOr<Transfer>>> CreditAccounts(
      const std::vector<CreditCommand>& commands);
  absl::StatusOr<std::vector<absl::StatusOr<Transfer>>> DebitAccounts(
      const std::vector<DebitCommand>& commands);
  // The same without waiting: the valid commands' postings go to
  // `postings` (the engine's store, in the service), and `done` gets the
  // answers on the thread it answers on. `postings` outlives the call.
  using BatchDone = Callback<absl::StatusOr<std::vector<absl::StatusOr<Transfer>>>>;
  void StartCreditAccounts(AsyncPostings& postings, const std::vector<CreditCommand>& commands,
                           BatchDone done);
  void StartDebitAccounts(AsyncPostings& postings, const std::vector<DebitCommand>& commands,
                          BatchDone done);
  absl::StatusOr<Transfer> ReverseTransfer(const ReverseCommand& command);
  // A reversal of a credit that takes back what is left of it and records
  // the rest as owed (PlanClawback).
  absl::StatusOr<Transfer> ClawBackCredit(const ReverseCommand& command);
  absl::StatusOr<ListEntriesResult> ListLedgerEntries(const ListEntriesQuery& query);

 private:
  template <typename Command>
  void StartPostMany(AsyncPostings& postings, const std::vector<Command>& commands,
                     absl::StatusOr<Posting> (*posting_of)(const Command&), BatchDone done);

  LedgerStore& store_;
  SyncPostings sync_postings_;
};

}  // namespace giftcard::account_credit

#endif  // GIFTCARD_SERVICES_ACCOUNT_CREDIT_DOMAIN_ACCOUNT_SERVICE_H_

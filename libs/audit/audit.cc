#include "audit/audit.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace giftcard::audit {
namespace {

constexpr char kApplyPrefix[] = "billing:apply:";
constexpr char kReversePrefix[] = "billing:reverse:";
constexpr char kClawbackPrefix[] = "vault:clawback:";
constexpr char kRepaymentPrefix[] = "owed-repayment/";

class Report {
 public:
  void Add(absl::string_view invariant, std::string detail) {
    out_.push_back({std::string(invariant), std::move(detail)});
  }
  std::vector<Violation> Take() { return std::move(out_); }

 private:
  std::vector<Violation> out_;
};

// Every credit that repaid owed has its repayment, of that amount, out of
// the same account back to gift-funding; every repayment has its credit;
// only a clawback adds to what an account owes.
void CheckRepayments(const LedgerFacts& ledger,
                     const std::map<std::string, const LedgerFacts::Transfer*>& by_request,
                     Report& report) {
  for (const auto& t : ledger.transfers) {
    if (t.owed_added_minor > 0 && !absl::StartsWith(t.request_id, kClawbackPrefix)) {
      report.Add("only_clawbacks_add_owed", absl::StrCat("transfer ", t.transfer_id));
    }
    if (t.owed_repaid_minor > 0) {
      auto r = by_request.find(kRepaymentPrefix + t.request_id);
      if (t.kind == "DEBIT" || t.kind == "REPAYMENT" || r == by_request.end() ||
          r->second->kind != "REPAYMENT" || r->second->amount_minor != t.owed_repaid_minor ||
          r->second->account_id != t.account_id || t.owed_repaid_minor > t.amount_minor) {
        report.Add("repaid_owed_has_its_repayment",
                   absl::StrCat("transfer ", t.transfer_id, " repaid ", t.owed_repaid_minor));
      }
    }
    if (t.kind == "REPAYMENT") {
      auto credit = by_request.find(t.request_id.substr(
          absl::StartsWith(t.request_id, kRepaymentPrefix) ? sizeof(kRepaymentPrefix) - 1 : 0));
      if (!absl::StartsWith(t.request_id, kRepaymentPrefix) || credit == by_request.end() ||
          credit->second->owed_repaid_minor != t.amount_minor || t.amount_minor <= 0 ||
          t.customer_side != -t.amount_minor) {
        report.Add("repayment_has_its_credit", absl::StrCat("repayment ", t.transfer_id));
      }
    }
  }
}

// Each account: its balance is its entries' sum, in its currency, never
// negative, and what it owes is what its transfers say.
void CheckBalances(const LedgerFacts& ledger, Report& report) {
  for (const auto& [currency, sum] : ledger.currency_sums) {
    if (sum != 0) {
      report.Add("currency_sums_to_zero", absl::StrCat(currency, " entries sum to ", sum));
    }
  }
  for (const auto& b : ledger.balances) {
    if (b.balance_minor != b.entries_sum) {
      report.Add("balance_equals_entries", absl::StrCat(b.account_id, " balance ", b.balance_minor,
                                                        " but entries sum to ", b.entries_sum));
    }
    if (b.foreign_currency_entries > 0) {
      report.Add("entries_in_account_currency",
                 absl::StrCat(b.account_id, " (", b.currency_code, ") has ",
                              b.foreign_currency_entries, " entries in another currency"));
    }
    if (b.balance_minor < 0) {
      report.Add("customer_balance_non_negative",
                 absl::StrCat(b.account_id, " balance ", b.balance_minor));
    }
    if (b.owed_minor != b.owed_from_transfers || b.owed_minor < 0) {
      report.Add("owed_equals_transfers",
                 absl::StrCat(b.account_id, " owes ", b.owed_minor, " but its transfers say ",
                              b.owed_from_transfers));
    }
    // Every credit pays owed first: credit on the balance beside an owed
    // amount is money the account was given twice.
    if (b.owed_minor > 0 && b.balance_minor != 0) {
      report.Add("owed_only_at_zero_balance", absl::StrCat(b.account_id, " owes ", b.owed_minor,
                                                           " with a balance of ", b.balance_minor));
    }
  }
}

// A reversal mirrors the transfer it reverses, and reverses it once.
void CheckReversal(const LedgerFacts::Transfer& t,
                   const std::map<std::string, const LedgerFacts::Transfer*>& by_id,
                   std::map<std::string, int>& reversals_of, Report& report) {
  auto it = by_id.find(t.reverses_transfer_id);
  // A clawback recovers its credit whole: what it took out of the
  // account plus what it left owed (before owed amounts were recorded,
  // -1: at most all of it); every other reversal mirrors its original.
  const bool clawback = absl::StartsWith(t.request_id, kClawbackPrefix);
  const bool recovers_whole =
      it != by_id.end() &&
      (t.owed_added_minor < 0 ? t.amount_minor <= it->second->amount_minor
                              : t.amount_minor + t.owed_added_minor == it->second->amount_minor);
  const bool mirrors = it != by_id.end() && it->second->kind != "REVERSAL" &&
                       it->second->account_id == t.account_id &&
                       (clawback ? it->second->kind == "CREDIT" && recovers_whole &&
                                       (t.amount_minor == 0 || t.customer_side == -t.amount_minor)
                                 : it->second->amount_minor == t.amount_minor &&
                                       it->second->customer_side == -t.customer_side);
  if (!mirrors) {
    report.Add("reversal_mirrors_original",
               absl::StrCat("reversal ", t.transfer_id, " of ", t.reverses_transfer_id));
  }
  if (++reversals_of[t.reverses_transfer_id] > 1) {
    report.Add("reversed_at_most_once", absl::StrCat("transfer ", t.reverses_transfer_id));
  }
}

void CheckLedger(const LedgerFacts& ledger, Report& report) {
  CheckBalances(ledger, report);
  std::map<std::string, const LedgerFacts::Transfer*> by_id, by_request;
  for (const auto& t : ledger.transfers) {
    by_id[t.transfer_id] = &t;
    by_request[t.request_id] = &t;
  }
  CheckRepayments(ledger, by_request, report);
  std::map<std::string, int> reversals_of;
  for (const auto& t : ledger.transfers) {
    const int want_entries = t.amount_minor > 0 ? 2 : 0;
    if (t.entries != want_entries || t.entries_sum != 0 ||
        (t.amount_minor > 0 && t.customer_side != t.amount_minor &&
         t.customer_side != -t.amount_minor)) {
      report.Add("transfer_is_two_balanced_entries",
                 absl::StrCat("transfer ", t.transfer_id, " (", t.kind, " ", t.amount_minor,
                              ") has ", t.entries, " entries summing to ", t.entries_sum));
    }
    if (t.kind == "CREDIT" && t.customer_side < 0) {
      report.Add("transfer_direction", absl::StrCat("credit ", t.transfer_id, " took money out"));
    }
    if (t.kind == "DEBIT" && t.customer_side > 0) {
      report.Add("transfer_direction", absl::StrCat("debit ", t.transfer_id, " put money in"));
    }
    if (t.kind == "REVERSAL") CheckReversal(t, by_id, reversals_of, report);
  }
}

using CreditsByRequest = std::map<std::string, std::vector<const LedgerFacts::Transfer*>>;

// Every clawback has its completed redemption and, once COMPLETED, its one
// reversal of that redemption's credit, for the amount it reports, and its
// code held (BLOCKED or VOIDED); no redemption is clawed back twice; every
// clawback reversal in the ledger has its clawback. A COMPLETED clawback's
// redemption counts as redeemed (`redeemed_ids`): its code left REDEEMED.
void CheckClawbacks(const VaultFacts& vault, const LedgerFacts& ledger,
                    const CreditsByRequest& credits, std::set<std::string>& redeemed_ids,
                    Report& report) {
  std::map<std::string, const VaultFacts::Redemption*> redemptions;
  for (const auto& r : vault.redemptions) redemptions[r.redemption_id] = &r;
  std::map<std::string, const LedgerFacts::Transfer*> by_request;
  for (const auto& t : ledger.transfers) by_request[t.request_id] = &t;
  std::map<std::string, const VaultFacts::Clawback*> by_ledger_request;
  std::map<std::string, int> live_per_redemption;
  for (const auto& c : vault.clawbacks) {
    by_ledger_request[c.ledger_request_id] = &c;
    auto r = redemptions.find(c.redemption_id);
    if (r == redemptions.end() || r->second->state != "COMPLETED") {
      report.Add("clawback_has_its_redemption",
                 absl::StrCat("clawback ", c.clawback_id, " of redemption ", c.redemption_id));
    }
    if (c.state != "REJECTED" && ++live_per_redemption[c.redemption_id] > 1) {
      report.Add("redemption_clawed_back_at_most_once",
                 absl::StrCat("redemption ", c.redemption_id));
    }
    if (c.state != "COMPLETED") continue;
    redeemed_ids.insert(c.redemption_id);
    auto reversal = by_request.find(c.ledger_request_id);
    auto credit = credits.find(c.redemption_id);
    if (reversal == by_request.end() || reversal->second->kind != "REVERSAL" ||
        credit == credits.end() || credit->second.size() != 1 ||
        reversal->second->reverses_transfer_id != credit->second[0]->transfer_id ||
        reversal->second->amount_minor != c.clawed_back_minor ||
        reversal->second->currency_code != c.currency_code) {
      report.Add("clawback_has_its_reversal", absl::StrCat("clawback ", c.clawback_id));
    }
    if (c.code_state != "BLOCKED" && c.code_state != "VOIDED") {
      report.Add("clawed_back_code_is_held",
                 absl::StrCat("clawback ", c.clawback_id, " left its code ", c.code_state));
    }
  }
  for (const auto& t : ledger.transfers) {
    if (!absl::StartsWith(t.request_id, kClawbackPrefix)) continue;
    if (t.create_time >= vault.snapshot_time) continue;  // In flight at the snapshot.
    auto it = by_ledger_request.find(t.request_id);
    if (it == by_ledger_request.end() || it->second->state == "REJECTED") {
      report.Add("clawback_reversal_has_clawback", absl::StrCat("reversal ", t.transfer_id));
    }
  }
}

void CheckVault(const VaultFacts& vault, const LedgerFacts& ledger, Report& report) {
  std::map<std::string, const VaultFacts::Redemption*> redemptions;
  for (const auto& r : vault.redemptions) redemptions[r.redemption_id] = &r;
  CreditsByRequest credits;  // By request id.
  for (const auto& t : ledger.transfers) {
    if (t.kind == "CREDIT") credits[t.request_id].push_back(&t);
  }
  std::set<std::string> redeemed_ids;
  CheckClawbacks(vault, ledger, credits, redeemed_ids, report);
  for (const auto& c : vault.redeemed_codes) {
    redeemed_ids.insert(c.redemption_id);
    auto it = redemptions.find(c.redemption_id);
    if (it == redemptions.end() || it->second->state != "COMPLETED" ||
        it->second->account_id != c.account_id) {
      report.Add("redeemed_code_has_completed_redemption",
                 absl::StrCat("code ", c.serial, " redemption '", c.redemption_id, "'"));
    }
  }
  for (const auto& r : vault.redemptions) {
    if (r.state != "COMPLETED") continue;
    if (!redeemed_ids.count(r.redemption_id)) {
      report.Add("completed_redemption_has_redeemed_code",
                 absl::StrCat("redemption ", r.redemption_id));
    }
    auto it = credits.find(r.redemption_id);
    if (it == credits.end() || it->second.size() != 1 ||
        it->second[0]->account_id != r.account_id ||
        it->second[0]->amount_minor != r.amount_minor ||
        it->second[0]->currency_code != r.currency_code) {
      report.Add(
          "redeemed_code_has_one_credit",
          absl::StrCat("redemption ", r.redemption_id, " has ",
                       it == credits.end() ? 0 : it->second.size(), " matching credit transfers"));
    }
  }
  for (const auto& [request_id, transfers] : credits) {
    for (const auto* t : transfers) {
      if (t->create_time >= vault.snapshot_time) continue;  // In flight at the snapshot.
      auto it = redemptions.find(request_id);
      if (it == redemptions.end() ||
          (it->second->state != "COMPLETED" && it->second->state != "PENDING")) {
        report.Add(
            "credit_has_redeemed_code",
            absl::StrCat("credit ", t->transfer_id, " for request ", request_id, " has ",
                         it == redemptions.end() ? "no redemption"
                                                 : "a " + it->second->state + " redemption"));
      }
    }
  }
}

void CheckBilling(const BillingFacts& billing, const LedgerFacts& ledger, Report& report) {
  std::map<std::string, const LedgerFacts::Transfer*> by_request;
  for (const auto& t : ledger.transfers) by_request[t.request_id] = &t;
  std::map<std::string, const BillingFacts::Application*> apps;
  for (const auto& a : billing.applications) apps[a.invoice_id] = &a;
  for (const auto& a : billing.applications) {
    if (a.state == "PENDING") continue;
    auto debit = by_request.find(kApplyPrefix + a.invoice_id);
    if (debit == by_request.end() || debit->second->kind != "DEBIT" ||
        debit->second->transfer_id != a.debit_transfer_id ||
        debit->second->account_id != a.account_id ||
        debit->second->amount_minor != a.applied_minor) {
      report.Add("applied_credit_has_its_debit", absl::StrCat("invoice ", a.invoice_id));
    }
    if (a.state == "REVERSED" && a.applied_minor > 0) {
      auto reversal = by_request.find(kReversePrefix + a.invoice_id);
      if (reversal == by_request.end() || reversal->second->kind != "REVERSAL" ||
          reversal->second->reverses_transfer_id != a.debit_transfer_id) {
        report.Add("reversed_credit_has_its_reversal", absl::StrCat("invoice ", a.invoice_id));
      }
    }
  }
  for (const auto& t : ledger.transfers) {
    if (t.create_time >= billing.snapshot_time) continue;  // In flight at the snapshot.
    if (absl::StartsWith(t.request_id, kApplyPrefix)) {
      auto it = apps.find(t.request_id.substr(sizeof(kApplyPrefix) - 1));
      if (it == apps.end()) {
        report.Add("debit_has_application", absl::StrCat("debit ", t.transfer_id));
      }
    } else if (absl::StartsWith(t.request_id, kReversePrefix)) {
      auto it = apps.find(t.request_id.substr(sizeof(kReversePrefix) - 1));
      if (it == apps.end() ||
          (it->second->state != "REVERSED" && it->second->state != "REVERSAL_PENDING")) {
        report.Add("reversal_has_reversed_application", absl::StrCat("reversal ", t.transfer_id));
      }
    }
  }
}

}  // namespace

std::vector<Violation> Check(const VaultFacts& vault, const BillingFacts& billing,
                             const LedgerFacts& ledger) {
  Report report;
  CheckLedger(ledger, report);
  CheckVault(vault, ledger, report);
  CheckBilling(billing, ledger, report);
  return report.Take();
}

std::string Format(const std::vector<Violation>& violations) {
  std::string out;
  for (const auto& v : violations) absl::StrAppend(&out, v.invariant, ": ", v.detail, "\n");
  return out;
}

}  // namespace giftcard::audit

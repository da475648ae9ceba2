#include "audit/audit.h"

#include <pqxx/pqxx>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "pg/pool.h"

namespace giftcard::audit {
namespace {

using Snapshot = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

constexpr char kApplyPrefix[] = "billing:apply:";
constexpr char kReversePrefix[] = "billing:reverse:";

class Report {
 public:
  void Add(absl::string_view invariant, std::string detail) {
    out_.push_back({std::string(invariant), std::move(detail)});
  }
  std::vector<Violation> Take() { return std::move(out_); }

 private:
  std::vector<Violation> out_;
};

void CheckLedger(const LedgerFacts& ledger, Report& report) {
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
  }
  std::map<std::string, const LedgerFacts::Transfer*> by_id;
  for (const auto& t : ledger.transfers) by_id[t.transfer_id] = &t;
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
    if (t.kind == "REVERSAL") {
      auto it = by_id.find(t.reverses_transfer_id);
      if (it == by_id.end() || it->second->kind == "REVERSAL" ||
          it->second->account_id != t.account_id || it->second->amount_minor != t.amount_minor ||
          it->second->customer_side != -t.customer_side) {
        report.Add("reversal_mirrors_original",
                   absl::StrCat("reversal ", t.transfer_id, " of ", t.reverses_transfer_id));
      }
      if (++reversals_of[t.reverses_transfer_id] > 1) {
        report.Add("reversed_at_most_once", absl::StrCat("transfer ", t.reverses_transfer_id));
      }
    }
  }
}

void CheckVault(const VaultFacts& vault, const LedgerFacts& ledger, Report& report) {
  std::map<std::string, const VaultFacts::Redemption*> redemptions;
  for (const auto& r : vault.redemptions) redemptions[r.redemption_id] = &r;
  std::map<std::string, std::vector<const LedgerFacts::Transfer*>> credits;  // By request id.
  for (const auto& t : ledger.transfers) {
    if (t.kind == "CREDIT") credits[t.request_id].push_back(&t);
  }
  std::set<std::string> redeemed_ids;
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

absl::Time SnapshotTime(pqxx::transaction_base& tx) {
  return absl::FromUnixMicros(
      tx.exec1("SELECT (extract(epoch FROM now()) * 1000000)::bigint")[0].as<int64_t>());
}

VaultFacts ReadVault(pqxx::transaction_base& tx) {
  VaultFacts f;
  f.snapshot_time = SnapshotTime(tx);
  for (const auto& row : tx.exec("SELECT redemption_id::text, account_id, state, currency_code, "
                                 "amount_minor FROM redemptions")) {
    f.redemptions.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                             row[2].as<std::string>(), row[3].as<std::string>(),
                             row[4].as<int64_t>()});
  }
  for (const auto& row : tx.exec("SELECT serial, coalesce(redemption_id::text, ''), "
                                 "coalesce(redeemed_by_account_id, '') FROM codes "
                                 "WHERE state = 'REDEEMED'")) {
    f.redeemed_codes.push_back(
        {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()});
  }
  return f;
}

BillingFacts ReadBilling(pqxx::transaction_base& tx) {
  BillingFacts f;
  f.snapshot_time = SnapshotTime(tx);
  for (const auto& row :
       tx.exec("SELECT invoice_id, account_id, state, coalesce(debit_transfer_id, ''), "
               "coalesce(reversal_transfer_id, ''), coalesce(applied_minor, 0) "
               "FROM credit_applications")) {
    f.applications.push_back({row[0].as<std::string>(), row[1].as<std::string>(),
                              row[2].as<std::string>(), row[3].as<std::string>(),
                              row[4].as<std::string>(), row[5].as<int64_t>()});
  }
  return f;
}

LedgerFacts ReadLedger(pqxx::transaction_base& tx) {
  LedgerFacts f;
  for (const auto& row :
       tx.exec("SELECT currency_code, sum(amount_minor) FROM ledger_entries GROUP BY 1")) {
    f.currency_sums[row[0].as<std::string>()] = row[1].as<int64_t>();
  }
  // A balance counts in its account's currency: entries in any other are
  // counted apart, never added to it.
  for (const auto& row :
       tx.exec("SELECT a.account_id, a.balance_minor, "
               "coalesce(sum(e.amount_minor) FILTER (WHERE e.currency_code = a.currency_code), 0), "
               "a.currency_code, count(e.entry_id) FILTER (WHERE e.currency_code <> a.currency_code) "
               "FROM accounts a LEFT JOIN ledger_entries e USING (account_id) GROUP BY 1, 2, 4")) {
    f.balances.push_back({row[0].as<std::string>(), row[1].as<int64_t>(), row[2].as<int64_t>(),
                          row[3].as<std::string>(), row[4].as<int64_t>()});
  }
  for (const auto& row :
       tx.exec("SELECT t.transfer_id::text, t.request_id, t.kind, t.account_id, t.currency_code, "
               "coalesce(t.reverses_transfer_id::text, ''), t.amount_minor, " +
               pg::Micros("t.create_time") +
               ", count(e.entry_id), coalesce(sum(e.amount_minor), 0), "
               "coalesce(sum(e.amount_minor) FILTER (WHERE e.account_id = t.account_id), 0) "
               "FROM transfers t LEFT JOIN ledger_entries e ON e.transfer_id = t.transfer_id "
               "GROUP BY t.request_id")) {
    LedgerFacts::Transfer t;
    t.transfer_id = row[0].as<std::string>();
    t.request_id = row[1].as<std::string>();
    t.kind = row[2].as<std::string>();
    t.account_id = row[3].as<std::string>();
    t.currency_code = row[4].as<std::string>();
    t.reverses_transfer_id = row[5].as<std::string>();
    t.amount_minor = row[6].as<int64_t>();
    t.create_time = absl::FromUnixMicros(row[7].as<int64_t>());
    t.entries = row[8].as<int>();
    t.entries_sum = row[9].as<int64_t>();
    t.customer_side = row[10].as<int64_t>();
    f.transfers.push_back(std::move(t));
  }
  return f;
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

absl::StatusOr<std::vector<Violation>> Run(const Databases& databases) {
  try {
    pqxx::connection vault_conn(pg::WithConnectTimeout(databases.code_vault_dsn, 5));
    pqxx::connection billing_conn(pg::WithConnectTimeout(databases.billing_dsn, 5));
    pqxx::connection ledger_conn(pg::WithConnectTimeout(databases.account_credit_dsn, 5));
    // Order matters; see audit.h.
    Snapshot vault_tx(vault_conn, "audit_vault");
    VaultFacts vault = ReadVault(vault_tx);
    Snapshot billing_tx(billing_conn, "audit_billing");
    BillingFacts billing = ReadBilling(billing_tx);
    Snapshot ledger_tx(ledger_conn, "audit_ledger");
    LedgerFacts ledger = ReadLedger(ledger_tx);
    return Check(vault, billing, ledger);
  } catch (const std::exception& e) {
    return pg::Pool::StatusFromException(e);
  }
}

namespace {

// One snapshot read on a service's own pool; exceptions stop here.
template <typename Facts, typename Reader>
absl::StatusOr<Facts> ReadOnPool(pg::Pool& pool, Reader read) {
  Facts facts;
  absl::Status status = pool.ReadSnapshot([&](pqxx::transaction_base& tx) {
    facts = read(tx);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return facts;
}

}  // namespace

absl::StatusOr<VaultFacts> ReadVaultFacts(pg::Pool& pool) {
  return ReadOnPool<VaultFacts>(pool, ReadVault);
}

absl::StatusOr<BillingFacts> ReadBillingFacts(pg::Pool& pool) {
  return ReadOnPool<BillingFacts>(pool, ReadBilling);
}

absl::StatusOr<LedgerFacts> ReadLedgerFacts(pg::Pool& pool) {
  return ReadOnPool<LedgerFacts>(pool, ReadLedger);
}

std::string Format(const std::vector<Violation>& violations) {
  std::string out;
  for (const auto& v : violations) absl::StrAppend(&out, v.invariant, ": ", v.detail, "\n");
  return out;
}

}  // namespace giftcard::audit

// giftctl report liability, breakage and dormant: finance's reports, as a
// table, CSV (minor units) or --json.
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "calls.h"
#include "money/money.h"
#include "output.h"

namespace giftcard::giftctl {
namespace {

struct ReportFlags {
  bool csv = false;
  int days = 365;  // report dormant.
};

// A report's rows as a table (money formatted) or as CSV (minor units).
struct ReportTable {
  std::vector<std::string> header, csv_header;
  std::vector<std::vector<std::string>> rows, csv_rows;
};

int PrintReport(const ReportTable& t, bool csv) {
  if (csv) {
    std::printf("%s\n", absl::StrJoin(t.csv_header, ",").c_str());
    for (const auto& row : t.csv_rows) {
      std::vector<std::string> fields;
      for (const std::string& f : row) fields.push_back(CsvField(f));
      std::printf("%s\n", absl::StrJoin(fields, ",").c_str());
    }
  } else {
    PrintTable(t.header, t.rows);
  }
  return kExitOk;
}

// One currency's line of the liability: the credit accounts hold plus the
// codes sold and not yet redeemed (held ones included). REDEEMING codes are
// shown, not added: their credit may already be on an account.
struct LiabilityLine {
  v1::CreditLiability::Currency credit;
  v1::CodeLiability::Currency codes;

  int64_t total() const {
    return credit.balance().amount_minor() + codes.active_value().amount_minor() +
           codes.held_value().amount_minor();
  }
};
using Liability = std::map<std::string, LiabilityLine>;

void PrintLiabilityJson(const v1::CreditLiability& credit, const v1::CodeLiability& codes,
                        const Liability& lines) {
  nlohmann::ordered_json out;
  out["credit"] = nlohmann::ordered_json::parse(ToJson(credit));
  out["codes"] = nlohmann::ordered_json::parse(ToJson(codes));
  out["total"] = nlohmann::ordered_json::array();
  for (const auto& [cur, l] : lines) {
    out["total"].push_back({{"currency_code", cur}, {"amount_minor", absl::StrCat(l.total())}});
  }
  std::printf("%s\n", DumpJson(out).c_str());
}

// The table: counts first, then the amounts, TOTAL last and the sum of the
// amounts before it; codes in flight are a line of their own below.
void PrintLiability(const Liability& lines, bool csv) {
  ReportTable t;
  t.header = {"CURRENCY",      "ACCOUNTS",      "ACTIVE_CODES", "HELD_CODES",
              "CREDIT_AMOUNT", "ACTIVE_AMOUNT", "HELD_AMOUNT",  "TOTAL"};
  t.csv_header = {"currency",           "account_credit_minor", "accounts",
                  "active_codes_minor", "active_codes",         "held_codes_minor",
                  "held_codes",         "total_minor",          "redeeming_minor"};
  std::vector<std::string> in_flight;
  for (const auto& [cur, l] : lines) {
    auto money = [&cur](const v1::Money& m) { return money::ToString({cur, m.amount_minor()}); };
    auto minor = [](const v1::Money& m) { return absl::StrCat(m.amount_minor()); };
    t.rows.push_back({cur, absl::StrCat(l.credit.accounts_with_credit()),
                      absl::StrCat(l.codes.active_count()), absl::StrCat(l.codes.held_count()),
                      money(l.credit.balance()), money(l.codes.active_value()),
                      money(l.codes.held_value()), money::ToString({cur, l.total()})});
    if (l.codes.redeeming_count() > 0) {
      in_flight.push_back(absl::StrCat("in flight, not in TOTAL: ", l.codes.redeeming_count(), " ",
                                       l.codes.redeeming_count() == 1 ? "code" : "codes",
                                       " REDEEMING, ", money(l.codes.redeeming_value()),
                                       " (their credit may already be on an account)"));
    }
    t.csv_rows.push_back({cur, minor(l.credit.balance()),
                          absl::StrCat(l.credit.accounts_with_credit()),
                          minor(l.codes.active_value()), absl::StrCat(l.codes.active_count()),
                          minor(l.codes.held_value()), absl::StrCat(l.codes.held_count()),
                          absl::StrCat(l.total()), minor(l.codes.redeeming_value())});
  }
  PrintReport(t, csv);
  if (!csv) {
    for (const std::string& line : in_flight) std::printf("%s\n", line.c_str());
  }
}

int ReportLiability(const Session& session, const ReportFlags& flags) {
  v1::CreditLiability credit;
  grpc::Status status = Credit(session)->GetCreditLiability(
      session.Call().get(), v1::GetCreditLiabilityRequest(), &credit);
  if (!status.ok()) return session.CallFailed(status);
  v1::CodeLiability codes;
  status =
      Vault(session)->GetCodeLiability(session.Call().get(), v1::GetCodeLiabilityRequest(), &codes);
  if (!status.ok()) return session.CallFailed(status);
  Liability lines;
  for (const auto& c : credit.currencies()) lines[c.currency_code()].credit = c;
  for (const auto& c : codes.currencies()) lines[c.currency_code()].codes = c;
  if (session.json()) {
    PrintLiabilityJson(credit, codes, lines);
  } else {
    PrintLiability(lines, flags.csv);
  }
  return kExitOk;
}

int ReportBreakage(const Session& session, const ReportFlags& flags) {
  v1::BreakageReport report;
  grpc::Status status = Vault(session)->GetBreakageReport(session.Call().get(),
                                                          v1::GetBreakageReportRequest(), &report);
  if (!status.ok()) return session.CallFailed(status);
  if (session.json()) {
    std::printf("%s\n", ToJson(report).c_str());
    return kExitOk;
  }
  ReportTable t;
  t.header = {"MONTH", "BATCH_ID", "KIND", "CODES", "VALUE"};
  t.csv_header = {"month", "batch_id", "kind", "codes", "currency", "value_minor"};
  for (const auto& r : report.rows()) {
    const std::string kind = Short(v1::BreakageKind_Name(r.kind()), "BREAKAGE_KIND_");
    t.rows.push_back(
        {r.month(), r.batch_id(), kind, absl::StrCat(r.code_count()), Money(r.value())});
    t.csv_rows.push_back({r.month(), r.batch_id(), kind, absl::StrCat(r.code_count()),
                          r.value().currency_code(), absl::StrCat(r.value().amount_minor())});
  }
  return PrintReport(t, flags.csv);
}

int ReportDormant(const Session& session, const ReportFlags& flags) {
  if (flags.days < 1) return session.UsageError("report dormant", "--days is at least 1");
  v1::ListDormantAccountsRequest request;
  request.set_days(flags.days);
  request.set_page_size(1000);
  v1::ListDormantAccountsResponse all;
  while (true) {
    v1::ListDormantAccountsResponse page;
    grpc::Status status =
        Credit(session)->ListDormantAccounts(session.Call().get(), request, &page);
    if (!status.ok()) return session.CallFailed(status);
    for (const auto& a : page.accounts()) *all.add_accounts() = a;
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  if (session.json()) {
    std::printf("%s\n", ToJson(all).c_str());
    return kExitOk;
  }
  ReportTable t;
  t.header = {"ACCOUNT_ID", "COUNTRY", "BALANCE", "LAST_ENTRY"};
  t.csv_header = {"account_id", "country", "currency", "balance_minor", "last_entry_time"};
  for (const auto& a : all.accounts()) {
    t.rows.push_back({a.account_id(), a.country(), Money(a.balance()), Time(a.last_entry_time())});
    t.csv_rows.push_back({a.account_id(), a.country(), a.balance().currency_code(),
                          absl::StrCat(a.balance().amount_minor()), Time(a.last_entry_time())});
  }
  return PrintReport(t, flags.csv);
}

}  // namespace

void AddReportCommands(CommandLine& cli) {
  CLI::App* report =
      cli.Group("report", "finance's reports (admin and support): liability, breakage, dormancy");
  const Session& session = cli.session();
  ReportFlags& liability = cli.NewFlags<ReportFlags>();
  CLI::App* c = cli.Command(
      report, "liability",
      "what is owed as credit, per currency: account credit plus sold, unredeemed codes",
      [&] { return ReportLiability(session, liability); });
  c->add_flag("--csv", liability.csv, "CSV (minor units) instead of a table");
  Explain(c,
          "ACCOUNTS, ACTIVE_CODES and HELD_CODES are counts (accounts with credit; codes\n"
          "sold and not redeemed; codes blocked while active). TOTAL = CREDIT_AMOUNT +\n"
          "ACTIVE_AMOUNT + HELD_AMOUNT. Codes REDEEMING are in flight and shown on a line\n"
          "below, not in TOTAL: their credit may already be on an account. --csv: the same\n"
          "in minor units, with redeeming_minor.");

  ReportFlags& breakage = cli.NewFlags<ReportFlags>();
  c = cli.Command(report, "breakage",
                  "value of sold codes that expired or were voided unredeemed, by batch and month",
                  [&] { return ReportBreakage(session, breakage); });
  c->add_flag("--csv", breakage.csv, "CSV (minor units) instead of a table");

  ReportFlags& dormant = cli.NewFlags<ReportFlags>();
  c = cli.Command(report, "dormant",
                  "accounts holding credit with no ledger entry for --days days (unclaimed "
                  "property)",
                  [&] { return ReportDormant(session, dormant); });
  c->add_option("--days", dormant.days, "days without an entry (default 365)");
  c->add_flag("--csv", dormant.csv, "CSV (minor units) instead of a table");
}

}  // namespace giftcard::giftctl

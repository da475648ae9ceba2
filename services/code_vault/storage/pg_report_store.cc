#include "services/code_vault/storage/pg_report_store.h"

namespace giftcard::code_vault {
namespace {

// Sold and still owed: ACTIVE, or held while ACTIVE, and not past expiry;
// REDEEMING apart (in flight). A sequential scan of codes: a report, not a
// hot path.
const pg::Statement kCodeLiability{
    "cv_report_code_liability",
    "SELECT currency_code,"
    " count(*) FILTER (WHERE state = 'ACTIVE'),"
    " coalesce(sum(amount_minor) FILTER (WHERE state = 'ACTIVE'), 0)::bigint,"
    " count(*) FILTER (WHERE state = 'BLOCKED'),"
    " coalesce(sum(amount_minor) FILTER (WHERE state = 'BLOCKED'), 0)::bigint,"
    " count(*) FILTER (WHERE state = 'REDEEMING'),"
    " coalesce(sum(amount_minor) FILTER (WHERE state = 'REDEEMING'), 0)::bigint, " +
        pg::Micros("now()") +
        " FROM codes"
        " WHERE state = 'REDEEMING' OR ((state = 'ACTIVE' OR (state = 'BLOCKED'"
        "   AND blocked_from = 'ACTIVE')) AND (expire_time IS NULL OR expire_time > now()))"
        " GROUP BY currency_code ORDER BY 1"};
// Breakage: sold (activated) codes never redeemed that expired (ACTIVE or
// held while ACTIVE, past expiry) or were voided (a voided code that was
// redeemed, after a clawback, keeps its redemption id and is not breakage).
const pg::Statement kBreakage{
    "cv_report_breakage",
    "SELECT batch_id::text, to_char(t AT TIME ZONE 'UTC', 'YYYY-MM'), kind, currency_code,"
    " count(*), sum(amount_minor)::bigint, " +
        pg::Micros("now()") +
        " FROM ("
        "  SELECT batch_id, currency_code, amount_minor, 'VOIDED' AS kind, void_time AS t"
        "  FROM codes WHERE state = 'VOIDED' AND redemption_id IS NULL"
        "   AND activate_time IS NOT NULL"
        "  UNION ALL"
        "  SELECT batch_id, currency_code, amount_minor, 'EXPIRED', expire_time FROM codes"
        "  WHERE expire_time <= now() AND (state = 'ACTIVE'"
        "   OR (state = 'BLOCKED' AND blocked_from = 'ACTIVE'))) broken"
        " GROUP BY 1, 2, 3, 4 ORDER BY 2, 1, 3"};

}  // namespace

std::vector<pg::Statement> PgReportStore::Statements() { return {kCodeLiability, kBreakage}; }

absl::StatusOr<CodeLiability> PgReportStore::ReadCodeLiability() {
  CodeLiability out;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    out = CodeLiability{};
    out.read_time = absl::Now();
    for (const auto& row : tx.exec_prepared(kCodeLiability.name)) {
      out.currencies.push_back({row[0].as<std::string>(), row[1].as<int64_t>(),
                                row[2].as<int64_t>(), row[3].as<int64_t>(), row[4].as<int64_t>(),
                                row[5].as<int64_t>(), row[6].as<int64_t>()});
      out.read_time = absl::FromUnixMicros(row[7].as<int64_t>());
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<BreakageReport> PgReportStore::ReadBreakage() {
  BreakageReport out;
  absl::Status s = pool_.Read([&](pqxx::transaction_base& tx) -> absl::Status {
    out = BreakageReport{};
    out.read_time = absl::Now();
    for (const auto& row : tx.exec_prepared(kBreakage.name)) {
      out.rows.push_back(
          {row[0].as<std::string>(), row[1].as<std::string>(),
           row[2].as<std::string>() == "VOIDED" ? BreakageKind::kVoided : BreakageKind::kExpired,
           row[3].as<std::string>(), row[4].as<int64_t>(), row[5].as<int64_t>()});
      out.read_time = absl::FromUnixMicros(row[6].as<int64_t>());
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace giftcard::code_vault

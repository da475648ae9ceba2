#include "services/account_credit/domain/report_service.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "errors/macros.h"
#include "errors/status.h"

namespace giftcard::account_credit {
namespace {

constexpr int kMaxDays = 36500;
// Unset days: a year, as giftctl's --days, the usual unclaimed-property cue.
constexpr int kDefaultDays = 365;
constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;

}  // namespace

absl::StatusOr<DormantResult> ReportService::DormantAccounts(const DormantQuery& asked) {
  DormantQuery query = asked;
  if (query.days == 0) query.days = kDefaultDays;
  if (query.days < 1 || query.days > kMaxDays) {
    return errors::InvalidField("days", absl::StrCat("must be 1 to ", kMaxDays, " (0: 365)"));
  }
  if (query.page_size < 0 || query.page_size > kMaxPageSize) {
    return errors::InvalidField("page_size", absl::StrCat("must be 0 to ", kMaxPageSize));
  }
  // Page tokens: base64 of the days and the last account returned.
  std::string after;
  if (!query.page_token.empty()) {
    std::string raw;
    std::vector<std::string> parts;
    int days = 0;
    if (query.page_token.size() <= 512 && absl::WebSafeBase64Unescape(query.page_token, &raw)) {
      parts = absl::StrSplit(raw, absl::MaxSplits('|', 2));
    }
    if (parts.size() != 3 || parts[0] != "v1" || !absl::SimpleAtoi(parts[1], &days) ||
        parts[2].empty()) {
      return errors::InvalidField("page_token", "is not a token this API returned");
    }
    if (days != query.days) {
      return errors::InvalidField("page_token", "was returned for other days; keep them");
    }
    after = parts[2];
  }
  const int limit = query.page_size == 0 ? kDefaultPageSize : query.page_size;
  GIFTCARD_ASSIGN_OR_RETURN(DormantPage page, store_.ReadDormantAccounts(query.days, after, limit));
  DormantResult out;
  out.accounts = std::move(page.accounts);
  if (page.more && !out.accounts.empty()) {
    out.next_page_token = absl::WebSafeBase64Escape(
        absl::StrCat("v1|", query.days, "|", out.accounts.back().account_id));
  }
  return out;
}

}  // namespace giftcard::account_credit

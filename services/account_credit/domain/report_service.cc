#include "services/account_credit/domain/report_service.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "errors/macros.h"
#include "errors/status.h"
#include "validate/page_token.h"

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
  std::string after;
  if (!query.page_token.empty()) {
    GIFTCARD_ASSIGN_OR_RETURN(after, page_token::PositionFor(query.page_token, "dormant_accounts",
                                                             {absl::StrCat(query.days)}, "days"));
  }
  const int limit = query.page_size == 0 ? kDefaultPageSize : query.page_size;
  GIFTCARD_ASSIGN_OR_RETURN(DormantPage page, store_.ReadDormantAccounts(query.days, after, limit));
  DormantResult out;
  out.accounts = std::move(page.accounts);
  if (page.more && !out.accounts.empty()) {
    out.next_page_token = page_token::Encode("dormant_accounts", {absl::StrCat(query.days)},
                                             out.accounts.back().account_id);
  }
  return out;
}

}  // namespace giftcard::account_credit

#include "services/account_credit/domain/account_service.h"

#include <algorithm>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "errors/macros.h"
#include "errors/status.h"
#include "validate/page_token.h"
#include "validate/validate.h"

namespace giftcard::account_credit {
namespace {

constexpr size_t kMaxReferenceBytes = 256;
constexpr int kDefaultPageSize = 100;
constexpr int kMaxPageSize = 1000;
// The most credit one account may hold: far above any real balance, far
// below overflow.
constexpr int64_t kMaxBalanceMinor = money::kMaxAmountMinor * 1000;

// What an incoming credit pays of the account's owed amount: first, all it can.
int64_t OwedRepaidBy(const Account& account, int64_t incoming_minor) {
  return std::clamp<int64_t>(account.owed_minor, 0, incoming_minor);
}

absl::Status Refusal(absl::string_view reason, absl::string_view message) {
  return errors::Error(absl::StatusCode::kFailedPrecondition, reason, message);
}

// Past the last time a statement can be asked for (Postgres's timestamps
// end in 294276; a range this wide already means "unbounded").
const absl::Time kEndOfStatementTime =
    absl::FromCivil(absl::CivilSecond(10000, 1, 1, 0, 0, 0), absl::UTCTimeZone());

// A page of entries continues before an entry id, for its account and time
// range (microseconds, "" unbounded).
std::vector<std::string> PageFilter(const ListEntriesQuery& q) {
  auto micros = [](const std::optional<absl::Time>& t) {
    return t ? absl::StrCat(absl::ToUnixMicros(*t)) : std::string();
  };
  return {q.account_id, micros(q.start_time), micros(q.end_time)};
}

std::string EncodePageToken(const ListEntriesQuery& q, int64_t last_entry_id) {
  return page_token::Encode("ledger_entries", PageFilter(q), absl::StrCat(last_entry_id));
}

absl::StatusOr<int64_t> DecodePageToken(const ListEntriesQuery& q) {
  if (q.page_token.empty()) return 0;
  GIFTCARD_ASSIGN_OR_RETURN(const std::string position,
                            page_token::PositionFor(q.page_token, "ledger_entries", PageFilter(q),
                                                    "account_id, start_time and end_time"));
  int64_t id = 0;
  if (!absl::SimpleAtoi(position, &id) || id <= 0) {
    return errors::InvalidField("page_token", "is not a token this API returned");
  }
  return id;
}

absl::StatusOr<Posting> CreditPosting(const CreditCommand& command) {
  GIFTCARD_RETURN_IF_ERROR(validate::Id("account_id", command.account_id));
  GIFTCARD_RETURN_IF_ERROR(money::ValidatePositive("amount", command.amount));
  GIFTCARD_RETURN_IF_ERROR(validate::Country("code_region", command.code_region));
  GIFTCARD_RETURN_IF_ERROR(validate::Id("request_id", command.request_id));
  GIFTCARD_RETURN_IF_ERROR(validate::Text("reference", command.reference, kMaxReferenceBytes));
  GIFTCARD_RETURN_IF_ERROR(validate::Traceparent("traceparent", command.traceparent));

  Posting posting;
  posting.kind = TransferKind::kCredit;
  posting.account_id = command.account_id;
  posting.counter_account_id = GiftFundingAccount(command.amount.currency_code);
  posting.currency_code = command.amount.currency_code;
  posting.request_id = command.request_id;
  posting.request_fingerprint =
      absl::StrCat("credit|", command.account_id, "|", command.amount.currency_code, "|",
                   command.amount.amount_minor, "|", command.code_region);
  posting.reference = command.reference;
  const CreditCommand cmd = command;
  posting.decide = [cmd](const PostingContext& ctx) -> absl::StatusOr<Movement> {
    GIFTCARD_RETURN_IF_ERROR(
        CheckGiftCreditEligibility(ctx.account, cmd.amount.currency_code, cmd.code_region));
    const int64_t repaid = OwedRepaidBy(ctx.account, cmd.amount.amount_minor);
    if (ctx.account.balance_minor > kMaxBalanceMinor - (cmd.amount.amount_minor - repaid)) {
      return Refusal(errors::reason::kBalanceLimit, "the account's balance would exceed its limit");
    }
    return Movement{cmd.amount.amount_minor, +1, 0, repaid};
  };
  return posting;
}

absl::StatusOr<Posting> DebitPosting(const DebitCommand& command) {
  GIFTCARD_RETURN_IF_ERROR(validate::Id("account_id", command.account_id));
  GIFTCARD_RETURN_IF_ERROR(money::ValidatePositive("max_amount", command.max_amount));
  GIFTCARD_RETURN_IF_ERROR(validate::Id("request_id", command.request_id));
  GIFTCARD_RETURN_IF_ERROR(validate::Text("reference", command.reference, kMaxReferenceBytes));
  GIFTCARD_RETURN_IF_ERROR(validate::Traceparent("traceparent", command.traceparent));

  Posting posting;
  posting.kind = TransferKind::kDebit;
  posting.account_id = command.account_id;
  posting.counter_account_id = BillingRevenueAccount(command.max_amount.currency_code);
  posting.currency_code = command.max_amount.currency_code;
  posting.request_id = command.request_id;
  posting.request_fingerprint = absl::StrCat(
      "debit|", command.account_id, "|", command.max_amount.currency_code, "|",
      command.max_amount.amount_minor, "|", command.allow_partial ? "partial" : "full");
  posting.reference = command.reference;
  const DebitCommand cmd = command;
  posting.decide = [cmd](const PostingContext& ctx) -> absl::StatusOr<Movement> {
    if (ctx.account.currency_code != cmd.max_amount.currency_code) {
      return errors::Error(absl::StatusCode::kFailedPrecondition, errors::reason::kCurrencyMismatch,
                           "the amount's currency is not the account's",
                           {{"account_currency", ctx.account.currency_code}});
    }
    if (ctx.account.balance_minor >= cmd.max_amount.amount_minor) {
      return Movement{cmd.max_amount.amount_minor, -1};
    }
    if (!cmd.allow_partial) {
      return Refusal(errors::reason::kInsufficientCredit,
                     "the account's credit does not cover the amount");
    }
    return Movement{std::max<int64_t>(ctx.account.balance_minor, 0), -1};
  };
  return posting;
}

}  // namespace

absl::Status CheckGiftCreditEligibility(const Account& account, const std::string& currency_code,
                                        const std::string& code_region) {
  if (account.closed) {
    return errors::Error(absl::StatusCode::kFailedPrecondition, errors::reason::kAccountClosed,
                         "the account is closed and takes no new credit");
  }
  if (account.country != code_region) {
    return errors::Error(absl::StatusCode::kFailedPrecondition, errors::reason::kRegionMismatch,
                         "this card can only be redeemed in the country where it was sold",
                         {{"account_country", account.country}, {"code_region", code_region}});
  }
  if (account.currency_code != currency_code) {
    return errors::Error(
        absl::StatusCode::kFailedPrecondition, errors::reason::kCurrencyMismatch,
        "the card's currency is not the account's",
        {{"account_currency", account.currency_code}, {"code_currency", currency_code}});
  }
  if (account.billing_channel != BillingChannel::kDirect) {
    return errors::Error(absl::StatusCode::kFailedPrecondition, errors::reason::kThirdPartyBilling,
                         "accounts billed by a third party cannot take gift credit; switch to "
                         "direct billing first",
                         {{"billing_channel", BillingChannelName(account.billing_channel)}});
  }
  return absl::OkStatus();
}

absl::StatusOr<Movement> PlanReversal(const PostingContext& context) {
  const Transfer& original = *context.original;
  if (original.kind == TransferKind::kReversal) {
    return Refusal(errors::reason::kCannotReverseReversal, "a reversal cannot itself be reversed");
  }
  if (context.original_reversed) {
    return Refusal(errors::reason::kAlreadyReversed, "this transfer was already reversed");
  }
  // Never true while the currency lock holds; checked so a reversal can
  // never put one currency's amount into an account that counts in another.
  if (context.account.currency_code != original.amount.currency_code) {
    return Refusal(errors::reason::kCurrencyMismatch,
                   "the transfer's currency is no longer the account's");
  }
  // A credit came in, so its reversal takes it out again, and the other way round.
  const int direction = original.kind == TransferKind::kCredit ? -1 : +1;
  if (direction < 0 && context.account.balance_minor < original.amount.amount_minor) {
    return Refusal(errors::reason::kInsufficientCredit,
                   "the credit was already spent and cannot be taken back in full");
  }
  if (direction > 0) {  // Credit given back: it pays what the account owes first.
    return Movement{original.amount.amount_minor, +1, 0,
                    OwedRepaidBy(context.account, original.amount.amount_minor)};
  }
  return Movement{original.amount.amount_minor, -1};
}

absl::StatusOr<Movement> PlanClawback(const PostingContext& context) {
  const Transfer& original = *context.original;
  if (original.kind != TransferKind::kCredit) {
    return Refusal(errors::reason::kNotACredit, "only gift credit can be clawed back");
  }
  if (context.original_reversed) {
    return Refusal(errors::reason::kAlreadyReversed, "this credit was already taken back");
  }
  if (context.account.currency_code != original.amount.currency_code) {
    return Refusal(errors::reason::kCurrencyMismatch,
                   "the credit's currency is no longer the account's");
  }
  // The whole credit is recovered: what the balance holds now, the rest as
  // owed, which the account's next credits pay first. So the outcome does
  // not depend on whether an invoice that spent it is reversed before or after.
  const int64_t left =
      std::clamp<int64_t>(context.account.balance_minor, 0, original.amount.amount_minor);
  return Movement{left, -1, original.amount.amount_minor - left, 0};
}

absl::StatusOr<Account> AccountService::UpsertAccount(const Account& account,
                                                      std::optional<bool> closed) {
  GIFTCARD_RETURN_IF_ERROR(validate::Id("account.account_id", account.account_id));
  GIFTCARD_RETURN_IF_ERROR(validate::Country("account.country", account.country));
  GIFTCARD_RETURN_IF_ERROR(
      money::ValidateCurrencyCode("account.currency_code", account.currency_code));
  if (account.billing_channel == BillingChannel::kUnspecified) {
    return errors::InvalidField("account.billing_channel", "is required");
  }
  return store_.UpsertAccount(account, closed);
}

absl::StatusOr<Account> AccountService::GetAccount(const std::string& account_id) {
  GIFTCARD_RETURN_IF_ERROR(validate::Id("account_id", account_id));
  return store_.GetAccount(account_id);
}

absl::StatusOr<Transfer> AccountService::CreditAccount(const CreditCommand& command) {
  GIFTCARD_ASSIGN_OR_RETURN(Posting posting, CreditPosting(command));
  return store_.Post(posting);
}

absl::StatusOr<Transfer> AccountService::DebitAccount(const DebitCommand& command) {
  GIFTCARD_ASSIGN_OR_RETURN(Posting posting, DebitPosting(command));
  return store_.Post(posting);
}

template <typename Command>
void AccountService::StartPostMany(AsyncPostings& postings, const std::vector<Command>& commands,
                                   absl::StatusOr<Posting> (*posting_of)(const Command&),
                                   BatchDone done) {
  if (commands.empty() || commands.size() > kMaxBatchCommands) {
    return std::move(done)(
        errors::InvalidField("requests", absl::StrCat("must hold 1 to ", kMaxBatchCommands)));
  }
  std::vector<absl::StatusOr<Transfer>> answers(commands.size(),
                                                absl::UnknownError("not answered"));
  std::vector<Posting> valid;
  std::vector<size_t> posted;  // The index of each posting's command.
  for (size_t i = 0; i < commands.size(); ++i) {
    absl::StatusOr<Posting> posting = posting_of(commands[i]);
    if (!posting.ok()) {
      answers[i] = posting.status();  // Bad input: this item only, nothing written.
      continue;
    }
    valid.push_back(*std::move(posting));
    posted.push_back(i);
  }
  if (valid.empty()) return std::move(done)(std::move(answers));
  postings.PostAll(std::move(valid),
                   [answers = std::move(answers), posted = std::move(posted),
                    done = std::move(done)](std::vector<absl::StatusOr<Transfer>> results) mutable {
                     for (size_t j = 0; j < posted.size(); ++j)
                       answers[posted[j]] = std::move(results[j]);
                     std::move(done)(std::move(answers));
                   });
}

namespace {

// The answer of a Start* call through ports that answer at once.
template <typename T>
struct Answered {
  std::optional<T> value;
  auto Callback() {
    return [this](T v) { value = std::move(v); };
  }
  T Take() {
    if (!value) return absl::InternalError("the blocking store left a batch unanswered");
    return *std::move(value);
  }
};

}  // namespace

absl::StatusOr<std::vector<absl::StatusOr<Transfer>>> AccountService::CreditAccounts(
    const std::vector<CreditCommand>& commands) {
  Answered<absl::StatusOr<std::vector<absl::StatusOr<Transfer>>>> out;
  StartPostMany(sync_postings_, commands, &CreditPosting, out.Callback());
  return out.Take();
}

absl::StatusOr<std::vector<absl::StatusOr<Transfer>>> AccountService::DebitAccounts(
    const std::vector<DebitCommand>& commands) {
  Answered<absl::StatusOr<std::vector<absl::StatusOr<Transfer>>>> out;
  StartPostMany(sync_postings_, commands, &DebitPosting, out.Callback());
  return out.Take();
}

void AccountService::StartCreditAccounts(AsyncPostings& postings,
                                         const std::vector<CreditCommand>& commands,
                                         BatchDone done) {
  StartPostMany(postings, commands, &CreditPosting, std::move(done));
}

void AccountService::StartDebitAccounts(AsyncPostings& postings,
                                        const std::vector<DebitCommand>& commands, BatchDone done) {
  StartPostMany(postings, commands, &DebitPosting, std::move(done));
}

absl::StatusOr<Transfer> AccountService::ReverseTransfer(const ReverseCommand& command) {
  GIFTCARD_RETURN_IF_ERROR(validate::Id("transfer_id", command.transfer_id));
  GIFTCARD_RETURN_IF_ERROR(validate::Id("request_id", command.request_id));
  Posting posting;
  posting.kind = TransferKind::kReversal;
  posting.reverses_transfer_id = command.transfer_id;
  posting.request_id = command.request_id;
  posting.request_fingerprint = absl::StrCat("reverse|", command.transfer_id);
  posting.reference = "reversal of " + command.transfer_id;
  posting.decide = PlanReversal;
  return store_.Post(posting);
}

absl::StatusOr<Transfer> AccountService::ClawBackCredit(const ReverseCommand& command) {
  GIFTCARD_RETURN_IF_ERROR(validate::Id("transfer_id", command.transfer_id));
  GIFTCARD_RETURN_IF_ERROR(validate::Id("request_id", command.request_id));
  Posting posting;
  posting.kind = TransferKind::kReversal;
  posting.reverses_transfer_id = command.transfer_id;
  posting.request_id = command.request_id;
  posting.request_fingerprint = absl::StrCat("clawback|", command.transfer_id);
  posting.reference = "clawback of " + command.transfer_id;
  posting.decide = PlanClawback;
  return store_.Post(posting);
}

absl::StatusOr<ListEntriesResult> AccountService::ListLedgerEntries(const ListEntriesQuery& query) {
  if (!IsSystemAccount(query.account_id)) {
    GIFTCARD_RETURN_IF_ERROR(validate::Id("account_id", query.account_id));
  }
  if (query.page_size < 0 || query.page_size > kMaxPageSize) {
    return errors::InvalidField("page_size", absl::StrCat("must be 0 to ", kMaxPageSize));
  }
  for (const auto& [field, time] :
       {std::pair{"start_time", query.start_time}, std::pair{"end_time", query.end_time}}) {
    if (time && (*time < absl::UnixEpoch() || *time >= kEndOfStatementTime)) {
      return errors::InvalidField(field, "must be between 1970-01-01 and 9999-12-31");
    }
  }
  if (query.start_time && query.end_time && *query.end_time <= *query.start_time) {
    return errors::InvalidField("end_time", "must be after start_time");
  }
  GIFTCARD_ASSIGN_OR_RETURN(int64_t before, DecodePageToken(query));
  const int limit = query.page_size == 0 ? kDefaultPageSize : query.page_size;
  GIFTCARD_ASSIGN_OR_RETURN(EntryPage page,
                            store_.ListEntries(query.account_id, before, limit,
                                               TimeRange{query.start_time, query.end_time}));
  ListEntriesResult out;
  out.entries = std::move(page.entries);
  if (page.more && !out.entries.empty()) {
    out.next_page_token = EncodePageToken(query, out.entries.back().entry_id);
  }
  return out;
}

}  // namespace giftcard::account_credit

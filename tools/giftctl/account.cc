// giftctl account show, ledger and statement: an account and its credit.
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "calls.h"
#include "output.h"
#include "protoconv/protoconv.h"

namespace giftcard::giftctl {
namespace {

using google::protobuf::util::TimeUtil;

constexpr char kStatement[] = "account statement";

struct AccountFlags {
  std::string account_id;
  PageFlags page;  // ledger
};

struct StatementFlags {
  std::string account_id;
  std::string from;  // RFC 3339 or YYYY-MM-DD (UTC midnight); "" unbounded.
  std::string to;    // Exclusive, same forms.
  bool csv = false;
};

std::string EntryKindName(v1::LedgerEntryKind kind) {
  return Short(v1::LedgerEntryKind_Name(kind), "LEDGER_ENTRY_KIND_");
}

int AccountShow(const Session& session, const AccountFlags& flags) {
  v1::GetAccountRequest request;
  request.set_account_id(flags.account_id);
  v1::Account account;
  grpc::Status status = Credit(session)->GetAccount(session.Call().get(), request, &account);
  return Answer(session, status, account, [&] {
    PrintFields({{"account_id", account.account_id()},
                 {"state", Short(v1::AccountState_Name(account.state()), "ACCOUNT_STATE_")},
                 {"country", account.country()},
                 {"currency_code", account.currency_code()},
                 {"billing_channel",
                  Short(v1::BillingChannel_Name(account.billing_channel()), "BILLING_CHANNEL_")},
                 {"balance", Money(account.balance())},
                 {"owed", Money(account.owed())},
                 {"create_time", Time(account.create_time())},
                 {"update_time", Time(account.update_time())}});
  });
}

int AccountLedger(const Session& session, const AccountFlags& flags) {
  v1::ListLedgerEntriesRequest request;
  request.set_account_id(flags.account_id);
  SetPage(flags.page, request);
  v1::ListLedgerEntriesResponse response;
  grpc::Status status =
      Credit(session)->ListLedgerEntries(session.Call().get(), request, &response);
  return Answer(session, status, response, [&] {
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : response.entries()) {
      rows.push_back({absl::StrCat(e.entry_id()), Time(e.create_time()), EntryKindName(e.kind()),
                      Or(e.reference()), Money(e.amount()), Money(e.balance_after()),
                      e.transfer_id()});
    }
    PrintTable({"ENTRY", "TIME", "KIND", "REFERENCE", "AMOUNT", "BALANCE", "TRANSFER"}, rows);
    PrintMore("account ledger " + flags.account_id, response.next_page_token());
  });
}

// RFC 3339, or a date meaning its UTC midnight.
bool ParseStatementTime(const std::string& text, google::protobuf::Timestamp* out) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error) &&
      !absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &t, &error)) {
    return false;
  }
  protoconv::ToTimestamp(t, out);
  return true;
}

// The statement's range, or the usage error's message ("" when none).
std::string StatementRange(const StatementFlags& flags, v1::ListLedgerEntriesRequest& request) {
  if (!flags.from.empty() && !ParseStatementTime(flags.from, request.mutable_start_time())) {
    return "--from wants RFC 3339 or YYYY-MM-DD, e.g. 2026-11-01";
  }
  if (!flags.to.empty() && !ParseStatementTime(flags.to, request.mutable_end_time())) {
    return "--to wants RFC 3339 or YYYY-MM-DD, e.g. 2026-12-01";
  }
  // Said in the flags' names, before the service would say it in its fields'.
  if (request.has_start_time() && request.has_end_time() &&
      TimeUtil::TimestampToNanoseconds(request.end_time()) <=
          TimeUtil::TimestampToNanoseconds(request.start_time())) {
    return "--to must be after --from";
  }
  return "";
}

// Every page of the range (newest first), returned oldest first as a
// statement reads. Paging by entry id stays stable while entries arrive.
grpc::Status ReadRange(const Session& session, v1::ListLedgerEntriesRequest request,
                       v1::ListLedgerEntriesResponse* all) {
  request.set_page_size(1000);
  while (true) {
    v1::ListLedgerEntriesResponse page;
    grpc::Status status = Credit(session)->ListLedgerEntries(session.Call().get(), request, &page);
    if (!status.ok()) return status;
    for (const auto& e : page.entries()) *all->add_entries() = e;
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
  }
  std::reverse(all->mutable_entries()->begin(), all->mutable_entries()->end());
  return grpc::Status::OK;
}

void PrintStatementCsv(const v1::ListLedgerEntriesResponse& all) {
  std::printf("entry_id,time,kind,reference,currency,amount_minor,balance_after_minor\n");
  for (const auto& e : all.entries()) {
    std::printf("%s\n", absl::StrJoin(
                            {absl::StrCat(e.entry_id()), Time(e.create_time()),
                             EntryKindName(e.kind()), CsvField(e.reference()),
                             e.amount().currency_code(), absl::StrCat(e.amount().amount_minor()),
                             e.has_balance_after() ? absl::StrCat(e.balance_after().amount_minor())
                                                   : std::string()},
                            ",")
                            .c_str());
  }
}

// The balance the range opens with: after the last entry before it (0
// before the account's first), so even an empty range says where it stands.
grpc::Status OpeningBalance(const Session& session, const v1::ListLedgerEntriesRequest& range,
                            v1::Money* opening) {
  if (range.has_start_time()) {
    v1::ListLedgerEntriesRequest before;
    before.set_account_id(range.account_id());
    before.set_page_size(1);
    *before.mutable_end_time() = range.start_time();
    v1::ListLedgerEntriesResponse last;
    grpc::Status status = Credit(session)->ListLedgerEntries(session.Call().get(), before, &last);
    if (!status.ok()) return status;
    if (last.entries_size() > 0) *opening = last.entries(0).balance_after();
  }
  if (!opening->currency_code().empty()) return grpc::Status::OK;
  v1::GetAccountRequest get;
  get.set_account_id(range.account_id());
  v1::Account account;
  grpc::Status status = Credit(session)->GetAccount(session.Call().get(), get, &account);
  opening->set_currency_code(account.currency_code());
  return status;
}

void PrintStatement(const StatementFlags& flags, const v1::Money& opening,
                    const v1::ListLedgerEntriesResponse& all) {
  v1::Money closing = opening;
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : all.entries()) {
    rows.push_back({Time(e.create_time()), EntryKindName(e.kind()), Or(e.reference()),
                    Money(e.amount()), Money(e.balance_after()), absl::StrCat(e.entry_id())});
    if (e.has_balance_after()) closing = e.balance_after();
  }
  std::printf("opening balance %s%s\n", Money(opening).c_str(),
              flags.from.empty() ? " (the account's start)" : (" at " + flags.from).c_str());
  if (!rows.empty()) PrintTable({"TIME", "KIND", "REFERENCE", "AMOUNT", "BALANCE", "ENTRY"}, rows);
  std::printf("closing balance %s%s, %s in the range\n", Money(closing).c_str(),
              flags.to.empty() ? " (now)" : (" at " + flags.to).c_str(),
              Count(all.entries_size(), "entry", "entries").c_str());
}

int AccountStatement(const Session& session, const StatementFlags& flags) {
  v1::ListLedgerEntriesRequest range;
  range.set_account_id(flags.account_id);
  if (std::string e = StatementRange(flags, range); !e.empty()) {
    return session.UsageError(kStatement, e);
  }
  v1::ListLedgerEntriesResponse all;
  if (grpc::Status s = ReadRange(session, range, &all); !s.ok()) return session.CallFailed(s);
  if (session.json()) {
    std::printf("%s\n", ToJson(all).c_str());
    return kExitOk;
  }
  if (flags.csv) {
    PrintStatementCsv(all);
    return kExitOk;
  }
  v1::Money opening;
  if (grpc::Status s = OpeningBalance(session, range, &opening); !s.ok()) {
    return session.CallFailed(s);
  }
  PrintStatement(flags, opening, all);
  return kExitOk;
}

}  // namespace

void AddAccountCommands(CommandLine& cli) {
  CLI::App* account = cli.Group("account", "accounts and their credit");
  const Session& session = cli.session();
  AccountFlags& show = cli.NewFlags<AccountFlags>();
  CLI::App* c = cli.Command(account, "show", "an account: country, currency, channel, balance",
                            [&] { return AccountShow(session, show); });
  c->add_option("account_id", show.account_id, "the account")->required();

  AccountFlags& ledger = cli.NewFlags<AccountFlags>();
  c = cli.Command(account, "ledger", "an account's ledger entries, newest first",
                  [&] { return AccountLedger(session, ledger); });
  c->add_option("account_id", ledger.account_id, "the account")->required();
  AddPageFlags(c, ledger.page);

  StatementFlags& statement = cli.NewFlags<StatementFlags>();
  c = cli.Command(account, "statement",
                  "an account's statement: every entry oldest first with its kind, reference and "
                  "the balance after it",
                  [&] { return AccountStatement(session, statement); });
  c->add_option("account_id", statement.account_id, "the account")->required();
  c->add_option("--from", statement.from, "entries at or after this time (RFC 3339 or YYYY-MM-DD)");
  c->add_option("--to", statement.to, "entries before this time (RFC 3339 or YYYY-MM-DD)");
  c->add_flag("--csv", statement.csv, "CSV for a spreadsheet instead of a table");
}

}  // namespace giftcard::giftctl

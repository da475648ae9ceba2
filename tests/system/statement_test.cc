// Statements: ListLedgerEntries gives each entry's kind,
// reference and the running balance after it; a time range selects
// entries; paging by entry id neither skips nor repeats while entries
// arrive; `giftctl account statement` prints it, as a table or CSV.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "protoconv/protoconv.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kCodeValue = 500;
constexpr int64_t kInvoiceDue = 150;

class StatementTest : public ::testing::Test {
 protected:
  StatementTest() {
    EXPECT_TRUE(suite_.UpsertAccount("stmt", "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  }

  grpc::Status Page(v1::ListLedgerEntriesRequest request, v1::ListLedgerEntriesResponse* out) {
    request.set_account_id("stmt");
    return suite_.credit_stub->ListLedgerEntries(Context(kSupportToken).get(), request, out);
  }

  // Every entry (newest first), walked with pages of `page_size`.
  std::vector<v1::LedgerEntry> All(int page_size = 1000) {
    std::vector<v1::LedgerEntry> out;
    v1::ListLedgerEntriesRequest request;
    request.set_page_size(page_size);
    while (true) {
      v1::ListLedgerEntriesResponse page;
      grpc::Status s = Page(request, &page);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) return out;
      out.insert(out.end(), page.entries().begin(), page.entries().end());
      if (page.next_page_token().empty()) return out;
      request.set_page_token(page.next_page_token());
    }
  }

  Suite suite_;
};

TEST_F(StatementTest, RunningBalancesEqualTheBalanceAfterEveryEntryUnderConcurrentWrites) {
  const std::vector<v1::IssuedCode> codes = suite_.IssueActiveCodes(24, kCodeValue, "EUR", "DE");
  ASSERT_EQ(codes.size(), 24u);
  std::set<std::string> serials;
  for (const auto& c : codes) serials.insert(c.serial());
  std::atomic<int> next_code{0}, next_invoice{0};
  std::vector<std::thread> writers;
  std::vector<std::string> failures;
  std::string an_applied_invoice;  // One whose credit was more than zero.
  absl::Mutex mu;
  for (int w = 0; w < 6; ++w) {
    writers.emplace_back([&, w] {
      while (true) {
        grpc::Status s;
        if (w % 2 == 0) {
          const int i = next_code.fetch_add(1);
          if (i >= static_cast<int>(codes.size())) return;
          s = suite_.Redeem(codes[i].code(), "stmt", absl::StrCat("stmt-", i));
        } else {
          const int j = next_invoice.fetch_add(1);
          if (j >= 30) return;
          v1::CreditApplication app;
          s = suite_.ApplyCredit(absl::StrCat("stmt-inv-", j), "stmt", kInvoiceDue, "EUR", &app);
          if (s.ok() && app.applied().amount_minor() > 0) {
            absl::MutexLock lock(&mu);
            an_applied_invoice = app.invoice_id();
          }
        }
        if (!s.ok()) {
          absl::MutexLock lock(&mu);
          failures.push_back(s.error_message());
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  ASSERT_THAT(failures, IsEmpty());
  ASSERT_FALSE(an_applied_invoice.empty()) << "no invoice took any credit";
  v1::CreditApplication reversed;
  ASSERT_TRUE(suite_.ReverseCredit(an_applied_invoice, &reversed).ok());

  std::vector<v1::LedgerEntry> entries = All(/*page_size=*/7);
  std::reverse(entries.begin(), entries.end());  // Oldest first, as a statement reads.
  ASSERT_GE(entries.size(), 24u + 1u);
  int64_t running = 0;
  std::map<v1::LedgerEntryKind, int> kinds;
  for (const auto& e : entries) {
    running += e.amount().amount_minor();
    ASSERT_TRUE(e.has_balance_after()) << e.entry_id();
    EXPECT_EQ(e.balance_after().amount_minor(), running) << "entry " << e.entry_id();
    EXPECT_EQ(e.balance_after().currency_code(), "EUR");
    ++kinds[e.kind()];
    switch (e.kind()) {
      case v1::LEDGER_ENTRY_KIND_REDEMPTION:
        EXPECT_EQ(serials.count(e.reference()), 1u) << e.reference();
        EXPECT_EQ(e.amount().amount_minor(), kCodeValue);
        break;
      case v1::LEDGER_ENTRY_KIND_INVOICE:
        EXPECT_THAT(e.reference(), ::testing::StartsWith("stmt-inv-"));
        EXPECT_LT(e.amount().amount_minor(), 0);
        break;
      case v1::LEDGER_ENTRY_KIND_INVOICE_REVERSAL:
        EXPECT_EQ(e.reference(), an_applied_invoice);
        EXPECT_GT(e.amount().amount_minor(), 0);
        break;
      default:
        ADD_FAILURE() << "unexpected kind " << e.kind();
    }
  }
  EXPECT_EQ(kinds[v1::LEDGER_ENTRY_KIND_REDEMPTION], 24);
  EXPECT_GT(kinds[v1::LEDGER_ENTRY_KIND_INVOICE], 0);
  EXPECT_EQ(kinds[v1::LEDGER_ENTRY_KIND_INVOICE_REVERSAL], 1);
  v1::Account account;
  ASSERT_TRUE(suite_.GetAccount("stmt", &account).ok());
  EXPECT_EQ(account.balance().amount_minor(), running);

  // The system account's side has kinds and references but no balance.
  v1::ListLedgerEntriesRequest system;
  system.set_account_id("gift-funding/EUR");
  v1::ListLedgerEntriesResponse funding;
  ASSERT_TRUE(
      suite_.credit_stub->ListLedgerEntries(Context(kSupportToken).get(), system, &funding).ok());
  ASSERT_GT(funding.entries_size(), 0);
  EXPECT_FALSE(funding.entries(0).has_balance_after());
  EXPECT_NE(funding.entries(0).kind(), v1::LEDGER_ENTRY_KIND_UNSPECIFIED);
}

TEST_F(StatementTest, APageWalkDuringWritesNeitherSkipsNorRepeatsAnEntry) {
  const std::vector<v1::IssuedCode> codes = suite_.IssueActiveCodes(60, kCodeValue, "EUR", "DE");
  ASSERT_EQ(codes.size(), 60u);
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(suite_.Redeem(codes[i].code(), "stmt", "w" + std::to_string(i)).ok());
  // New entries arrive while the walk goes on, page by page.
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 20; i < 60 && !stop; ++i) {
      EXPECT_TRUE(suite_.Redeem(codes[i].code(), "stmt", "w" + std::to_string(i)).ok());
    }
  });
  std::vector<int64_t> walked;
  v1::ListLedgerEntriesRequest request;
  request.set_page_size(3);
  while (true) {
    v1::ListLedgerEntriesResponse page;
    ASSERT_TRUE(Page(request, &page).ok());
    for (const auto& e : page.entries()) walked.push_back(e.entry_id());
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
    absl::SleepFor(absl::Milliseconds(20));
  }
  stop = true;
  writer.join();
  ASSERT_GE(walked.size(), 20u);
  // Newest first, each once, and exactly the account's entries up to the
  // newest the walk started from.
  EXPECT_TRUE(std::is_sorted(walked.rbegin(), walked.rend()));
  EXPECT_EQ(std::set<int64_t>(walked.begin(), walked.end()).size(), walked.size());
  std::vector<int64_t> expected;
  for (const auto& e : All()) {
    if (e.entry_id() <= walked.front()) expected.push_back(e.entry_id());
  }
  EXPECT_EQ(walked, expected);
  EXPECT_GT(All().front().entry_id(), walked.front()) << "no entry arrived during the walk";
}

TEST_F(StatementTest, ATimeRangeSelectsEntriesAndItsTokensStayWithIt) {
  const std::vector<v1::IssuedCode> codes = suite_.IssueActiveCodes(6, kCodeValue, "EUR", "DE");
  for (int i = 0; i < 6; ++i)
    ASSERT_TRUE(suite_.Redeem(codes[i].code(), "stmt", "t" + std::to_string(i)).ok());
  std::vector<v1::LedgerEntry> all = All();
  std::reverse(all.begin(), all.end());
  ASSERT_EQ(all.size(), 6u);
  // [time of the 2nd, time of the 5th): the 2nd, 3rd and 4th.
  v1::ListLedgerEntriesRequest request;
  *request.mutable_start_time() = all[1].create_time();
  *request.mutable_end_time() = all[4].create_time();
  request.set_page_size(2);
  std::vector<int64_t> got;
  v1::ListLedgerEntriesResponse page;
  ASSERT_TRUE(Page(request, &page).ok());
  for (const auto& e : page.entries()) got.push_back(e.entry_id());
  ASSERT_FALSE(page.next_page_token().empty());
  // The token belongs to this range: another range with it is refused.
  v1::ListLedgerEntriesRequest other = request;
  other.set_page_token(page.next_page_token());
  other.clear_end_time();
  v1::ListLedgerEntriesResponse refused;
  grpc::Status s = Page(other, &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("page_token"));
  request.set_page_token(page.next_page_token());
  ASSERT_TRUE(Page(request, &page).ok());
  for (const auto& e : page.entries()) got.push_back(e.entry_id());
  EXPECT_TRUE(page.next_page_token().empty());
  EXPECT_EQ(got, (std::vector<int64_t>{all[3].entry_id(), all[2].entry_id(), all[1].entry_id()}));

  // An end before the start, or a time out of range, writes nothing and says why.
  v1::ListLedgerEntriesRequest backwards;
  *backwards.mutable_start_time() = all[4].create_time();
  *backwards.mutable_end_time() = all[1].create_time();
  s = Page(backwards, &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("end_time"));
  v1::ListLedgerEntriesRequest far;
  far.mutable_start_time()->set_seconds(-100);
  s = Page(far, &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("start_time"));
}

TEST_F(StatementTest, GiftctlPrintsTheStatementOldestFirstAsATableOrCsv) {
  const std::vector<v1::IssuedCode> codes = suite_.IssueActiveCodes(2, kCodeValue, "EUR", "DE");
  ASSERT_TRUE(suite_.Redeem(codes[0].code(), "stmt", "g0").ok());
  ASSERT_TRUE(suite_.Redeem(codes[1].code(), "stmt", "g1").ok());
  v1::CreditApplication app;
  ASSERT_TRUE(suite_.ApplyCredit("stmt-g-inv", "stmt", kInvoiceDue, "EUR", &app).ok());
  const std::string giftctl = absl::StrCat(AddressesEnv(suite_), "GIFTCTL_TOKEN=", kSupportToken,
                                           " GIFTCTL_TOKEN_FILE= ", GIFTCARD_GIFTCTL);
  ShellRun run = RunCommand(giftctl + " account statement stmt --csv");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::vector<std::string> lines = absl::StrSplit(run.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 4u) << run.out;
  EXPECT_EQ(lines[0], "entry_id,time,kind,reference,currency,amount_minor,balance_after_minor");
  EXPECT_THAT(lines[1], HasSubstr(absl::StrCat(",REDEMPTION,", codes[0].serial(), ",EUR,500,500")));
  EXPECT_THAT(lines[2],
              HasSubstr(absl::StrCat(",REDEMPTION,", codes[1].serial(), ",EUR,500,1000")));
  EXPECT_THAT(lines[3], HasSubstr(",INVOICE,stmt-g-inv,EUR,-150,850"));

  run = RunCommand(giftctl + " account statement stmt");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("BALANCE"));
  EXPECT_THAT(run.out, ::testing::StartsWith("opening balance 0.00 EUR (the account's start)\n"));
  EXPECT_THAT(run.out,
              ::testing::EndsWith("closing balance 8.50 EUR (now), 3 entries in the range\n"));
  // An empty range still says where the account stands.
  run = RunCommand(giftctl + " account statement stmt --from=2999-01-01 --to=2999-02-01");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out,
            "opening balance 8.50 EUR at 2999-01-01\n"
            "closing balance 8.50 EUR at 2999-02-01, 0 entries in the range\n");
  run = RunCommand(giftctl + " account statement stmt --from=yesterday");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_THAT(run.err, HasSubstr("--from wants RFC 3339 or YYYY-MM-DD"));
}

}  // namespace
}  // namespace giftcard::testing

// PgLedgerStore against the fixture's Postgres: concurrent credits and debits
// go to Postgres together (one transaction per batch), and each keeps the
// answer it would have had alone — its own transfer, a balance that counts
// every earlier posting, refusals recorded, replays, no overdraft.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "errors/status.h"
#include "pg/migrations.h"
#include "pg/pool.h"
#include "services/account_credit/account_credit_migrations.h"
#include "services/account_credit/domain/account_service.h"
#include "services/account_credit/storage/pg_ledger_store.h"
#include "support/harness.h"

namespace giftcard::account_credit {
namespace {

class LedgerBatchTest : public ::testing::Test {
 protected:
  LedgerBatchTest()
      : dsn_(testing::CreateDatabase(testing::TestServers::Get().pg_port, "ledger_batch")),
        migrated_(pg::Migrate(dsn_, Migrations(), kMigrationLockKey)),
        pool_({.dsn = dsn_, .size = 4}, PgLedgerStore::Statements()),
        store_(pool_, {.max_batch = 64, .batches_in_flight = 1}),
        service_(store_) {}

  void Open(const std::string& account) {
    ASSERT_TRUE(migrated_.ok()) << migrated_;
    Account a;
    a.account_id = account;
    a.country = "DE";
    a.currency_code = "EUR";
    a.billing_channel = BillingChannel::kDirect;
    ASSERT_TRUE(service_.UpsertAccount(a, std::nullopt).ok());
  }

  std::string One(const std::string& sql) {
    auto column = testing::QueryColumn(dsn_, sql);
    return column.empty() ? "" : column[0];
  }

  const std::string dsn_;
  const absl::Status migrated_;
  pg::Pool pool_;
  PgLedgerStore store_;
  AccountService service_;
};

TEST_F(LedgerBatchTest, ConcurrentPostingsEachGetTheirOwnAnswerAndTheBooksAddUp) {
  Open("a");
  Open("b");
  // 40 credits of 1.00 to a and b, 10 debits of up to 3.00 from a, a
  // credit to an unknown account, and replays of two credits — all at once.
  std::vector<std::function<absl::StatusOr<Transfer>()>> calls;
  for (int i = 0; i < 40; ++i) {
    const std::string account = i % 2 == 0 ? "a" : "b";
    calls.push_back([this, account, i] {
      return service_.CreditAccount({account, {"EUR", 100}, "DE", absl::StrCat("credit-", i), ""});
    });
  }
  for (int i = 0; i < 10; ++i) {
    calls.push_back([this, i] {
      return service_.DebitAccount({"a", {"EUR", 300}, true, absl::StrCat("debit-", i), ""});
    });
  }
  calls.push_back([this] {
    return service_.CreditAccount({"nobody", {"EUR", 100}, "DE", "credit-nobody", ""});
  });
  for (int i = 0; i < 2; ++i) {
    calls.push_back([this, i] {
      return service_.CreditAccount(
          {"b", {"EUR", 100}, "DE", absl::StrCat("credit-", 2 * i + 1), ""});
    });
  }
  std::vector<absl::StatusOr<Transfer>> answers(calls.size(), absl::UnknownError("not run"));
  // Both accounts locked from outside: the first posting's transaction waits
  // on its lock while every other call queues, so the next batch holds them
  // all (not left to timing).
  testing::RowLock lock(dsn_, "SELECT 1 FROM accounts WHERE account_id IN ('a', 'b') FOR UPDATE");
  std::vector<std::thread> threads;
  for (size_t i = 0; i < calls.size(); ++i) {
    threads.emplace_back([&, i] { answers[i] = calls[i](); });
  }
  while (store_.queued_postings() < calls.size() - 1) absl::SleepFor(absl::Milliseconds(5));
  lock.Release();
  for (auto& t : threads) t.join();

  std::set<std::string> transfer_ids;
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(answers[i].ok()) << i << ": " << answers[i].status();
    EXPECT_EQ(answers[i]->amount.amount_minor, 100) << i;
    transfer_ids.insert(answers[i]->transfer_id);
  }
  EXPECT_EQ(transfer_ids.size(), 40u) << "each credit is its own transfer";
  int64_t debited = 0;
  for (int i = 40; i < 50; ++i) {
    ASSERT_TRUE(answers[i].ok()) << i << ": " << answers[i].status();
    debited += answers[i]->amount.amount_minor;
  }
  EXPECT_FALSE(answers[50].ok());
  EXPECT_TRUE(errors::Is(answers[50].status(), absl::StatusCode::kNotFound,
                         errors::reason::kAccountNotFound));
  EXPECT_TRUE(errors::IsRecordedDecision(answers[50].status()));
  for (int i = 51; i < 53; ++i) {
    ASSERT_TRUE(answers[i].ok()) << answers[i].status();
    EXPECT_EQ(answers[i]->transfer_id, answers[2 * (i - 51) + 1]->transfer_id) << "a replay";
  }

  // The books: a never went below zero, each balance is its entries' sum,
  // and each transfer's balance_after is the account's running balance.
  const int64_t a_balance = 20 * 100 - debited;
  EXPECT_GE(a_balance, 0);
  EXPECT_EQ(One("SELECT balance_minor FROM accounts WHERE account_id = 'a'"),
            std::to_string(a_balance));
  EXPECT_EQ(One("SELECT balance_minor FROM accounts WHERE account_id = 'b'"), "2000");
  EXPECT_EQ(One("SELECT count(*) FROM accounts a WHERE balance_minor <> (SELECT "
                "coalesce(sum(amount_minor), 0) FROM ledger_entries e WHERE e.account_id = "
                "a.account_id) AND account_id IN ('a', 'b')"),
            "0");
  // b had only credits of 1.00: its transfers' balances after are exactly
  // 1.00, 2.00, … 20.00, each once, however the credits were batched.
  std::string want;
  for (int i = 1; i <= 20; ++i) absl::StrAppend(&want, i == 1 ? "" : ",", i * 100);
  EXPECT_EQ(One("SELECT string_agg(balance_after_minor::text, ',' ORDER BY balance_after_minor) "
                "FROM transfers WHERE account_id = 'b'"),
            want);
  EXPECT_EQ(One("SELECT count(*) FROM transfers"), std::to_string(40 + 10));
  EXPECT_EQ(One("SELECT count(*) FROM refusals"), "1");
  // And the batch was real: one transaction wrote the transfers of every
  // posting but the first (which ran alone, waiting on the lock).
  EXPECT_EQ(One("SELECT max(n) >= 49 FROM (SELECT count(*) AS n FROM transfers "
                "GROUP BY xmin::text) x"),
            "t");
}

// Items of one batch that share a request id, at the
// store: each is answered by its own position, as in sequence: the same
// parameters replay the first's transfer, other parameters are
// REQUEST_ID_REUSED, and only one transfer is written.
TEST_F(LedgerBatchTest, ItemsOfABatchWithOneRequestIdAreAnsweredAsInSequence) {
  Open("c");
  auto credit = [](const std::string& request_id, int64_t amount, const std::string& fp) {
    Posting p;
    p.kind = TransferKind::kCredit;
    p.account_id = "c";
    p.counter_account_id = "gift-funding/EUR";
    p.currency_code = "EUR";
    p.request_id = request_id;
    p.request_fingerprint = fp;
    p.decide = [amount](const PostingContext&) -> absl::StatusOr<Movement> {
      return Movement{amount, +1};
    };
    return p;
  };
  auto answers = store_.PostAll({credit("same", 100, "fp-100"), credit("other", 7, "fp-7"),
                                 credit("same", 100, "fp-100"), credit("same", 900, "fp-900")});
  ASSERT_EQ(answers.size(), 4u);
  ASSERT_TRUE(answers[0].ok()) << answers[0].status();
  ASSERT_TRUE(answers[1].ok()) << answers[1].status();
  ASSERT_TRUE(answers[2].ok()) << answers[2].status();
  EXPECT_EQ(answers[0]->amount.amount_minor, 100);
  EXPECT_EQ(answers[1]->amount.amount_minor, 7);
  EXPECT_NE(answers[1]->transfer_id, answers[0]->transfer_id);
  EXPECT_EQ(answers[2]->transfer_id, answers[0]->transfer_id);
  EXPECT_EQ(errors::ReasonOf(answers[3].status()), "REQUEST_ID_REUSED");
  EXPECT_EQ(One("SELECT count(*) FROM transfers WHERE request_id IN ('same', 'other')"), "2");
  EXPECT_EQ(One("SELECT balance_minor FROM accounts WHERE account_id = 'c'"), "107");
}

// A transfer is reversed at most once, and the schema still refuses a
// second reversal written behind the service's back; yet only reversals
// have an entry in that index, where every credit used to write one.
TEST_F(LedgerBatchTest, OnlyReversalsAreIndexedAndATransferIsStillReversedOnce) {
  Open("r");
  auto credit = service_.CreditAccount({.account_id = "r",
                                        .amount = {"EUR", 500},
                                        .code_region = "DE",
                                        .request_id = "cr-1",
                                        .reference = ""});
  ASSERT_TRUE(credit.ok()) << credit.status();
  for (int i = 2; i <= 4; ++i) {
    ASSERT_TRUE(service_
                    .CreditAccount({.account_id = "r",
                                    .amount = {"EUR", 100},
                                    .code_region = "DE",
                                    .request_id = absl::StrCat("cr-", i),
                                    .reference = ""})
                    .ok());
  }
  auto reversal = service_.ReverseTransfer({credit->transfer_id, "rev-1"});
  ASSERT_TRUE(reversal.ok()) << reversal.status();

  std::string second = testing::ExecSql(
      dsn_,
      absl::StrCat("INSERT INTO transfers (request_id, request_fingerprint, kind, account_id, "
                   "counter_account_id, currency_code, amount_minor, balance_after_minor, "
                   "reference, reverses_transfer_id) VALUES ('rev-2', 'fp', 'REVERSAL', 'r', "
                   "'gift-funding/EUR', 'EUR', 500, 0, '', '",
                   credit->transfer_id, "')"));
  EXPECT_THAT(second, ::testing::HasSubstr("transfers_one_reversal_each"));

  ASSERT_EQ(testing::ExecSql(dsn_, "VACUUM ANALYZE transfers"), "");
  EXPECT_EQ(One("SELECT count(*) FROM transfers"), "5");
  // The index over reverses_transfer_id holds the one reversal, not all five.
  EXPECT_EQ(One("SELECT c.reltuples::int FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] "
                "WHERE i.indrelid = 'transfers'::regclass AND a.attname = 'reverses_transfer_id'"),
            "1");
  // The audit joins every entry to its transfer through this index; the
  // engines' sessions plan without hash joins, so without it that join read
  // every entry once per transfer (14.6 s for 9,600 transfers).
  EXPECT_EQ(One("SELECT count(*) FROM pg_indexes WHERE indexname = 'ledger_entries_by_transfer'"),
            "1");
}

// The currency guard runs once per statement: one foreign entry among
// several refuses the whole statement, naming the currency, and writes none.
TEST_F(LedgerBatchTest, OneEntryInAnotherCurrencyRefusesItsWholeStatement) {
  Open("g");
  std::string refused = testing::ExecSql(
      dsn_,
      "INSERT INTO ledger_entries (account_id, transfer_id, currency_code, amount_minor) VALUES "
      "('g', gen_random_uuid(), 'EUR', 100), ('gift-funding/EUR', gen_random_uuid(), 'EUR', -100), "
      "('g', gen_random_uuid(), 'JPY', 100)");
  EXPECT_THAT(refused,
              ::testing::HasSubstr("ledger entry in JPY for an account in another currency"));
  EXPECT_EQ(One("SELECT count(*) FROM ledger_entries"), "0");
  EXPECT_EQ(testing::ExecSql(dsn_,
                             "INSERT INTO ledger_entries (account_id, transfer_id, currency_code, "
                             "amount_minor) VALUES ('g', gen_random_uuid(), 'EUR', 100)"),
            "");
}

// Two replicas' batches, one request id: both read it undecided and wait
// on its decision row at their write. The loser's write_transfers fails
// (a unique violation, ABORTED); its whole batch reruns and replays the
// winner's decision, and its other posting is credited once.
TEST_F(LedgerBatchTest, ARequestIdDecidedBetweenReadsAndWritesRerunsTheBatchAndReplaysIt) {
  Open("a");
  Open("b");
  PgLedgerStore other_store(pool_, {.max_batch = 64, .batches_in_flight = 1});
  AccountService other(other_store);
  using Answers = absl::StatusOr<std::vector<absl::StatusOr<Transfer>>>;
  Answers to_a = absl::UnknownError("none"), to_b = absl::UnknownError("none");
  std::thread first, second;
  {
    testing::RowLock decision(
        dsn_, "INSERT INTO decisions (request_id, kind) VALUES ('shared', 'TRANSFER') RETURNING 1");
    first = std::thread([&] {
      to_a = service_.CreditAccounts({{"a", {"EUR", 500}, "DE", "shared", "serial-a"},
                                      {"a", {"EUR", 100}, "DE", "only-a", "serial-a2"}});
    });
    second = std::thread([&] {
      to_b = other.CreditAccounts({{"b", {"EUR", 700}, "DE", "shared", "serial-b"},
                                   {"b", {"EUR", 100}, "DE", "only-b", "serial-b2"}});
    });
    ASSERT_TRUE(testing::WaitForLockWaiters(dsn_, 2, absl::Seconds(10)))
        << "both batches should wait on the decision row";
  }
  first.join();
  second.join();
  ASSERT_TRUE(to_a.ok()) << to_a.status();
  ASSERT_TRUE(to_b.ok()) << to_b.status();
  const absl::StatusOr<Transfer>& a = to_a->at(0);
  const absl::StatusOr<Transfer>& b = to_b->at(0);
  EXPECT_NE(a.ok(), b.ok()) << (a.ok() ? "a ok" : a.status().ToString()) << " / "
                            << (b.ok() ? "b ok" : b.status().ToString());
  const absl::Status& refused = a.ok() ? b.status() : a.status();
  EXPECT_TRUE(
      errors::Is(refused, absl::StatusCode::kInvalidArgument, errors::reason::kRequestIdReused))
      << refused;
  EXPECT_TRUE(to_a->at(1).ok()) << to_a->at(1).status();
  EXPECT_TRUE(to_b->at(1).ok()) << to_b->at(1).status();
  EXPECT_EQ(One("SELECT count(*) FROM transfers"), "3");
  EXPECT_EQ(One("SELECT sum(balance_minor) FROM accounts WHERE account_id IN ('a', 'b')"),
            a.ok() ? "700" : "900");
}

}  // namespace
}  // namespace giftcard::account_credit

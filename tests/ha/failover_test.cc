// Failover on real engines: the services on Patroni clusters and
// Redis under Sentinel (tests/ha/ha_engines.h), under a redemption and
// apply-credit load, while a primary is killed -9, switched over, or the
// Redis master dies. Callers do what the contract tells them: retry
// UNAVAILABLE (and the other retryable answers) with the same request id.
// After each fault: every call the callers were told succeeded is in the
// books, nothing is doubled, the audit is clean; the seconds during which
// writes were unavailable are printed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "ha/ha_engines.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::IsEmpty;

constexpr int64_t kCodeValue = 500;   // 5.00 EUR per card
constexpr int64_t kInvoiceDue = 150;  // 1.50 EUR per invoice
constexpr int kAccounts = 8;

// The answers a caller retries with the same request id: the outcome is
// unknown or the refusal is temporary (DESIGN.md, errors).
bool Retryable(const grpc::Status& s) {
  switch (s.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::ABORTED:
      return true;
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return ReasonOf(s) == "OVERLOADED";
    default:
      return false;
  }
}

std::string AccountId(int i) { return absl::StrCat("ha-account-", i); }

// Writes settled by retrying, with when each attempt failed or succeeded.
class Load {
 public:
  Load(Suite& suite, std::vector<v1::IssuedCode> codes) : suite_(suite), codes_(std::move(codes)) {}
  ~Load() { Stop(); }

  void Start(int redeemers, int appliers) {
    for (int i = 0; i < redeemers; ++i) threads_.emplace_back([this] { RedeemLoop(); });
    for (int i = 0; i < appliers; ++i) threads_.emplace_back([this] { ApplyLoop(); });
  }
  // Each worker settles the call it is on, then ends.
  void Stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  struct Redeemed {
    std::string account_id, request_id, redemption_id, serial, code;
  };
  struct Applied {
    std::string account_id, invoice_id;
    int64_t applied_minor = 0;
  };

  // Waits until a write succeeded after `since` (the fault) and then `more`.
  bool WaitForSuccessAfter(absl::Time since, absl::Duration more, absl::Duration timeout) {
    const absl::Time give_up = absl::Now() + timeout;
    while (absl::Now() < give_up) {
      {
        absl::MutexLock lock(&mu_);
        if (!redeem_ok_times_.empty() && redeem_ok_times_.back() > since &&
            !apply_ok_times_.empty() && apply_ok_times_.back() > since)
          break;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    absl::SleepFor(more);
    return absl::Now() < give_up;
  }

  // The longest time without a successful write of `kind` from `since` on:
  // how long writes were unavailable.
  absl::Duration LongestGap(bool redemptions, absl::Time since) {
    absl::MutexLock lock(&mu_);
    const std::vector<absl::Time>& times = redemptions ? redeem_ok_times_ : apply_ok_times_;
    absl::Duration gap;
    absl::Time last = since;
    for (absl::Time t : times) {
      if (t <= since) continue;
      gap = std::max(gap, t - last);
      last = t;
    }
    return gap;
  }

  int FailedAttemptsAfter(absl::Time since) {
    absl::MutexLock lock(&mu_);
    int n = 0;
    for (absl::Time t : failure_times_) n += t > since;
    return n;
  }

  std::vector<Redeemed> redeemed() {
    absl::MutexLock lock(&mu_);
    return redeemed_;
  }
  std::vector<Applied> applied() {
    absl::MutexLock lock(&mu_);
    return applied_;
  }
  // Calls that ended in an answer that is not a success nor retryable.
  std::vector<std::string> refusals() {
    absl::MutexLock lock(&mu_);
    return refusals_;
  }

 private:
  // Calls `call` until it answers something not retryable, within 2 min.
  grpc::Status Settle(const std::function<grpc::Status()>& call) {
    const absl::Time give_up = absl::Now() + absl::Minutes(2);
    while (true) {
      grpc::Status s = call();
      if (!Retryable(s) || absl::Now() > give_up) return s;
      {
        absl::MutexLock lock(&mu_);
        failure_times_.push_back(absl::Now());
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }

  void RedeemLoop() {
    while (!stop_) {
      const int i = next_code_.fetch_add(1);
      if (i >= static_cast<int>(codes_.size())) return;
      const std::string account = AccountId(i % kAccounts);
      const std::string request_id = absl::StrCat("ha-redeem-", i);
      v1::Redemption redemption;
      grpc::Status s = Settle([&] {
        grpc::Status r = suite_.Redeem(codes_[i].code(), account, request_id, &redemption);
        // An OK whose credit is still pending is not settled yet.
        if (r.ok() && redemption.state() != v1::REDEMPTION_STATE_COMPLETED) {
          return grpc::Status(grpc::StatusCode::UNAVAILABLE, "pending");
        }
        return r;
      });
      {
        absl::MutexLock lock(&mu_);
        if (s.ok()) {
          redeem_ok_times_.push_back(absl::Now());
          redeemed_.push_back({account, request_id, redemption.redemption_id(), codes_[i].serial(),
                               codes_[i].code()});
        } else {
          refusals_.push_back(absl::StrCat("redeem ", request_id, ": ", s.error_code(), " ",
                                           ReasonOf(s), " ", s.error_message()));
        }
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
  }

  void ApplyLoop() {
    while (!stop_) {
      const int j = next_invoice_.fetch_add(1);
      const std::string account = AccountId(j % kAccounts);
      const std::string invoice = absl::StrCat("ha-invoice-", j);
      v1::CreditApplication application;
      grpc::Status s = Settle(
          [&] { return suite_.ApplyCredit(invoice, account, kInvoiceDue, "EUR", &application); });
      absl::MutexLock lock(&mu_);
      if (s.ok()) {
        apply_ok_times_.push_back(absl::Now());
        applied_.push_back({account, invoice, application.applied().amount_minor()});
      } else {
        refusals_.push_back(absl::StrCat("apply ", invoice, ": ", s.error_code(), " ", ReasonOf(s),
                                         " ", s.error_message()));
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  Suite& suite_;
  const std::vector<v1::IssuedCode> codes_;
  std::atomic<bool> stop_{false};
  std::atomic<int> next_code_{0}, next_invoice_{0};
  std::vector<std::thread> threads_;
  absl::Mutex mu_;
  std::vector<Redeemed> redeemed_ ABSL_GUARDED_BY(mu_);
  std::vector<Applied> applied_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> refusals_ ABSL_GUARDED_BY(mu_);
  std::vector<absl::Time> redeem_ok_times_ ABSL_GUARDED_BY(mu_),
      apply_ok_times_ ABSL_GUARDED_BY(mu_), failure_times_ ABSL_GUARDED_BY(mu_);
};

// The suite on `postgres`'s engines, with kAccounts accounts.
class FailoverFixture : public ::testing::Test {
 protected:
  explicit FailoverFixture(HaEngines::Postgres postgres)
      : engines_(postgres),
        suite_({.account_credit_dsn = engines_.Dsn("account-credit"),
                .code_vault_dsn = engines_.Dsn("code-vault"),
                .billing_dsn = engines_.Dsn("billing"),
                .redis_sentinels = engines_.Sentinels()}) {
    for (int i = 0; i < kAccounts; ++i) {
      grpc::Status s = suite_.UpsertAccount(AccountId(i), "DE", "EUR", v1::BILLING_CHANNEL_DIRECT);
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
  }

  // The books against what the callers were told: each account's balance
  // is its redemptions less its applications; every answer replays as it
  // was (one credit, one debit); the audit is clean.
  void ExpectBooksMatch(Load& load) {
    const std::vector<Load::Redeemed> redeemed = load.redeemed();
    const std::vector<Load::Applied> applied = load.applied();
    ASSERT_FALSE(redeemed.empty());
    ASSERT_FALSE(applied.empty());
    std::map<std::string, int64_t> expected;
    for (const auto& r : redeemed) expected[r.account_id] += kCodeValue;
    for (const auto& a : applied) expected[a.account_id] -= a.applied_minor;
    auto expect_balances = [&](const std::string& when) {
      for (int i = 0; i < kAccounts; ++i) {
        v1::Account account;
        grpc::Status s = suite_.GetAccount(AccountId(i), &account);
        ASSERT_TRUE(s.ok()) << s.error_message();
        EXPECT_EQ(account.balance().amount_minor(), expected[AccountId(i)])
            << AccountId(i) << " " << when;
      }
    };
    expect_balances("after the fault");
    for (const auto& r : redeemed) {
      v1::Redemption again;
      // A retry of the same request is the same redemption, never a second credit.
      grpc::Status s = suite_.Redeem(r.code, r.account_id, r.request_id, &again);
      ASSERT_TRUE(s.ok()) << r.request_id << ": " << s.error_message();
      EXPECT_EQ(again.redemption_id(), r.redemption_id);
      EXPECT_EQ(again.state(), v1::REDEMPTION_STATE_COMPLETED);
      v1::CodeStatus status;
      s = suite_.GetCodeStatus(r.serial, &status);
      ASSERT_TRUE(s.ok()) << s.error_message();
      EXPECT_EQ(status.state(), v1::CODE_STATE_REDEEMED) << r.serial;
    }
    for (const auto& a : applied) {
      v1::CreditApplication again;
      grpc::Status s = suite_.ApplyCredit(a.invoice_id, a.account_id, kInvoiceDue, "EUR", &again);
      ASSERT_TRUE(s.ok()) << a.invoice_id << ": " << s.error_message();
      EXPECT_EQ(again.applied().amount_minor(), a.applied_minor) << a.invoice_id;
    }
    expect_balances("after every call was replayed");
    EXPECT_EQ(suite_.AuditReport(), "");
  }

  // Load, then `fault` at 3 s, then load until writes have come back for
  // 3 s more; the books must match and the outage is printed.
  void RunFaultUnderLoad(const std::string& what, const std::function<void()>& fault,
                         bool expect_failures = true) {
    // Enough codes for a minute of paced redemptions: codes running out
    // before writes come back would read as an outage.
    Load load(suite_, suite_.IssueActiveCodes(4000, kCodeValue, "EUR", "DE"));
    load.Start(/*redeemers=*/4, /*appliers=*/2);
    absl::SleepFor(absl::Seconds(3));
    const absl::Time fault_time = absl::Now();
    fault();
    EXPECT_TRUE(load.WaitForSuccessAfter(fault_time, absl::Seconds(3), absl::Seconds(90)))
        << "writes did not come back after: " << what;
    load.Stop();
    const absl::Duration redeem_gap = load.LongestGap(true, fault_time);
    const absl::Duration apply_gap = load.LongestGap(false, fault_time);
    const int failed = load.FailedAttemptsAfter(fault_time);
    std::printf(
        "[ha] %s: writes unavailable %.1f s (redemptions) / %.1f s (credit applications); %d "
        "attempts retried; settled %zu redemptions and %zu applications; lost 0, doubled 0 if "
        "the checks below pass\n",
        what.c_str(), absl::ToDoubleSeconds(redeem_gap), absl::ToDoubleSeconds(apply_gap), failed,
        load.redeemed().size(), load.applied().size());
    std::fflush(stdout);
    EXPECT_THAT(load.refusals(), IsEmpty());
    // The fault must have hit the load, or the test proves nothing.
    if (expect_failures) {
      EXPECT_GT(failed, 0) << what << " never made a call fail";
    }
    ExpectBooksMatch(load);
  }

  HaEngines engines_;
  Suite suite_;
};

// Postgres failing over: the Patroni clusters.
class FailoverTest : public FailoverFixture {
 protected:
  FailoverTest() : FailoverFixture(HaEngines::Postgres::kPatroni) {}
};

// Redis failing over: its Sentinels, beside one plain Postgres.
class RedisFailoverTest : public FailoverFixture {
 protected:
  RedisFailoverTest() : FailoverFixture(HaEngines::Postgres::kOneServer) {}
};

TEST_F(FailoverTest, KillingAccountCreditsPrimaryUnderLoadLosesAndDoublesNothing) {
  const int leader = engines_.Leader("account-credit");
  ASSERT_NE(leader, 0) << engines_.List("account-credit");
  RunFaultUnderLoad("kill -9 of account-credit's primary",
                    [&] { engines_.KillNode("account-credit", leader); });
  const int new_leader = engines_.Leader("account-credit");
  EXPECT_NE(new_leader, 0);
  EXPECT_NE(new_leader, leader) << engines_.List("account-credit");
}

TEST_F(FailoverTest, KillingCodeVaultsPrimaryUnderLoadLosesAndDoublesNothing) {
  const int leader = engines_.Leader("code-vault");
  ASSERT_NE(leader, 0) << engines_.List("code-vault");
  // Only redemptions touch the vault: applications must not notice.
  RunFaultUnderLoad("kill -9 of code-vault's primary",
                    [&] { engines_.KillNode("code-vault", leader); });
  EXPECT_NE(engines_.Leader("code-vault"), leader) << engines_.List("code-vault");
  // The killed machine is replaced; the cluster is whole again.
  engines_.ReplaceNode("code-vault", leader);
  EXPECT_TRUE(engines_.WaitHealthy("code-vault")) << engines_.List("code-vault");
}

TEST_F(FailoverTest, PlannedSwitchoversUnderLoadFailNoCallThatARetryDoesNotSettle) {
  RunFaultUnderLoad(
      "patronictl switchover of account-credit, then code-vault",
      [&] {
        for (const char* scope : {"account-credit", "code-vault"}) {
          const int before = engines_.Leader(scope);
          EXPECT_EQ(engines_.Switchover(scope), "") << scope;
          EXPECT_TRUE(engines_.WaitHealthy(scope)) << engines_.List(scope);
          EXPECT_NE(engines_.Leader(scope), before) << engines_.List(scope);
        }
      },
      /*expect_failures=*/false);
}

TEST_F(RedisFailoverTest, KillingTheRedisMasterDuringA64WayRaceStillCreditsOnce) {
  constexpr int kRacers = 64;
  for (int i = kAccounts; i < kAccounts + kRacers; ++i) {
    ASSERT_TRUE(suite_.UpsertAccount(AccountId(i), "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  }
  const int old_master = engines_.RedisMasterPort();
  ASSERT_NE(old_master, 0);
  // Round 0 races while the master dies, round 1 while Sentinel has not yet
  // promoted the replica, round 2 once it has.
  const std::vector<v1::IssuedCode> codes = suite_.IssueActiveCodes(3, kCodeValue, "EUR", "DE");
  ASSERT_EQ(codes.size(), 3u);
  absl::Time killed_at;
  for (int round = 0; round < 3; ++round) {
    if (round == 2) {
      const absl::Time give_up = absl::Now() + absl::Seconds(30);
      while (engines_.RedisMasterPort() == old_master && absl::Now() < give_up) {
        absl::SleepFor(absl::Milliseconds(100));
      }
      ASSERT_NE(engines_.RedisMasterPort(), old_master) << "Sentinel promoted no replica";
      std::printf(
          "[ha] kill -9 of the Redis master: Sentinel named the replica after %.1f s; "
          "the race went on against Postgres meanwhile\n",
          absl::ToDoubleSeconds(absl::Now() - killed_at));
      std::fflush(stdout);
    }
    std::atomic<int> ready{0}, completed{0}, already_redeemed{0};
    std::vector<std::string> others;
    absl::Mutex mu;
    std::vector<std::thread> racers;
    for (int r = 0; r < kRacers; ++r) {
      racers.emplace_back([&, r] {
        ready.fetch_add(1);
        while (ready.load() < kRacers + 1) std::this_thread::yield();
        const std::string request_id = absl::StrCat("race-", round, "-", r);
        grpc::Status s;
        v1::Redemption redemption;
        const absl::Time give_up = absl::Now() + absl::Minutes(1);
        do {
          s = suite_.Redeem(codes[round].code(), AccountId(kAccounts + r), request_id, &redemption);
          if (Retryable(s)) absl::SleepFor(absl::Milliseconds(50));
        } while (Retryable(s) && absl::Now() < give_up);
        if (s.ok() && redemption.state() == v1::REDEMPTION_STATE_COMPLETED) {
          completed.fetch_add(1);
        } else if (ReasonOf(s) == "CODE_ALREADY_REDEEMED") {
          already_redeemed.fetch_add(1);
        } else {
          absl::MutexLock lock(&mu);
          others.push_back(absl::StrCat(s.error_code(), " ", ReasonOf(s), " ", s.error_message()));
        }
      });
    }
    while (ready.load() < kRacers) std::this_thread::yield();
    if (round == 0) {
      killed_at = absl::Now();
      engines_.KillRedisMaster();
    }
    ready.fetch_add(1);
    for (auto& t : racers) t.join();
    EXPECT_EQ(completed.load(), 1) << "round " << round;
    EXPECT_EQ(already_redeemed.load(), kRacers - 1) << "round " << round;
    EXPECT_THAT(others, IsEmpty()) << "round " << round;
  }
  int64_t total = 0;
  for (int i = kAccounts; i < kAccounts + kRacers; ++i) {
    v1::Account account;
    ASSERT_TRUE(suite_.GetAccount(AccountId(i), &account).ok());
    total += account.balance().amount_minor();
  }
  EXPECT_EQ(total, 3 * kCodeValue) << "three codes, each credited once";
  EXPECT_TRUE(engines_.WaitRedisHealthy()) << "Sentinel did not settle on a new master";
  EXPECT_EQ(suite_.AuditReport(), "");
}

TEST_F(RedisFailoverTest, TheAttemptLimitKeepsCountingAcrossARedisFailover) {
  // 10 wrong guesses per account (the default): 5 before the failover,
  // replicated (WAIT), then 5 more on the promoted replica; the 11th is
  // refused there, so the count survived and kept counting.
  const std::string account = AccountId(0);
  auto guess = [&](int n) { return suite_.Redeem(UnknownPin(), account, absl::StrCat("g-", n)); };
  for (int n = 0; n < 5; ++n) ASSERT_EQ(ReasonOf(guess(n)), "CODE_INVALID");
  const int old_master = engines_.RedisMasterPort();
  ASSERT_EQ(RunCommand(absl::StrCat("redis-cli -p ", old_master, " WAIT 1 5000")).out, "1\n")
      << "the replica did not acknowledge the counts";
  engines_.KillRedisMaster();
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (engines_.RedisMasterPort() == old_master && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_NE(engines_.RedisMasterPort(), old_master) << "Sentinel promoted no replica";
  // The vault's client finds the new master on its own. Until each of its
  // connections has, a guess is counted by the in-process fallback: probe
  // with other accounts until three guesses in a row reach Redis.
  auto fallbacks = [&] {
    return MetricValue(ScrapeMetrics(*suite_.code_vault), "giftcard_redis_limiter_fallbacks_total");
  };
  int in_a_row = 0;
  for (int probe = 0; probe < 36 && in_a_row < 3; ++probe) {
    const double before = fallbacks();
    suite_.Redeem(UnknownPin(), AccountId(1 + probe / 9), absl::StrCat("probe-", probe));
    in_a_row = fallbacks() == before ? in_a_row + 1 : 0;
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_EQ(in_a_row, 3) << "the vault did not find the new Redis master";
  const double fallbacks_before = fallbacks();
  for (int n = 5; n < 10; ++n) EXPECT_EQ(ReasonOf(guess(n)), "CODE_INVALID") << n;
  EXPECT_EQ(ReasonOf(guess(10)), "TOO_MANY_ATTEMPTS");
  EXPECT_EQ(fallbacks(), fallbacks_before) << "the count was not kept by Redis";
  // Once at start-up, at least once more after the failover.
  EXPECT_GE(MetricValue(ScrapeMetrics(*suite_.code_vault), "giftcard_redis_sentinel_lookups_total"),
            2);
}

// Reads whose staleness is harmless go to a standby (--pg_standby_dsn),
// decisions to the primary. With replay paused on every standby, a status
// read still shows the code as it was while the redemption, the second
// try at the code and the balance all see what happened.
class StandbyReadsTest : public ::testing::Test {
 protected:
  StandbyReadsTest()
      : suite_(
            {.account_credit_dsn = engines_.Dsn("account-credit"),
             .code_vault_dsn = engines_.Dsn("code-vault"),
             .billing_dsn = engines_.Dsn("billing"),
             .redis_sentinels = engines_.Sentinels(),
             .account_credit_args = {"--pg_standby_dsn=" + engines_.StandbyDsn("account-credit")},
             .code_vault_args = {"--pg_standby_dsn=" + engines_.StandbyDsn("code-vault")}}) {}
  ~StandbyReadsTest() override { HoldStandbys(false); }

  // Replay paused (or resumed) on both clusters' standbys.
  void HoldStandbys(bool hold) {
    if (hold == held_) return;
    engines_.PauseReplay("code-vault", hold);
    engines_.PauseReplay("account-credit", hold);
    held_ = hold;
  }

  v1::CodeState StateOf(const std::string& serial) {
    v1::CodeStatus status;
    grpc::Status s = suite_.GetCodeStatus(serial, &status);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return status.state();
  }
  // -1 when the account is unknown to the standby (yet).
  int EntriesOf(const std::string& account_id) {
    v1::ListLedgerEntriesRequest request;
    request.set_account_id(account_id);
    v1::ListLedgerEntriesResponse response;
    grpc::Status s =
        suite_.credit_stub->ListLedgerEntries(Context(kSupportToken).get(), request, &response);
    return s.ok() ? response.entries_size() : -1;
  }
  template <typename F>
  bool Eventually(F done) {
    const absl::Time give_up = absl::Now() + absl::Seconds(20);
    while (!done()) {
      if (absl::Now() > give_up) return false;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return true;
  }

  HaEngines engines_;
  Suite suite_;
  bool held_ = false;
};

TEST_F(StandbyReadsTest, StatusAndListsReadAStandbyWhileDecisionsReadThePrimary) {
  ASSERT_TRUE(suite_.UpsertAccount("reader-a", "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  ASSERT_TRUE(suite_.UpsertAccount("reader-b", "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  const std::vector<v1::IssuedCode> codes = suite_.IssueActiveCodes(1, kCodeValue, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);
  const std::string serial = codes[0].serial();
  // The standbys have caught up with the setup.
  ASSERT_TRUE(Eventually([&] { return StateOf(serial) == v1::CODE_STATE_ACTIVE; }));
  ASSERT_TRUE(Eventually([&] { return EntriesOf("reader-a") == 0; }));

  HoldStandbys(true);
  v1::Redemption redemption;
  grpc::Status s = suite_.Redeem(codes[0].code(), "reader-a", "standby-1", &redemption);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(redemption.state(), v1::REDEMPTION_STATE_COMPLETED);
  // Decisions and balances: the primary.
  EXPECT_EQ(ReasonOf(suite_.Redeem(codes[0].code(), "reader-b", "standby-2")),
            "CODE_ALREADY_REDEEMED");
  v1::Account account;
  ASSERT_TRUE(suite_.GetAccount("reader-a", &account).ok());
  EXPECT_EQ(account.balance().amount_minor(), kCodeValue);
  // Support's reads: the standby, which has not replayed the redemption.
  EXPECT_EQ(StateOf(serial), v1::CODE_STATE_ACTIVE);
  EXPECT_EQ(EntriesOf("reader-a"), 0);

  HoldStandbys(false);
  EXPECT_TRUE(Eventually([&] { return StateOf(serial) == v1::CODE_STATE_REDEEMED; }));
  EXPECT_TRUE(Eventually([&] { return EntriesOf("reader-a") == 1; }));
}

}  // namespace
}  // namespace giftcard::testing

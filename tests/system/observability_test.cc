// What operators see, against real services: every metric the alert rules
// and the dashboard (deploy/observability) read is exported; the backlog
// gauges see a saga in flight and an event not yet relayed; one trace id
// follows a redemption and an invoice through every service's log.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <future>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "server/client.h"
#include "support/harness.h"

namespace giftcard::testing {
namespace {

using ::testing::HasSubstr;

// Scrapes `service` until `name` reads a value for which `good` holds, at
// most 10 s; returns the last value read (-1: the metric is missing).
template <typename Good>
double AwaitMetric(const Process& service, const std::string& name, Good good) {
  double value = -1;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    value = MetricValue(ScrapeMetrics(service), name);
    if (good(value)) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < deadline);
  return value;
}

TEST(ObservabilityTest, EveryMetricTheAlertsAndTheDashboardReadIsExported) {
  Suite suite;
  GatewayProcess gateway = StartGateway(suite);
  // Counters and histograms appear with their first observation: one
  // redemption, one invoice, one guess, one HTTP request.
  const std::string account = UniqueName("obs-acct");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(1, 1500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);
  ASSERT_TRUE(suite.Redeem(codes[0].code(), account, "obs-1").ok());
  v1::CreditApplication application;
  ASSERT_TRUE(suite.ApplyCredit("obs-invoice", account, 1000, "EUR", &application).ok());
  EXPECT_FALSE(suite.Redeem("2345-6789-2345-6789", account, "obs-2").ok());
  EXPECT_EQ(HttpCall(gateway.http_port, "GET", "/v1/accounts/" + account, kStorefrontToken).status,
            200);

  char dir_template[] = "/tmp/observability-test-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  const std::string audit_file = dir + "/giftcard_audit.prom";
  ShellRun audit = RunCommand(absl::StrCat(AddressesEnv(suite), "GIFTCTL_TOKEN=", kAdminToken,
                                           " GIFTCTL_TOKEN_FILE= ", GIFTCARD_GIFTCTL,
                                           " audit --metrics_file=", audit_file));
  ASSERT_EQ(audit.exit_code, 0) << audit.out << audit.err;
  std::ifstream written(audit_file);
  const std::string audit_metrics((std::istreambuf_iterator<char>(written)),
                                  std::istreambuf_iterator<char>());
  EXPECT_THAT(audit_metrics, HasSubstr("\ngiftcard_audit_violations 0\n"));
  EXPECT_GT(MetricValue(audit_metrics, "giftcard_audit_completed_timestamp_seconds"),
            absl::ToUnixSeconds(absl::Now()) - 600);

  std::string files = audit_file;
  const std::vector<std::pair<std::string, const Process*>> services = {
      {"code-vault", suite.code_vault.get()},
      {"account-credit", suite.account_credit.get()},
      {"billing", suite.billing.get()},
      {"gateway", gateway.process.get()}};
  for (const auto& [name, process] : services) {
    const std::string path = absl::StrCat(dir, "/", name, ".metrics");
    std::ofstream(path) << ScrapeMetrics(*process);
    absl::StrAppend(&files, " ", path);
  }
  ShellRun check = RunCommand(absl::StrCat("/usr/bin/python3 ", GIFTCARD_SOURCE_DIR_FOR_TESTS,
                                           "/deploy/observability/check.py exported ", files));
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_THAT(check.out, HasSubstr("exported:"));
}

TEST(ObservabilityTest, TheBacklogGaugesSeeASagaInFlightAndAnEventNotYetRelayed) {
  // account-credit holds each credit 1.5 s (within the vault's 3 s credit
  // timeout), so the redemption is a saga in flight meanwhile; its relay
  // never runs, so the credit's event waits.
  Suite suite({.account_credit_args = {"--enable_test_hooks",
                                       "--test_delay_methods=BatchCreditAccounts=1500",
                                       "--event_relay_interval=1h", "--backlog_interval=100ms"},
               .code_vault_args = {"--backlog_interval=100ms"}});
  const std::string account = UniqueName("obs-acct");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(1, 2500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 1u);
  EXPECT_EQ(
      AwaitMetric(*suite.code_vault, "giftcard_sagas_unsettled", [](double v) { return v == 0; }),
      0);
  EXPECT_GT(
      MetricValue(ScrapeMetrics(*suite.code_vault), "giftcard_backlog_probe_timestamp_seconds"),
      absl::ToUnixSeconds(absl::Now()) - 60);

  auto call = std::async(std::launch::async,
                         [&] { return suite.Redeem(codes[0].code(), account, "obs-saga"); });
  EXPECT_EQ(
      AwaitMetric(*suite.code_vault, "giftcard_sagas_unsettled", [](double v) { return v == 1; }),
      1);
  // The oldest ages while account-credit holds the credit.
  EXPECT_GT(AwaitMetric(*suite.code_vault, "giftcard_saga_oldest_unsettled_seconds",
                        [](double v) { return v >= 0.5; }),
            0.5);
  ASSERT_TRUE(call.get().ok());
  EXPECT_EQ(
      AwaitMetric(*suite.code_vault, "giftcard_sagas_unsettled", [](double v) { return v == 0; }),
      0);
  EXPECT_EQ(MetricValue(ScrapeMetrics(*suite.code_vault), "giftcard_saga_oldest_unsettled_seconds"),
            0);

  // The credit's event (credit.added) is committed in account-credit's
  // outbox, and nothing moves it.
  EXPECT_GE(AwaitMetric(*suite.account_credit, "giftcard_outbox_events_waiting",
                        [](double v) { return v >= 1; }),
            1);
  EXPECT_GT(AwaitMetric(*suite.account_credit, "giftcard_outbox_oldest_event_seconds",
                        [](double v) { return v > 0.2; }),
            0.2);
  EXPECT_EQ(suite.AuditReport(), "");
}

// The log lines of `process` (JSON, one per line) that contain all of
// `needles`, waiting up to 5 s for the first (the log is written within
// 20 ms of each line).
std::vector<std::string> LinesWith(const Process& process,
                                   const std::vector<std::string>& needles) {
  std::vector<std::string> found;
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  do {
    found.clear();
    for (absl::string_view line : absl::StrSplit(process.Log(), '\n')) {
      bool all = true;
      for (const std::string& needle : needles) all = all && absl::StrContains(line, needle);
      if (all) found.emplace_back(line);
    }
    if (!found.empty()) break;
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < deadline);
  return found;
}

std::string TraceIdOf(const std::string& traceresponse) {
  std::vector<std::string> parts = absl::StrSplit(traceresponse, '-');
  return parts.size() == 4 ? parts[1] : "";
}

TEST(ObservabilityTest, OneTraceIdFollowsARedemptionAndAnInvoiceThroughEveryLog) {
  Suite suite;
  GatewayProcess gateway = StartGateway(suite);
  const std::string account = UniqueName("trace-acct");
  ASSERT_TRUE(suite.UpsertAccount(account, "DE", "EUR", v1::BILLING_CHANNEL_DIRECT).ok());
  auto codes = suite.IssueActiveCodes(2, 1500, "EUR", "DE");
  ASSERT_EQ(codes.size(), 2u);

  // The storefront sends its trace: the gateway, code-vault and
  // account-credit (the batch call that carried the credit) log its id.
  const std::string caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  HttpAnswer redeemed =
      HttpCall(gateway.http_port, "POST", "/v1/codes:redeem", kStorefrontToken,
               absl::StrCat(R"({"code":")", codes[0].code(), R"(","account_id":")", account,
                            R"(","request_id":"trace-1","client_ip":")", suite.client_ip, R"("})"),
               {{"traceparent", absl::StrCat("00-", caller_trace, "-00f067aa0ba902b7-01")}});
  ASSERT_EQ(redeemed.status, 200) << redeemed.body;
  EXPECT_EQ(TraceIdOf(redeemed.Header("traceresponse")), caller_trace);
  const std::string id = absl::StrCat("\"", caller_trace);
  EXPECT_EQ(LinesWith(*gateway.process, {"http_request", "\"trace_id\":" + id}).size(), 1u)
      << gateway.process->Log();
  EXPECT_EQ(LinesWith(*suite.code_vault, {"RedeemCode", "\"trace_id\":" + id}).size(), 1u)
      << suite.code_vault->Log();
  EXPECT_EQ(LinesWith(*suite.account_credit, {"BatchCreditAccounts", caller_trace}).size(), 1u)
      << suite.account_credit->Log();

  // No trace from the caller: the gateway starts one, tells it back, and
  // the services log that one.
  redeemed =
      HttpCall(gateway.http_port, "POST", "/v1/codes:redeem", kStorefrontToken,
               absl::StrCat(R"({"code":")", codes[1].code(), R"(","account_id":")", account,
                            R"(","request_id":"trace-2","client_ip":")", suite.client_ip, R"("})"));
  ASSERT_EQ(redeemed.status, 200) << redeemed.body;
  const std::string started = TraceIdOf(redeemed.Header("traceresponse"));
  ASSERT_EQ(started.size(), 32u) << redeemed.Header("traceresponse");
  EXPECT_NE(started, caller_trace);
  EXPECT_EQ(LinesWith(*suite.code_vault, {"RedeemCode", started}).size(), 1u);
  EXPECT_EQ(LinesWith(*suite.account_credit, {"BatchCreditAccounts", started}).size(), 1u);

  // The billing system calls billing over gRPC with its trace: billing and
  // account-credit (the debit) log it.
  const std::string invoice_trace = "0af7651916cd43dd8448eb211c80319c";
  v1::ApplyCreditRequest apply;
  apply.set_invoice_id("trace-invoice");
  apply.set_account_id(account);
  apply.mutable_amount_due()->set_currency_code("EUR");
  apply.mutable_amount_due()->set_amount_minor(1000);
  auto context = Context(kBillingSystemToken);
  context->AddMetadata("traceparent", absl::StrCat("00-", invoice_trace, "-b7ad6b7169203331-01"));
  v1::CreditApplication application;
  ASSERT_TRUE(suite.billing_stub->ApplyCredit(context.get(), apply, &application).ok());
  EXPECT_EQ(LinesWith(*suite.billing, {"ApplyCredit", invoice_trace}).size(), 1u)
      << suite.billing->Log();
  EXPECT_EQ(LinesWith(*suite.account_credit, {"BatchDebitAccounts", invoice_trace}).size(), 1u)
      << suite.account_credit->Log();
}

}  // namespace
}  // namespace giftcard::testing

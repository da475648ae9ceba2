// giftbench: a load generator for the suite, over gRPC's asynchronous client
// API with completion queues it drains itself.
//
//   source /tmp/giftcard-stack/env
//   giftbench --scenario=redeem --concurrency=16 --duration=10s
//   giftbench --scenario=redeem --rate=300 --duration=10s     (open loop)
//
// Closed loop: --concurrency callers, each sending its next call when the last
// one answers. Open loop: --rate calls per second on a fixed schedule; each
// latency is measured from the call's scheduled time, not from when it could
// be sent, so a stalled server shows up in the percentiles (coordinated
// omission corrected). Each completion queue (--drivers) has one thread of
// giftbench's that polls gRPC's sockets, takes the answers and sends each
// caller's next call. The load generator's CPU counts in the all-process
// figures, as pgbench's counts in its baseline, and this costs it less per
// call than gRPC's callback client did (docs/decisions.md). Prints
// throughput, latency percentiles, errors by code and reason, and one JSON
// line; with --audit, runs the ledger audit after the run and exits 1 on
// any violation.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "audit/audit.h"
#include "audit/wire.h"
#include "codes/codes.h"
#include "common/tool_common.h"
#include "giftbench/cpu_meter.h"
#include "giftbench/load.h"
#include "giftbench/workload.h"
#include "giftcard/v1/account_credit.grpc.pb.h"
#include "giftcard/v1/billing.grpc.pb.h"
#include "giftcard/v1/code_vault.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/completion_queue.h"
#include "server/client.h"

ABSL_FLAG(std::string, scenario, "redeem",
          "redeem | apply-credit | code-status | check-code | invalid-flood | mixed | health");
ABSL_FLAG(int, concurrency, 16, "closed loop: callers in flight");
ABSL_FLAG(int, drivers, 1,
          "completion queues, each drained by one thread that also sends its callers' next calls");
ABSL_FLAG(double, rate, 0, "open loop: calls per second (0: closed loop)");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "how long to measure");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(1), "load before measuring, not counted");
ABSL_FLAG(double, flood_rate, 0, "also send this many invalid-code redemptions per second");
ABSL_FLAG(int, codes, 20000, "redeem: fresh codes to issue and activate first");
ABSL_FLAG(int, accounts, 200, "accounts to spread the load over");
ABSL_FLAG(bool, audit, false, "run the ledger audit after the run (over the admin RPCs)");
ABSL_FLAG(std::string, label, "", "a name for this run in the JSON line");
ABSL_FLAG(int, retries, 0,
          "resend a call answered UNAVAILABLE, with the same request (its request id), up to "
          "this many times, as a storefront would; counted in the JSON line (retries)");
ABSL_FLAG(std::string, cpu_watch, "",
          "processes whose CPU to count over the measured window, 'name=pid[+],…' ('+': with "
          "its children, for Postgres); giftbench counts itself too");
ABSL_FLAG(std::string, window_command, "",
          "a command run with the argument 'start' just before the measured window and 'end' "
          "just after it (bench/counters.sh: server counters over the window); outside the CPU "
          "figures");

ABSL_FLAG(std::string, settle_command, "",
          "a command run once the scenario's data is prepared (codes issued and activated, "
          "accounts funded) and before the warm-up (bench/settle.sh: the servers finish the "
          "background work that preparation left, so the window does not count it)");

namespace {

using namespace giftcard;
using namespace giftcard::bench;

// CPU of each watched process over exactly the measured window, read by a
// thread of its own at the window's start and end (--window_command runs
// just before the start and after the end).
class CpuWindow {
 public:
  CpuWindow(std::vector<bench::WatchedProcess> watched, absl::Time start, absl::Time end)
      : watched_(std::move(watched)),
        before_(watched_.size()),
        after_(watched_.size()),
        thread_([this, start, end] { Sample(start, end); }) {}
  // Waits for the window's end; then the figures are in.
  void Join() { thread_.join(); }

  // "name":µs of CPU per call of each process, then "all".
  std::vector<std::string> PerCall(int64_t calls) const {
    std::vector<std::string> out;
    double total = 0;
    for (size_t i = 0; i < watched_.size(); ++i) {
      if (before_[i] < 0 || after_[i] < 0 || calls == 0) continue;
      const double us = (after_[i] - before_[i]) * 1e6 / static_cast<double>(calls);
      total += us;
      out.push_back(absl::StrFormat("\"%s\":%.0f", watched_[i].name, us));
    }
    out.push_back(absl::StrFormat("\"all\":%.0f", total));
    return out;
  }

 private:
  void Sample(absl::Time start, absl::Time end) {
    absl::SleepFor(start - absl::Now() - absl::Milliseconds(100));
    RunWindowCommand("start");
    absl::SleepFor(start - absl::Now());
    for (size_t i = 0; i < watched_.size(); ++i) before_[i] = bench::CpuSeconds(watched_[i]);
    absl::SleepFor(end - absl::Now());
    for (size_t i = 0; i < watched_.size(); ++i) after_[i] = bench::CpuSeconds(watched_[i]);
    RunWindowCommand("end");
  }
  static void RunWindowCommand(const char* when) {
    const std::string window_command = absl::GetFlag(FLAGS_window_command);
    if (window_command.empty()) return;
    const std::string command = absl::StrCat(window_command, " ", when);
    if (std::system(command.c_str()) != 0) {
      std::fprintf(stderr, "giftbench: --window_command failed: %s\n", command.c_str());
    }
  }

  const std::vector<bench::WatchedProcess> watched_;
  std::vector<double> before_, after_;
  std::thread thread_;
};

// What one run measured.
struct Figures {
  double seconds = 0;              // Of the measured window.
  std::vector<int64_t> latencies;  // µs, sorted, of the answered calls.
  std::map<std::string, int64_t> errors;
  int64_t flood_answers = 0;
  std::vector<std::string> cpu;  // CpuWindow::PerCall

  double Percentile(double p) const {
    if (latencies.empty()) return 0;
    const size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(latencies.size() - 1));
    return static_cast<double>(latencies[i]) / 1000.0;
  }
  double Throughput() const {
    return seconds > 0 ? static_cast<double>(latencies.size()) / seconds : 0;
  }
};

void PrintFigures(const std::string& scenario, const Figures& f) {
  const double rate = absl::GetFlag(FLAGS_rate);
  const double flood_rate = absl::GetFlag(FLAGS_flood_rate);
  const int concurrency = absl::GetFlag(FLAGS_concurrency);
  std::printf("scenario %s, %s, %.1f s measured\n", scenario.c_str(),
              rate > 0 ? absl::StrCat("open loop at ", rate, "/s").c_str()
                       : absl::StrCat("closed loop, ", concurrency, " callers").c_str(),
              f.seconds);
  std::printf("  throughput %.1f ok/s\n", f.Throughput());
  std::printf("  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f\n", f.Percentile(50),
              f.Percentile(90), f.Percentile(99), f.Percentile(99.9));
  std::vector<std::string> errors;
  for (const auto& [k, v] : f.errors) {
    std::printf("  errors %s: %lld\n", k.c_str(), static_cast<long long>(v));
    errors.push_back(absl::StrCat("\"", k, "\":", v));
  }
  std::printf("  CPU µs per call: %s\n", absl::StrJoin(f.cpu, " ").c_str());
  if (flood_rate > 0) {
    std::printf("  invalid flood beside it: %.0f/s requested, %lld answered\n", flood_rate,
                static_cast<long long>(f.flood_answers));
  }
  std::printf(
      "JSON {\"label\":\"%s\",\"scenario\":\"%s\",\"mode\":\"%s\",\"concurrency\":%d,\"rate\":%.1f,"
      "\"flood_rate\":%.1f,\"seconds\":%.2f,\"ok\":%zu,\"throughput\":%.1f,\"p50_ms\":%.3f,"
      "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"errors\":{%s},\"retries\":%lld,"
      "\"cpu_us_per_call\":{%s}}\n",
      absl::GetFlag(FLAGS_label).c_str(), scenario.c_str(), rate > 0 ? "open" : "closed",
      concurrency, rate, flood_rate, f.seconds, f.latencies.size(), f.Throughput(),
      f.Percentile(50), f.Percentile(90), f.Percentile(99), f.Percentile(99.9),
      absl::StrJoin(errors, ",").c_str(), static_cast<long long>(retries_sent.load()),
      absl::StrJoin(f.cpu, ",").c_str());
}

// The ledger audit over the services' ExportAuditFacts, as the admin: never
// a database. The exit code: 0 clean, 1 violations or no audit.
int RunAudit(const Env& env) {
  auto vault = v1::CodeVault::NewStub(server::MakeChannel(env.vault));
  auto billing = v1::Billing::NewStub(server::MakeChannel(env.billing));
  auto ledger = v1::AccountCredit::NewStub(server::MakeChannel(env.credit));
  auto violations =
      audit::AuditOverRpc({vault.get(), billing.get(), ledger.get(), [&env] {
                             auto ctx = std::make_unique<grpc::ClientContext>();
                             server::PrepareContext(*ctx, env.admin, absl::Minutes(5));
                             return ctx;
                           }});
  if (!violations.ok()) {
    std::fprintf(stderr, "giftbench: audit failed to run: %s\n",
                 violations.status().ToString().c_str());
    return 1;
  }
  if (!violations->empty()) {
    std::printf("audit: %zu violations\n%s", violations->size(),
                audit::Format(*violations).c_str());
    return 1;
  }
  std::printf("audit: clean\n");
  return 0;
}

// Issues what the run needs, then runs --settle_command; false (said on
// stderr) when either fails.
bool Prepare(const std::string& scenario, Workload& workload, Workload& flood) {
  if (!workload.Prepare(scenario)) return false;
  if (absl::GetFlag(FLAGS_flood_rate) > 0 && !flood.Prepare("invalid-flood")) return false;
  if (const std::string settle = absl::GetFlag(FLAGS_settle_command); !settle.empty()) {
    if (std::system(settle.c_str()) != 0) {
      std::fprintf(stderr, "giftbench: --settle_command failed: %s\n", settle.c_str());
      return false;
    }
  }
  return true;
}

// The measured run: warm-up, then the window, in the loop the flags ask for
// (with the flood beside it).
Figures Run(const std::string& scenario, Workload& workload, Workload& flood,
            std::vector<bench::WatchedProcess> watched) {
  std::vector<std::unique_ptr<Driver>> queues;
  for (int i = 0; i < std::max(1, absl::GetFlag(FLAGS_drivers)); ++i) {
    queues.push_back(std::make_unique<Driver>());
  }
  Recorder recorder, flood_recorder;
  std::atomic<int64_t> in_flight{0};
  const absl::Time start = absl::Now();
  const absl::Time measure_from = start + absl::GetFlag(FLAGS_warmup);
  const absl::Time end = measure_from + absl::GetFlag(FLAGS_duration);
  CpuWindow window(std::move(watched), measure_from, end);
  auto make = [&](std::mt19937_64& rng) { return workload.Make(scenario, rng); };
  // Open-loop senders (the --rate load, the flood), not the queues' threads.
  std::vector<std::thread> senders;
  if (const double flood_rate = absl::GetFlag(FLAGS_flood_rate); flood_rate > 0) {
    senders.emplace_back([&, flood_rate] {
      OpenLoop(
          flood_rate, start, measure_from, end,
          [&](std::mt19937_64& rng) { return flood.Make("invalid-flood", rng); },
          queues.back()->cq(), flood_recorder, in_flight, 7);
    });
  }
  absl::Time last_measured_send = end;
  if (const double rate = absl::GetFlag(FLAGS_rate); rate > 0) {
    senders.emplace_back([&, rate] {
      OpenLoop(rate, start, measure_from, end, make, queues.front()->cq(), recorder, in_flight, 11);
    });
  } else {
    last_measured_send = ClosedLoop(absl::GetFlag(FLAGS_concurrency), measure_from, end, make,
                                    queues, recorder, in_flight);
  }
  for (auto& s : senders) s.join();
  window.Join();
  while (in_flight.load() > 0) absl::SleepFor(absl::Milliseconds(10));
  for (auto& q : queues) q->Stop();

  Figures f;
  f.seconds = absl::ToDoubleSeconds(std::min(last_measured_send, end) - measure_from);
  f.latencies = recorder.Latencies();
  f.errors = recorder.Errors();
  // µs of CPU per answered call (ok or not) of the measured window, per
  // process; the flood's calls are not counted as operations.
  int64_t answered = static_cast<int64_t>(f.latencies.size());
  for (const auto& [k, v] : f.errors) answered += v;
  f.cpu = window.PerCall(answered);
  f.flood_answers = static_cast<int64_t>(flood_recorder.Latencies().size());
  for (const auto& [k, v] : flood_recorder.Errors()) f.flood_answers += v;
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage("giftbench --scenario=redeem [--concurrency=N | --rate=R]");
  absl::ParseCommandLine(argc, argv);
  // As in the services (server::Serve): the load generator's CPU counts in
  // every figure, and absl::Mutex's deadlock detection showed in its profile
  // (GraphCycles on gRPC's locks); its locks are leaf locks.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const std::string scenario = absl::GetFlag(FLAGS_scenario);
  const Env env{tools::RequireEnv("CODE_VAULT_ADDR"),
                tools::RequireEnv("ACCOUNT_CREDIT_ADDR"),
                tools::RequireEnv("BILLING_ADDR"),
                tools::RequireEnv("GIFTCARD_TOKEN_STOREFRONT"),
                tools::RequireEnv("GIFTCARD_TOKEN_BILLING_SYSTEM"),
                tools::RequireEnv("GIFTCARD_TOKEN_ADMIN")};
  const WorkloadOptions options{.accounts = absl::GetFlag(FLAGS_accounts),
                                .codes = absl::GetFlag(FLAGS_codes),
                                .retries = absl::GetFlag(FLAGS_retries)};
  Workload workload(env, options);
  Workload flood(env, options);
  if (!Prepare(scenario, workload, flood)) return 2;
  auto watched = bench::ParseWatchList(absl::GetFlag(FLAGS_cpu_watch));
  if (!watched) {
    std::fprintf(stderr, "giftbench: --cpu_watch wants 'name=pid[+],…'\n");
    return 2;
  }
  watched->push_back({"giftbench", getpid(), false});
  PrintFigures(scenario, Run(scenario, workload, flood, *std::move(watched)));
  return absl::GetFlag(FLAGS_audit) ? RunAudit(env) : 0;
}

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
using Clock = absl::Time;

struct Env {
  std::string vault, credit, billing, storefront, billing_system, admin;
};

// Latencies and outcomes, merged from every callback thread.
class Recorder {
 public:
  void Record(absl::Duration latency, const grpc::Status& status, bool measured) {
    if (!measured) return;
    absl::MutexLock lock(&mu_);
    if (status.ok()) {
      latencies_us_.push_back(absl::ToInt64Microseconds(latency));
    } else {
      const std::string reason = tools::ReasonOf(status);
      ++errors_[tools::CodeName(status.error_code()) + (reason.empty() ? "" : " " + reason)];
    }
  }
  std::vector<int64_t> Latencies() {
    absl::MutexLock lock(&mu_);
    std::sort(latencies_us_.begin(), latencies_us_.end());
    return latencies_us_;
  }
  std::map<std::string, int64_t> Errors() {
    absl::MutexLock lock(&mu_);
    return errors_;
  }

 private:
  absl::Mutex mu_;
  std::vector<int64_t> latencies_us_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> errors_ ABSL_GUARDED_BY(mu_);
};

std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  server::PrepareContext(*ctx, token, absl::Seconds(30));
  return ctx;
}

// One kind of call: sends it on `cq` and, on the thread that drains `cq`,
// calls `done` with its status.
using Call = std::function<void(grpc::CompletionQueue& cq, std::function<void(grpc::Status)> done)>;

// A call in flight on a completion queue; its address is the queue's tag.
// A call in flight, a completion queue's tag. Finished() either starts
// it again (a retry) or ends it and deletes it.
class Pending {
 public:
  virtual ~Pending() = default;
  virtual void Finished() = 0;
};

// Calls resent after UNAVAILABLE (--retries), over the whole run.
std::atomic<int64_t> retries_sent{0};

// Drains one completion queue on its own thread until Stop and every call
// in flight has answered.
class Driver {
 public:
  Driver() : thread_([this] { Drain(); }) {}
  ~Driver() { Stop(); }
  grpc::CompletionQueue& cq() { return cq_; }
  void Stop() {
    if (!thread_.joinable()) return;
    cq_.Shutdown();
    thread_.join();
  }

 private:
  void Drain() {
    void* tag;
    bool ok;
    while (cq_.Next(&tag, &ok)) {
      static_cast<Pending*>(tag)->Finished();
    }
  }
  grpc::CompletionQueue cq_;
  std::thread thread_;
};

class Workload {
 public:
  explicit Workload(Env env)
      : env_(std::move(env)),
        vault_(v1::CodeVault::NewStub(server::MakeChannel(env_.vault))),
        credit_(v1::AccountCredit::NewStub(server::MakeChannel(env_.credit))),
        billing_(v1::Billing::NewStub(server::MakeChannel(env_.billing))),
        health_(grpc::health::v1::Health::NewStub(server::MakeChannel(env_.vault))) {}

  // Creates what the scenario needs; false with a message on stderr if it cannot.
  bool Prepare(const std::string& scenario) {
    const std::string run = absl::StrCat(absl::ToUnixMicros(absl::Now()));
    for (int i = 0; i < absl::GetFlag(FLAGS_accounts); ++i) {
      accounts_.push_back(absl::StrCat("bench-", run, "-", i));
      v1::UpsertAccountRequest r;
      r.mutable_account()->set_account_id(accounts_.back());
      r.mutable_account()->set_country("DE");
      r.mutable_account()->set_currency_code("EUR");
      r.mutable_account()->set_billing_channel(v1::BILLING_CHANNEL_DIRECT);
      v1::Account out;
      grpc::Status s = credit_->UpsertAccount(Ctx(env_.storefront).get(), r, &out);
      if (!s.ok()) return Fail("UpsertAccount", s);
    }
    int codes = 0;
    int64_t value = 500;
    if (scenario == "redeem" || scenario == "mixed") codes = absl::GetFlag(FLAGS_codes);
    if (scenario == "code-status" || scenario == "check-code") codes = 1000;
    if (scenario == "apply-credit") {
      codes = static_cast<int>(accounts_.size());
      value = 100'000'000;  // A large credit per account, for many invoices.
    }
    for (int issued = 0; issued < codes;) {
      const int batch = std::min(10000, codes - issued);
      if (!Issue(batch, value, run + "-" + std::to_string(issued))) return false;
      issued += batch;
    }
    if (scenario == "apply-credit") {
      for (size_t i = 0; i < accounts_.size(); ++i) {
        v1::RedeemCodeRequest r;
        r.set_code(pins_[i]);
        r.set_account_id(accounts_[i]);
        r.set_client_ip("127.0.0.1");
        r.set_request_id("fund");
        v1::Redemption out;
        grpc::Status s = vault_->RedeemCode(Ctx(env_.storefront).get(), r, &out);
        if (!s.ok()) return Fail("RedeemCode (funding)", s);
      }
    }
    run_ = run;
    return true;
  }

  Call Make(const std::string& scenario, std::mt19937_64& rng) {
    if (scenario == "mixed") {
      static const char* kinds[] = {"redeem", "apply-credit", "apply-credit", "code-status",
                                    "check-code"};
      return Make(kinds[rng() % 5], rng);
    }
    const std::string& account = accounts_[rng() % accounts_.size()];
    if (scenario == "redeem") {
      const uint64_t i = next_pin_.fetch_add(1);
      if (i >= pins_.size()) return nullptr;  // Out of fresh codes.
      auto r = std::make_shared<v1::RedeemCodeRequest>();
      r->set_code(pins_[i]);
      r->set_account_id(account);
      r->set_request_id(absl::StrCat("bench-", i));
      r->set_client_ip(absl::StrCat("10.0.", i % 250, ".", (i / 250) % 250));
      return Unary<v1::RedeemCodeRequest, v1::Redemption>(
          r, env_.storefront, [this](auto* ctx, const auto& req, auto* cq) {
            return vault_->PrepareAsyncRedeemCode(ctx, req, cq);
          });
    }
    if (scenario == "invalid-flood") {
      auto r = std::make_shared<v1::RedeemCodeRequest>();
      r->set_code(codes::GeneratePin());  // Well-formed, never issued.
      r->set_account_id(absl::StrCat("flood-", rng() % 100000));
      r->set_request_id(absl::StrCat("flood-", rng()));
      r->set_client_ip(absl::StrCat("198.51.", rng() % 250, ".", rng() % 250));
      return Unary<v1::RedeemCodeRequest, v1::Redemption>(
          r, env_.storefront, [this](auto* ctx, const auto& req, auto* cq) {
            return vault_->PrepareAsyncRedeemCode(ctx, req, cq);
          });
    }
    if (scenario == "apply-credit") {
      auto r = std::make_shared<v1::ApplyCreditRequest>();
      r->set_invoice_id(absl::StrCat("bench-", run_, "-", next_invoice_.fetch_add(1)));
      r->set_account_id(accounts_[rng() % accounts_.size()]);
      r->mutable_amount_due()->set_currency_code("EUR");
      r->mutable_amount_due()->set_amount_minor(1199);
      return Unary<v1::ApplyCreditRequest, v1::CreditApplication>(
          r, env_.billing_system, [this](auto* ctx, const auto& req, auto* cq) {
            return billing_->PrepareAsyncApplyCredit(ctx, req, cq);
          });
    }
    if (scenario == "code-status") {
      auto r = std::make_shared<v1::GetCodeStatusRequest>();
      r->set_serial(serials_[rng() % serials_.size()]);
      return Unary<v1::GetCodeStatusRequest, v1::CodeStatus>(
          r, env_.admin, [this](auto* ctx, const auto& req, auto* cq) {
            return vault_->PrepareAsyncGetCodeStatus(ctx, req, cq);
          });
    }
    if (scenario == "check-code") {
      auto r = std::make_shared<v1::CheckCodeRequest>();
      r->set_code(pins_[rng() % pins_.size()]);
      r->set_client_ip(absl::StrCat("10.1.", rng() % 250, ".", rng() % 250));
      return Unary<v1::CheckCodeRequest, v1::CodeCheck>(
          r, env_.storefront, [this](auto* ctx, const auto& req, auto* cq) {
            return vault_->PrepareAsyncCheckCode(ctx, req, cq);
          });
    }
    // health: the gRPC floor of the same server.
    auto r = std::make_shared<grpc::health::v1::HealthCheckRequest>();
    return Unary<grpc::health::v1::HealthCheckRequest, grpc::health::v1::HealthCheckResponse>(
        r, "", [this](auto* ctx, const auto& req, auto* cq) {
          return health_->PrepareAsyncCheck(ctx, req, cq);
        });
  }

 private:
  // `prepare(ctx, request, cq)` is the stub's PrepareAsync<Method>.
  template <typename Req, typename Resp, typename Prepare>
  Call Unary(std::shared_ptr<Req> request, const std::string& token, Prepare prepare) {
    return [request, token, prepare](grpc::CompletionQueue& cq,
                                     std::function<void(grpc::Status)> done) {
      class InFlight : public Pending {
       public:
        InFlight(std::shared_ptr<Req> request, std::function<void(grpc::Status)> done,
                 const std::string& token, grpc::CompletionQueue& cq, const Prepare& prepare)
            : request_(std::move(request)),
              done_(std::move(done)),
              token_(token),
              cq_(cq),
              prepare_(prepare) {}
        void Start() {
          ctx_ = Ctx(token_);
          reader_ = prepare_(ctx_.get(), *request_, &cq_);
          reader_->StartCall();
          reader_->Finish(&response_, &status_, this);
        }
        void Finished() override {
          // The same request again: its request id makes it a replay if
          // the first attempt took effect after all.
          if (status_.error_code() == grpc::StatusCode::UNAVAILABLE &&
              attempts_++ < absl::GetFlag(FLAGS_retries)) {
            ++retries_sent;
            Start();
            return;
          }
          done_(status_);
          delete this;
        }

       private:
        std::shared_ptr<Req> request_;
        std::function<void(grpc::Status)> done_;
        const std::string token_;
        grpc::CompletionQueue& cq_;
        const Prepare prepare_;
        int attempts_ = 0;
        std::unique_ptr<grpc::ClientContext> ctx_;
        std::unique_ptr<grpc::ClientAsyncResponseReader<Resp>> reader_;
        Resp response_;
        grpc::Status status_;
      };
      (new InFlight(request, std::move(done), token, cq, prepare))->Start();
    };
  }

  bool Issue(int count, int64_t value, const std::string& tag) {
    v1::IssueCodesRequest r;
    r.set_count(count);
    r.mutable_amount()->set_currency_code("EUR");
    r.mutable_amount()->set_amount_minor(value);
    r.set_region("DE");
    r.set_request_id("bench-" + tag);
    auto ctx = Ctx(env_.admin);
    auto reader = vault_->IssueCodes(ctx.get(), r);
    v1::IssuedCode code;
    std::string batch;
    while (reader->Read(&code)) {
      pins_.push_back(code.code());
      serials_.push_back(code.serial());
      batch = code.batch_id();
    }
    grpc::Status s = reader->Finish();
    if (!s.ok()) return Fail("IssueCodes", s);
    v1::ActivateCodesRequest activate;
    activate.set_batch_id(batch);
    activate.set_request_id("bench-activate-" + tag);
    v1::ActivateCodesResponse out;
    s = vault_->ActivateCodes(Ctx(env_.admin).get(), activate, &out);
    return s.ok() || Fail("ActivateCodes", s);
  }

  static bool Fail(const char* what, const grpc::Status& s) {
    std::fprintf(stderr, "giftbench: %s: %s\n", what, tools::Describe(s).c_str());
    return false;
  }

  const Env env_;
  std::unique_ptr<v1::CodeVault::Stub> vault_;
  std::unique_ptr<v1::AccountCredit::Stub> credit_;
  std::unique_ptr<v1::Billing::Stub> billing_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  std::vector<std::string> accounts_, pins_, serials_;
  std::string run_;
  std::atomic<uint64_t> next_pin_{0}, next_invoice_{0};
};

// Drives `make` at `rate` per second (open loop) until `end`; latency is
// measured from each call's scheduled time.
void OpenLoop(double rate, absl::Time measure_from, absl::Time end,
              const std::function<Call(std::mt19937_64&)>& make, grpc::CompletionQueue& cq,
              Recorder& recorder, std::atomic<int64_t>& in_flight, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const absl::Duration interval = absl::Seconds(1) / rate;
  absl::Time next = absl::Now();
  while (next < end) {
    const absl::Time now = absl::Now();
    if (now < next) absl::SleepFor(next - now);
    Call call = make(rng);
    if (!call) break;
    const absl::Time scheduled = next;
    const bool measured = scheduled >= measure_from;
    ++in_flight;
    call(cq, [&recorder, &in_flight, scheduled, measured](grpc::Status s) {
      recorder.Record(absl::Now() - scheduled, s, measured);
      --in_flight;
    });
    next += interval;
  }
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
  Env env{tools::RequireEnv("CODE_VAULT_ADDR"),
          tools::RequireEnv("ACCOUNT_CREDIT_ADDR"),
          tools::RequireEnv("BILLING_ADDR"),
          tools::RequireEnv("GIFTCARD_TOKEN_STOREFRONT"),
          tools::RequireEnv("GIFTCARD_TOKEN_BILLING_SYSTEM"),
          tools::RequireEnv("GIFTCARD_TOKEN_ADMIN")};
  Workload workload(env);
  Workload flood(env);
  if (!workload.Prepare(scenario)) return 2;
  const double flood_rate = absl::GetFlag(FLAGS_flood_rate);
  if (flood_rate > 0 && !flood.Prepare("invalid-flood")) return 2;
  if (const std::string settle = absl::GetFlag(FLAGS_settle_command); !settle.empty()) {
    if (std::system(settle.c_str()) != 0) {
      std::fprintf(stderr, "giftbench: --settle_command failed: %s\n", settle.c_str());
      return 2;
    }
  }

  auto watched = bench::ParseWatchList(absl::GetFlag(FLAGS_cpu_watch));
  if (!watched) {
    std::fprintf(stderr, "giftbench: --cpu_watch wants 'name=pid[+],…'\n");
    return 2;
  }
  watched->push_back({"giftbench", getpid(), false});

  std::vector<std::unique_ptr<Driver>> queues;
  for (int i = 0; i < std::max(1, absl::GetFlag(FLAGS_drivers)); ++i) {
    queues.push_back(std::make_unique<Driver>());
  }
  Recorder recorder, flood_recorder;
  std::atomic<int64_t> in_flight{0};
  const absl::Time start = absl::Now();
  const absl::Time measure_from = start + absl::GetFlag(FLAGS_warmup);
  const absl::Time end = measure_from + absl::GetFlag(FLAGS_duration);
  // CPU of each watched process over exactly the measured window.
  std::vector<double> cpu_before(watched->size()), cpu_after(watched->size());
  const std::string window_command = absl::GetFlag(FLAGS_window_command);
  auto run_window_command = [&window_command](const char* when) {
    if (window_command.empty()) return;
    const std::string command = absl::StrCat(window_command, " ", when);
    if (std::system(command.c_str()) != 0) {
      std::fprintf(stderr, "giftbench: --window_command failed: %s\n", command.c_str());
    }
  };
  std::thread cpu_sampler([&] {
    absl::SleepFor(measure_from - absl::Now() - absl::Milliseconds(100));
    run_window_command("start");
    absl::SleepFor(measure_from - absl::Now());
    for (size_t i = 0; i < watched->size(); ++i) cpu_before[i] = bench::CpuSeconds((*watched)[i]);
    absl::SleepFor(end - absl::Now());
    for (size_t i = 0; i < watched->size(); ++i) cpu_after[i] = bench::CpuSeconds((*watched)[i]);
    run_window_command("end");
  });
  auto make = [&](std::mt19937_64& rng) { return workload.Make(scenario, rng); };

  // Open-loop senders (the --rate load, the flood), not the queues' threads.
  std::vector<std::thread> senders;
  if (flood_rate > 0) {
    senders.emplace_back([&] {
      OpenLoop(
          flood_rate, measure_from, end,
          [&](std::mt19937_64& rng) { return flood.Make("invalid-flood", rng); },
          queues.back()->cq(), flood_recorder, in_flight, 7);
    });
  }
  const double rate = absl::GetFlag(FLAGS_rate);
  absl::Time last_measured_send = end;
  if (rate > 0) {
    senders.emplace_back([&] {
      OpenLoop(rate, measure_from, end, make, queues.front()->cq(), recorder, in_flight, 11);
    });
  } else {
    // Closed loop: each caller sends its next call from the previous one's callback.
    struct Caller {
      std::mt19937_64 rng;
    };
    const int n = absl::GetFlag(FLAGS_concurrency);
    auto callers = std::make_shared<std::vector<Caller>>();
    for (int i = 0; i < n; ++i) callers->push_back({std::mt19937_64(1000 + i)});
    auto out_of_work = std::make_shared<std::atomic<bool>>(false);
    std::function<void(int)> next;
    next = [&, callers, out_of_work](int i) {
      if (absl::Now() >= end) return;
      Call call = make((*callers)[i].rng);
      if (!call) {
        out_of_work->store(true);
        return;
      }
      const absl::Time sent = absl::Now();
      ++in_flight;
      call(queues[i % queues.size()]->cq(), [&, i, sent](grpc::Status s) {
        recorder.Record(absl::Now() - sent, s, sent >= measure_from);
        next(i);  // Before this call leaves in_flight, so it is never 0 between the two.
        --in_flight;
      });
    };
    for (int i = 0; i < n; ++i) next(i);
    while (absl::Now() < end && !out_of_work->load()) absl::SleepFor(absl::Milliseconds(20));
    if (out_of_work->load() && absl::Now() < end) {
      last_measured_send = absl::Now();
      std::fprintf(stderr, "giftbench: ran out of fresh codes early; raise --codes\n");
    }
  }
  for (auto& s : senders) s.join();
  cpu_sampler.join();
  while (in_flight.load() > 0) absl::SleepFor(absl::Milliseconds(10));
  for (auto& q : queues) q->Stop();

  const double seconds = absl::ToDoubleSeconds(std::min(last_measured_send, end) - measure_from);
  std::vector<int64_t> lat = recorder.Latencies();
  auto pct = [&](double p) -> double {
    if (lat.empty()) return 0;
    size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(lat.size() - 1));
    return static_cast<double>(lat[i]) / 1000.0;
  };
  const double throughput = seconds > 0 ? static_cast<double>(lat.size()) / seconds : 0;
  std::printf(
      "scenario %s, %s, %.1f s measured\n", scenario.c_str(),
      rate > 0
          ? absl::StrCat("open loop at ", rate, "/s").c_str()
          : absl::StrCat("closed loop, ", absl::GetFlag(FLAGS_concurrency), " callers").c_str(),
      seconds);
  std::printf("  throughput %.1f ok/s\n", throughput);
  std::printf("  latency ms: p50 %.2f  p90 %.2f  p99 %.2f  p99.9 %.2f\n", pct(50), pct(90), pct(99),
              pct(99.9));
  std::vector<std::string> errs;
  for (const auto& [k, v] : recorder.Errors()) {
    std::printf("  errors %s: %lld\n", k.c_str(), static_cast<long long>(v));
    errs.push_back(absl::StrCat("\"", k, "\":", v));
  }
  // µs of CPU per answered call (ok or not) of the measured window, per
  // process; the flood's calls are not counted as operations.
  int64_t answered = static_cast<int64_t>(lat.size());
  for (const auto& [k, v] : recorder.Errors()) answered += v;
  std::vector<std::string> cpu;
  double cpu_total = 0;
  for (size_t i = 0; i < watched->size(); ++i) {
    if (cpu_before[i] < 0 || cpu_after[i] < 0 || answered == 0) continue;
    const double us = (cpu_after[i] - cpu_before[i]) * 1e6 / static_cast<double>(answered);
    cpu_total += us;
    cpu.push_back(absl::StrFormat("\"%s\":%.0f", (*watched)[i].name, us));
  }
  cpu.push_back(absl::StrFormat("\"all\":%.0f", cpu_total));
  std::printf("  CPU µs per call: %s\n", absl::StrJoin(cpu, " ").c_str());
  if (flood_rate > 0) {
    int64_t flood_answers = static_cast<int64_t>(flood_recorder.Latencies().size());
    for (const auto& [k, v] : flood_recorder.Errors()) flood_answers += v;
    std::printf("  invalid flood beside it: %.0f/s requested, %lld answered\n", flood_rate,
                static_cast<long long>(flood_answers));
  }
  std::printf(
      "JSON {\"label\":\"%s\",\"scenario\":\"%s\",\"mode\":\"%s\",\"concurrency\":%d,\"rate\":%.1f,"
      "\"flood_rate\":%.1f,\"seconds\":%.2f,\"ok\":%zu,\"throughput\":%.1f,\"p50_ms\":%.3f,"
      "\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,\"errors\":{%s},\"retries\":%lld,"
      "\"cpu_us_per_call\":{%s}}\n",
      absl::GetFlag(FLAGS_label).c_str(), scenario.c_str(), rate > 0 ? "open" : "closed",
      absl::GetFlag(FLAGS_concurrency), rate, flood_rate, seconds, lat.size(), throughput, pct(50),
      pct(90), pct(99), pct(99.9), absl::StrJoin(errs, ",").c_str(),
      static_cast<long long>(retries_sent.load()), absl::StrJoin(cpu, ",").c_str());

  if (absl::GetFlag(FLAGS_audit)) {
    // Over the services' ExportAuditFacts, as the admin: never a database.
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
  }
  return 0;
}

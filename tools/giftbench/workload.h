// giftbench's scenarios: what each needs prepared (accounts, codes issued
// and activated, credit to spend) and one call of each, sent on a
// completion queue.
#ifndef GIFTCARD_TOOLS_GIFTBENCH_WORKLOAD_H_
#define GIFTCARD_TOOLS_GIFTBENCH_WORKLOAD_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "giftbench/load.h"
#include "giftcard/v1/account_credit.grpc.pb.h"
#include "giftcard/v1/billing.grpc.pb.h"
#include "giftcard/v1/code_vault.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "server/client.h"

namespace giftcard::bench {

namespace v1 = ::giftcard::v1;

// The stack's addresses and the callers' tokens (its env file).
struct Env {
  std::string vault, credit, billing, storefront, billing_system, admin;
};

struct WorkloadOptions {
  int accounts = 200;  // Accounts to spread the load over.
  int codes = 20000;   // redeem: fresh codes to issue and activate first.
  int retries = 0;     // Resends of a call answered UNAVAILABLE.
};

class Workload {
 public:
  Workload(Env env, WorkloadOptions options)
      : env_(std::move(env)),
        options_(options),
        vault_(v1::CodeVault::NewStub(server::MakeChannel(env_.vault))),
        credit_(v1::AccountCredit::NewStub(server::MakeChannel(env_.credit))),
        billing_(v1::Billing::NewStub(server::MakeChannel(env_.billing))),
        health_(grpc::health::v1::Health::NewStub(server::MakeChannel(env_.vault))) {}

  // Creates what the scenario needs; false with a message on stderr if it cannot.
  bool Prepare(const std::string& scenario);

  // One call of `scenario` (mixed: of one picked at random); null when the
  // scenario ran out of fresh codes.
  Call Make(const std::string& scenario, std::mt19937_64& rng);

 private:
  // `prepare(ctx, request, cq)` is the stub's PrepareAsync<Method>.
  template <typename Req, typename Resp, typename Prepare>
  Call Unary(std::shared_ptr<Req> request, const std::string& token, Prepare prepare) {
    const int retries = options_.retries;
    return [request, token, prepare, retries](grpc::CompletionQueue& cq,
                                              std::function<void(grpc::Status)> done) {
      class InFlight : public Pending {
       public:
        InFlight(std::shared_ptr<Req> request, std::function<void(grpc::Status)> done,
                 const std::string& token, grpc::CompletionQueue& cq, const Prepare& prepare,
                 int retries)
            : retries_(retries),
              request_(std::move(request)),
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
          if (status_.error_code() == grpc::StatusCode::UNAVAILABLE && attempts_++ < retries_) {
            ++retries_sent;
            Start();
            return;
          }
          done_(status_);
          delete this;
        }

       private:
        const int retries_;
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
      (new InFlight(request, std::move(done), token, cq, prepare, retries))->Start();
    };
  }

  bool Issue(int count, int64_t value, const std::string& tag);

  static bool Fail(const char* what, const grpc::Status& s);

  const Env env_;
  const WorkloadOptions options_;
  std::unique_ptr<v1::CodeVault::Stub> vault_;
  std::unique_ptr<v1::AccountCredit::Stub> credit_;
  std::unique_ptr<v1::Billing::Stub> billing_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  std::vector<std::string> accounts_, pins_, serials_;
  std::string run_;
  std::atomic<uint64_t> next_pin_{0}, next_invoice_{0};
};

}  // namespace giftcard::bench

#endif  // GIFTCARD_TOOLS_GIFTBENCH_WORKLOAD_H_

// server: the call runner's admission control, lanes and deadlines, through
// a real in-process gRPC server whose callback handlers give it their work.
#include "server/call_runner.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "giftcard/v1/billing.grpc.pb.h"

namespace giftcard {
namespace {

using server::Lane;

// ApplyCredit (a write) holds until released; GetCreditApplication (a read)
// answers at once.
class HoldingService final
    : public v1::Billing::WithCallbackMethod_ApplyCredit<
          v1::Billing::WithCallbackMethod_GetCreditApplication<v1::Billing::Service>> {
 public:
  explicit HoldingService(server::CallRunner& calls) : calls_(calls) {}

  grpc::ServerUnaryReactor* ApplyCredit(grpc::CallbackServerContext* context,
                                        const v1::ApplyCreditRequest* request,
                                        v1::CreditApplication* response) override {
    return calls_.Run(context, "ApplyCredit", Lane::kWrite, [this, request, response] {
      started.fetch_add(1);
      release.WaitForNotification();
      response->set_invoice_id(request->invoice_id());
      return grpc::Status::OK;
    });
  }
  grpc::ServerUnaryReactor* GetCreditApplication(grpc::CallbackServerContext* context,
                                                 const v1::GetCreditApplicationRequest* request,
                                                 v1::CreditApplication* response) override {
    return calls_.Run(context, "GetCreditApplication", Lane::kRead, [request, response] {
      response->set_invoice_id(request->invoice_id());
      return grpc::Status::OK;
    });
  }

  std::atomic<int> started{0};
  absl::Notification release;

 private:
  server::CallRunner& calls_;
};

class CallRunnerTest : public ::testing::Test {
 protected:
  void Start(server::CallRunnerOptions options) {
    calls_ = std::make_unique<server::CallRunner>(std::move(options));
    service_ = std::make_unique<HoldingService>(*calls_);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_GT(port, 0);
    stub_ = v1::Billing::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (service_ && !service_->release.HasBeenNotified()) service_->release.Notify();
    if (server_) server_->Shutdown();
    server_.reset();
    calls_.reset();
  }

  grpc::Status Apply(const std::string& invoice, absl::Duration timeout = absl::Seconds(30)) {
    v1::ApplyCreditRequest request;
    request.set_invoice_id(invoice);
    v1::CreditApplication out;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    return stub_->ApplyCredit(&context, request, &out);
  }
  std::future<grpc::Status> ApplyInBackground(const std::string& invoice,
                                              absl::Duration timeout = absl::Seconds(30)) {
    return std::async(std::launch::async, [=] { return Apply(invoice, timeout); });
  }
  // Polls for a state the calls in flight reach; false if it never comes.
  static bool Eventually(const std::function<bool()>& reached) {
    const absl::Time give_up = absl::Now() + absl::Seconds(20);
    while (!reached()) {
      if (absl::Now() > give_up) return false;
      absl::SleepFor(absl::Milliseconds(2));
    }
    return true;
  }

  std::unique_ptr<server::CallRunner> calls_;
  std::unique_ptr<HoldingService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Billing::Stub> stub_;
};

TEST_F(CallRunnerTest, PastTheQueueBoundACallIsRefusedWithAReasonAndRetryInfoAndReadsStillRun) {
  Start({.read_workers = 1, .write_workers = 1, .max_queued_calls = 1});
  auto running = ApplyInBackground("inv-running");
  ASSERT_TRUE(Eventually([&] { return service_->started.load() == 1; }));
  auto queued = ApplyInBackground("inv-queued");
  ASSERT_TRUE(Eventually([&] { return calls_->queued(Lane::kWrite) == 1; }));

  const absl::Status refused = errors::FromGrpcStatus(Apply("inv-refused"));
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
  EXPECT_EQ(errors::ReasonOf(refused), "OVERLOADED");
  EXPECT_EQ(errors::RetryDelayOf(refused), absl::Milliseconds(200));
  EXPECT_EQ(errors::MetadataOf(refused, "max_queued_calls"), "1");
  EXPECT_EQ(calls_->refused(Lane::kWrite), 1);

  // Writes are all held, yet a read has its own lane.
  v1::GetCreditApplicationRequest read;
  read.set_invoice_id("inv-read");
  v1::CreditApplication got;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->GetCreditApplication(&context, read, &got).ok());
  EXPECT_EQ(got.invoice_id(), "inv-read");

  service_->release.Notify();
  EXPECT_TRUE(running.get().ok());
  EXPECT_TRUE(queued.get().ok());
  EXPECT_EQ(service_->started.load(), 2);  // The refused call never ran.
  EXPECT_EQ(calls_->refused(Lane::kRead), 0);
}

TEST_F(CallRunnerTest, ACallWhoseDeadlinePassedWhileItWaitedIsNotRun) {
  Start({.read_workers = 1, .write_workers = 1, .max_queued_calls = 8});
  auto running = ApplyInBackground("inv-running");
  ASSERT_TRUE(Eventually([&] { return service_->started.load() == 1; }));
  auto late = ApplyInBackground("inv-late", absl::Milliseconds(300));
  ASSERT_TRUE(Eventually([&] { return calls_->queued(Lane::kWrite) == 1; }));
  EXPECT_EQ(late.get().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // The server's deadline is the client's timeout as it arrived (rounded up
  // on the wire), so it may end a little after the client's: let it pass.
  absl::SleepFor(absl::Milliseconds(200));

  service_->release.Notify();
  EXPECT_TRUE(running.get().ok());
  // One worker, first in first out: once this call is answered, the late one
  // has left the queue.
  EXPECT_TRUE(Apply("inv-after").ok());
  EXPECT_EQ(service_->started.load(), 2);
}

}  // namespace
}  // namespace giftcard

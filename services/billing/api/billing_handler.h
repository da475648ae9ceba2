// gRPC handlers of giftcard.v1.Billing: proto ⇄ domain and
// absl::Status ⇄ grpc::Status only; the rules live in domain/.
#ifndef GIFTCARD_SERVICES_BILLING_API_BILLING_HANDLER_H_
#define GIFTCARD_SERVICES_BILLING_API_BILLING_HANDLER_H_

#include <atomic>
#include <functional>
#include <optional>

#include "absl/functional/any_invocable.h"
#include "audit/wire.h"
#include "auth/authorizer.h"
#include "auth/method_gate.h"
#include "giftcard/v1/billing.grpc.pb.h"
#include "outbox/watch.h"
#include "server/call_runner.h"
#include "services/billing/domain/billing_service.h"

namespace giftcard::billing {

// ApplyCredit on the service's engine (main.cc wires it): `run` runs a task
// on the engine's thread, where `ports` answer.
struct ApplyEngine {
  std::function<void(absl::AnyInvocable<void() &&>)> run;
  ApplyPorts ports;
  // Calls on the engine at once; past it a call is refused at once with
  // RESOURCE_EXHAUSTED/OVERLOADED and a RetryInfo.
  int max_in_flight = 512;
  absl::Duration retry_after = absl::Milliseconds(200);
};

// Unary methods are callback handlers whose work runs on the CallRunner's
// workers; the streaming audit export stays synchronous.
using BillingCallbackBase =
    v1::Billing::WithCallbackMethod_ApplyCredit<v1::Billing::WithCallbackMethod_ReverseCredit<
        v1::Billing::WithCallbackMethod_GetCreditApplication<v1::Billing::Service>>>;

class BillingHandler final : public BillingCallbackBase {
 public:
  BillingHandler(BillingService& service, const auth::Authorizer& auth,
                 audit::FactsReader<audit::BillingFacts> audit_facts, server::CallRunner& calls,
                 outbox::EventWatch& events)
      : service_(service),
        auth_(auth),
        audit_facts_(std::move(audit_facts)),
        gate_(auth, calls, v1::Billing::service_full_name()),
        events_(events) {}

  // From now on ApplyCredit runs on the engine instead of the call runner.
  void UseEngine(ApplyEngine engine) { engine_.emplace(std::move(engine)); }

  grpc::ServerUnaryReactor* ApplyCredit(grpc::CallbackServerContext* context,
                                        const v1::ApplyCreditRequest* request,
                                        v1::CreditApplication* response) override;
  grpc::ServerUnaryReactor* GetCreditApplication(grpc::CallbackServerContext* context,
                                                 const v1::GetCreditApplicationRequest* request,
                                                 v1::CreditApplication* response) override;
  grpc::ServerUnaryReactor* ReverseCredit(grpc::CallbackServerContext* context,
                                          const v1::ReverseCreditRequest* request,
                                          v1::CreditApplication* response) override;
  grpc::Status ExportAuditFacts(grpc::ServerContext* context,
                                const v1::ExportAuditFactsRequest* request,
                                grpc::ServerWriter<v1::BillingAuditFacts>* writer) override;
  // Admin and support: the service's events (libs/outbox), a stream.
  grpc::Status WatchEvents(grpc::ServerContext* context, const v1::WatchEventsRequest* request,
                           grpc::ServerWriter<v1::Event>* writer) override;

 private:
  BillingService& service_;
  const auth::Authorizer& auth_;
  const audit::FactsReader<audit::BillingFacts> audit_facts_;
  auth::MethodGate gate_;  // Each method named once: its permission and lane.
  outbox::EventWatch& events_;
  std::optional<ApplyEngine> engine_;
  std::atomic<int> engine_in_flight_{0};
};

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_API_BILLING_HANDLER_H_

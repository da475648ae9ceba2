// gRPC handlers of giftcard.v1.Billing: proto ⇄ domain and
// absl::Status ⇄ grpc::Status only; the rules live in domain/.
#ifndef GIFTCARD_SERVICES_BILLING_API_BILLING_HANDLER_H_
#define GIFTCARD_SERVICES_BILLING_API_BILLING_HANDLER_H_

#include "audit/wire.h"
#include "auth/authorizer.h"
#include "giftcard/v1/billing.grpc.pb.h"
#include "outbox/watch.h"
#include "server/call_runner.h"
#include "services/billing/domain/billing_service.h"

namespace giftcard::billing {

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
        calls_(calls),
        events_(events) {}

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
  server::CallRunner& calls_;
  outbox::EventWatch& events_;

  // The caller may call `method` of this service (auth/permissions.h).
  grpc::Status Allow(grpc::ServerContextBase* context, absl::string_view method) const;
};

}  // namespace giftcard::billing

#endif  // GIFTCARD_SERVICES_BILLING_API_BILLING_HANDLER_H_

#include "services/billing/api/billing_handler.h"

#include "absl/strings/str_cat.h"
#include "deadline/deadline.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "protoconv/protoconv.h"
#include "server/call_deadline.h"
#include "server/call_log.h"
#include "server/engine_calls.h"

namespace giftcard::billing {
namespace {

v1::CreditApplicationState ToProto(ApplicationState s) {
  switch (s) {
    case ApplicationState::kPending:
      return v1::CREDIT_APPLICATION_STATE_PENDING;
    case ApplicationState::kApplied:
      return v1::CREDIT_APPLICATION_STATE_APPLIED;
    case ApplicationState::kReversalPending:
      return v1::CREDIT_APPLICATION_STATE_REVERSAL_PENDING;
    case ApplicationState::kReversed:
      return v1::CREDIT_APPLICATION_STATE_REVERSED;
  }
  return v1::CREDIT_APPLICATION_STATE_UNSPECIFIED;
}

void ToProto(const CreditApplication& a, v1::CreditApplication* out) {
  const std::string& cur = a.amount_due.currency_code;
  out->set_invoice_id(a.invoice_id);
  out->set_account_id(a.account_id);
  *out->mutable_amount_due() = protoconv::ToProto(a.amount_due);
  *out->mutable_applied() = protoconv::ToProto({cur, a.applied_minor});
  *out->mutable_amount_to_charge() = protoconv::ToProto({cur, a.amount_to_charge_minor()});
  *out->mutable_remaining_credit() = protoconv::ToProto({cur, a.remaining_credit_minor});
  out->set_next_invoice_covered(a.next_invoice_covered());
  out->set_state(ToProto(a.state));
  protoconv::ToTimestamp(a.create_time, out->mutable_create_time());
  protoconv::ToTimestamp(a.update_time, out->mutable_update_time());
}

}  // namespace

grpc::ServerUnaryReactor* BillingHandler::ApplyCredit(grpc::CallbackServerContext* context,
                                                      const v1::ApplyCreditRequest* request,
                                                      v1::CreditApplication* response) {
  constexpr char kMethod[] = "ApplyCredit";
  ApplyCreditCommand command{request->invoice_id(), request->account_id(),
                             protoconv::FromProto(request->amount_due()),
                             server::OutgoingTraceparent(*context)};
  if (!engine_) {
    return gate_.Run(context, kMethod, server::Lane::kWrite,
                     [this, context, command, response]() -> grpc::Status {
                       auto result = service_.ApplyCredit(command);
                       if (!result.ok()) return errors::ToGrpcStatus(result.status());
                       ToProto(*result, response);
                       return grpc::Status::OK;
                     });
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (grpc::Status denied = gate_.Allow(*context, kMethod); !denied.ok()) {
    reactor->Finish(denied);
    return reactor;
  }
  if (grpc::Status full = server::EnterEngine(engine_in_flight_, engine_->max_in_flight,
                                              engine_->retry_after, kMethod);
      !full.ok()) {
    reactor->Finish(full);
    return reactor;
  }
  engine_->run([this, reactor, response, command = std::move(command)]() mutable {
    service_.StartApplyCredit(engine_->ports, std::move(command),
                              [this, reactor, response](absl::StatusOr<CreditApplication> result) {
                                engine_in_flight_.fetch_sub(1);
                                if (!result.ok())
                                  return reactor->Finish(errors::ToGrpcStatus(result.status()));
                                ToProto(*result, response);
                                reactor->Finish(grpc::Status::OK);
                              });
  });
  return reactor;
}

grpc::ServerUnaryReactor* BillingHandler::ReverseCredit(grpc::CallbackServerContext* context,
                                                        const v1::ReverseCreditRequest* request,
                                                        v1::CreditApplication* response) {
  return gate_.Run(context, "ReverseCredit", server::Lane::kWrite,
                   [this, context, request, response]() -> grpc::Status {
                     auto result = service_.ReverseCredit(request->invoice_id(), request->reason());
                     if (!result.ok()) return errors::ToGrpcStatus(result.status());
                     ToProto(*result, response);
                     return grpc::Status::OK;
                   });
}

grpc::ServerUnaryReactor* BillingHandler::GetCreditApplication(
    grpc::CallbackServerContext* context, const v1::GetCreditApplicationRequest* request,
    v1::CreditApplication* response) {
  return gate_.Run(context, "GetCreditApplication", server::Lane::kRead,
                   [this, context, request, response]() -> grpc::Status {
                     auto result = service_.GetCreditApplication(request->invoice_id());
                     if (!result.ok()) return errors::ToGrpcStatus(result.status());
                     ToProto(*result, response);
                     return grpc::Status::OK;
                   });
}

grpc::Status BillingHandler::ExportAuditFacts(grpc::ServerContext* context,
                                              const v1::ExportAuditFactsRequest* request,
                                              grpc::ServerWriter<v1::BillingAuditFacts>* writer) {
  if (grpc::Status denied = gate_.Allow(*context, "ExportAuditFacts"); !denied.ok()) return denied;
  const deadline::Scope call_deadline(server::CallDeadline(*context));
  return audit::WriteChunks(audit_facts_, request->chunk_size(), writer);
}

grpc::Status BillingHandler::WatchEvents(grpc::ServerContext* context,
                                         const v1::WatchEventsRequest* request,
                                         grpc::ServerWriter<v1::Event>* writer) {
  if (grpc::Status denied = gate_.Allow(*context, "WatchEvents"); !denied.ok()) return denied;
  return events_.Serve(*context, *request, *writer);
}

}  // namespace giftcard::billing

#include "services/code_vault/api/code_vault_handler.h"

#include "absl/strings/str_cat.h"
#include "auth/permissions.h"
#include "deadline/deadline.h"
#include "errors/grpc_status.h"
#include "protoconv/protoconv.h"
#include "server/call_deadline.h"
#include "server/call_log.h"
#include "server/engine_calls.h"
#include "services/code_vault/api/conversions.h"
#include "validate/validate.h"

namespace giftcard::code_vault {

grpc::ServerUnaryReactor* CodeVaultHandler::CheckCode(grpc::CallbackServerContext* context,
                                                      const v1::CheckCodeRequest* request,
                                                      v1::CodeCheck* response) {
  auto to_proto = [response](const absl::StatusOr<CodeCheck>& check) {
    if (!check.ok()) return errors::ToGrpcStatus(check.status());
    *response->mutable_amount() = protoconv::ToProto(check->amount);
    response->set_region(check->region);
    response->set_redeemable(check->redeemable);
    return grpc::Status::OK;
  };
  if (!engine_) {
    return gate_.Run(context, "CheckCode", server::Lane::kRead,
                     [this, context, request, to_proto]() -> grpc::Status {
                       return to_proto(service_.CheckCode(request->code(), request->client_ip()));
                     });
  }
  return OnEngine(
      context, "CheckCode",
      [this, code = request->code(), client_ip = request->client_ip(), to_proto](auto finish) {
        service_.StartCheckCode(
            engine_->ports, code, client_ip,
            [to_proto, finish](absl::StatusOr<CodeCheck> check) { finish(to_proto(check)); });
      });
}

grpc::ServerUnaryReactor* CodeVaultHandler::VoidCodes(grpc::CallbackServerContext* context,
                                                      const v1::VoidCodesRequest* request,
                                                      v1::VoidCodesResponse* response) {
  return gate_.Run(context, "VoidCodes", server::Lane::kWrite,
                   [this, context, request, response]() -> grpc::Status {
                     auto result = service_.VoidCodes(
                         {request->batch_id(), CanonicalSerials(request->serials()),
                          request->reason(), request->request_id(), PrincipalOf(*context)});
                     if (!result.ok()) return errors::ToGrpcStatus(result.status());
                     response->set_voided_count(result->changed);
                     response->set_unchanged_count(result->unchanged);
                     response->set_skipped_count(result->skipped);
                     return grpc::Status::OK;
                   });
}

grpc::ServerUnaryReactor* CodeVaultHandler::BlockCodes(grpc::CallbackServerContext* context,
                                                       const v1::BlockCodesRequest* request,
                                                       v1::BlockCodesResponse* response) {
  return gate_.Run(context, "BlockCodes", server::Lane::kWrite,
                   [this, context, request, response]() -> grpc::Status {
                     auto result = service_.BlockCodes(
                         {request->batch_id(), CanonicalSerials(request->serials()),
                          request->reason(), request->request_id(), PrincipalOf(*context)});
                     if (!result.ok()) return errors::ToGrpcStatus(result.status());
                     response->set_blocked_count(result->changed);
                     response->set_unchanged_count(result->unchanged);
                     response->set_skipped_count(result->skipped);
                     return grpc::Status::OK;
                   });
}

grpc::ServerUnaryReactor* CodeVaultHandler::UnblockCodes(grpc::CallbackServerContext* context,
                                                         const v1::UnblockCodesRequest* request,
                                                         v1::UnblockCodesResponse* response) {
  return gate_.Run(context, "UnblockCodes", server::Lane::kWrite,
                   [this, context, request, response]() -> grpc::Status {
                     auto result = service_.UnblockCodes(
                         {request->batch_id(), CanonicalSerials(request->serials()),
                          request->reason(), request->request_id(), PrincipalOf(*context)});
                     if (!result.ok()) return errors::ToGrpcStatus(result.status());
                     response->set_unblocked_count(result->changed);
                     response->set_unchanged_count(result->unchanged);
                     return grpc::Status::OK;
                   });
}

grpc::ServerUnaryReactor* CodeVaultHandler::ReverseRedemption(
    grpc::CallbackServerContext* context, const v1::ReverseRedemptionRequest* request,
    v1::Clawback* response) {
  return gate_.Run(context, "ReverseRedemption", server::Lane::kWrite,
                   [this, context, request, response]() -> grpc::Status {
                     ReverseRedemptionCommand command;
                     command.serial = validate::CanonicalSerial(request->serial());
                     command.redemption_id = request->redemption_id();
                     command.reason = request->reason();
                     command.request_id = request->request_id();
                     command.then_state = FromProto(request->then_state());
                     command.principal = PrincipalOf(*context);
                     auto result = service_.ReverseRedemption(command);
                     if (!result.ok()) return errors::ToGrpcStatus(result.status());
                     ToProto(*result, response);
                     return grpc::Status::OK;
                   });
}

grpc::ServerUnaryReactor* CodeVaultHandler::GetCodeLiability(
    grpc::CallbackServerContext* context, const v1::GetCodeLiabilityRequest* /*request*/,
    v1::CodeLiability* response) {
  return gate_.Run(
      context, "GetCodeLiability", server::Lane::kRead,
      [this, context, response]() -> grpc::Status {
        auto report = reports_.CodeLiabilityReport();
        if (!report.ok()) return errors::ToGrpcStatus(report.status());
        for (const CurrencyCodes& c : report->currencies) {
          v1::CodeLiability::Currency* out = response->add_currencies();
          const std::string& cur = c.currency_code;
          out->set_currency_code(cur);
          out->set_active_count(c.active_count);
          *out->mutable_active_value() = protoconv::ToProto({cur, c.active_minor});
          out->set_held_count(c.held_count);
          *out->mutable_held_value() = protoconv::ToProto({cur, c.held_minor});
          out->set_redeeming_count(c.redeeming_count);
          *out->mutable_redeeming_value() = protoconv::ToProto({cur, c.redeeming_minor});
        }
        protoconv::ToTimestamp(report->read_time, response->mutable_read_time());
        return grpc::Status::OK;
      });
}

grpc::ServerUnaryReactor* CodeVaultHandler::GetCaller(grpc::CallbackServerContext* context,
                                                      const v1::GetCallerRequest* /*request*/,
                                                      v1::Caller* response) {
  return gate_.Run(context, "GetCaller", server::Lane::kRead,
                   [this, context, response]() -> grpc::Status {
                     const std::string principal = PrincipalOf(*context);
                     response->set_principal(principal);
                     for (std::string& m : auth::MethodsAllowed(principal)) {
                       response->add_methods(std::move(m));
                     }
                     return grpc::Status::OK;
                   });
}

grpc::ServerUnaryReactor* CodeVaultHandler::GetBreakageReport(
    grpc::CallbackServerContext* context, const v1::GetBreakageReportRequest* /*request*/,
    v1::BreakageReport* response) {
  return gate_.Run(context, "GetBreakageReport", server::Lane::kRead,
                   [this, context, response]() -> grpc::Status {
                     auto report = reports_.Breakage();
                     if (!report.ok()) return errors::ToGrpcStatus(report.status());
                     for (const BreakageRow& r : report->rows) {
                       v1::BreakageReport::Row* out = response->add_rows();
                       out->set_batch_id(r.batch_id);
                       out->set_month(r.month);
                       out->set_kind(r.kind == BreakageKind::kVoided ? v1::BREAKAGE_KIND_VOIDED
                                                                     : v1::BREAKAGE_KIND_EXPIRED);
                       out->set_code_count(r.code_count);
                       *out->mutable_value() = protoconv::ToProto({r.currency_code, r.value_minor});
                     }
                     protoconv::ToTimestamp(report->read_time, response->mutable_read_time());
                     return grpc::Status::OK;
                   });
}

grpc::ServerUnaryReactor* CodeVaultHandler::ListCodeChanges(
    grpc::CallbackServerContext* context, const v1::ListCodeChangesRequest* request,
    v1::ListCodeChangesResponse* response) {
  return gate_.Run(context, "ListCodeChanges", server::Lane::kRead,
                   [this, context, request, response]() -> grpc::Status {
                     auto page =
                         service_.ListCodeChanges({validate::CanonicalSerial(request->serial()),
                                                   request->page_size(), request->page_token()});
                     if (!page.ok()) return errors::ToGrpcStatus(page.status());
                     for (const CodeChange& c : page->changes) ToProto(c, response->add_changes());
                     response->set_next_page_token(page->next_page_token);
                     return grpc::Status::OK;
                   });
}

grpc::ServerUnaryReactor* CodeVaultHandler::ListCodes(grpc::CallbackServerContext* context,
                                                      const v1::ListCodesRequest* request,
                                                      v1::ListCodesResponse* response) {
  return gate_.Run(context, "ListCodes", server::Lane::kRead,
                   [this, context, request, response]() -> grpc::Status {
                     ListCodesQuery query;
                     query.batch_id = request->batch_id();
                     query.state = FromProto(request->state());
                     query.page_size = request->page_size();
                     query.page_token = request->page_token();
                     auto page = service_.ListCodes(query);
                     if (!page.ok()) return errors::ToGrpcStatus(page.status());
                     for (const Code& code : page->codes) ToProto(code, response->add_codes());
                     response->set_next_page_token(page->next_page_token);
                     return grpc::Status::OK;
                   });
}

grpc::ServerUnaryReactor* CodeVaultHandler::ListBatches(grpc::CallbackServerContext* context,
                                                        const v1::ListBatchesRequest* request,
                                                        v1::ListBatchesResponse* response) {
  return gate_.Run(context, "ListBatches", server::Lane::kRead,
                   [this, context, request, response]() -> grpc::Status {
                     auto page = service_.ListBatches(request->page_size(), request->page_token());
                     if (!page.ok()) return errors::ToGrpcStatus(page.status());
                     for (const BatchInfo& batch : page->batches)
                       ToProto(batch, response->add_batches());
                     response->set_next_page_token(page->next_page_token);
                     return grpc::Status::OK;
                   });
}

grpc::ServerUnaryReactor* CodeVaultHandler::RedeemCode(grpc::CallbackServerContext* context,
                                                       const v1::RedeemCodeRequest* request,
                                                       v1::Redemption* response) {
  RedeemCommand command{request->code(),
                        request->account_id(),
                        request->request_id(),
                        request->client_ip(),
                        server::OutgoingTraceparent(*context),
                        PrincipalOf(*context)};
  if (!engine_) {
    return gate_.Run(context, "RedeemCode", server::Lane::kWrite,
                     [this, context, command, response]() -> grpc::Status {
                       auto result = service_.Redeem(command);
                       if (!result.ok()) return errors::ToGrpcStatus(result.status());
                       ToProto(*result, response);
                       return grpc::Status::OK;
                     });
  }
  return OnEngine(context, "RedeemCode",
                  [this, response, command = std::move(command)](auto finish) mutable {
                    service_.StartRedeem(engine_->ports, std::move(command),
                                         [response, finish](absl::StatusOr<Redemption> result) {
                                           if (!result.ok())
                                             return finish(errors::ToGrpcStatus(result.status()));
                                           ToProto(*result, response);
                                           finish(grpc::Status::OK);
                                         });
                  });
}

grpc::ServerUnaryReactor* CodeVaultHandler::OnEngine(
    grpc::CallbackServerContext* context, const char* method,
    absl::AnyInvocable<void(std::function<void(grpc::Status)> finish) &&> start) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (grpc::Status denied = gate_.Allow(*context, method); !denied.ok()) {
    reactor->Finish(denied);
    return reactor;
  }
  if (grpc::Status full = server::EnterEngine(engine_in_flight_, engine_->max_in_flight,
                                              engine_->retry_after, method);
      !full.ok()) {
    reactor->Finish(full);
    return reactor;
  }
  engine_->run([this, reactor, start = std::move(start)]() mutable {
    std::move(start)([this, reactor](grpc::Status status) {
      engine_in_flight_.fetch_sub(1);
      reactor->Finish(status);
    });
  });
  return reactor;
}

grpc::ServerUnaryReactor* CodeVaultHandler::GetCodeStatus(grpc::CallbackServerContext* context,
                                                          const v1::GetCodeStatusRequest* request,
                                                          v1::CodeStatus* response) {
  if (!engine_) {
    return gate_.Run(context, "GetCodeStatus", server::Lane::kRead,
                     [this, context, request, response]() -> grpc::Status {
                       auto code = service_.GetCodeStatus(
                           {validate::CanonicalSerial(request->serial()), request->code()});
                       if (!code.ok()) return errors::ToGrpcStatus(code.status());
                       ToProto(*code, response);
                       return grpc::Status::OK;
                     });
  }
  return OnEngine(
      context, "GetCodeStatus",
      [this, key = CodeKey{validate::CanonicalSerial(request->serial()), request->code()},
       response](auto finish) mutable {
        service_.StartGetCodeStatus(engine_->reads, key,
                                    [response, finish](absl::StatusOr<Code> code) {
                                      if (!code.ok())
                                        return finish(errors::ToGrpcStatus(code.status()));
                                      ToProto(*code, response);
                                      finish(grpc::Status::OK);
                                    });
      });
}

std::string CodeVaultHandler::PrincipalOf(const grpc::ServerContextBase& context) const {
  return auth_.PrincipalOf(context).value_or("");
}

grpc::Status CodeVaultHandler::IssueCodes(grpc::ServerContext* context,
                                          const v1::IssueCodesRequest* request,
                                          grpc::ServerWriter<v1::IssuedCode>* writer) {
  if (grpc::Status denied = gate_.Allow(*context, "IssueCodes"); !denied.ok()) return denied;
  const deadline::Scope call_deadline(server::CallDeadline(*context));
  IssueCommand cmd;
  cmd.principal = PrincipalOf(*context);
  cmd.count = request->count();
  cmd.amount = protoconv::FromProto(request->amount());
  cmd.region = request->region();
  cmd.request_id = request->request_id();
  if (request->has_expire_time())
    cmd.expire_time = protoconv::FromTimestamp(request->expire_time());
  auto batch = service_.IssueCodes(cmd);
  if (!batch.ok()) return errors::ToGrpcStatus(batch.status());
  v1::IssuedCode out;
  out.set_batch_id(batch->batch_id);
  for (const IssuedCode& code : batch->codes) {
    if (context->IsCancelled()) return grpc::Status::CANCELLED;
    out.set_serial(code.serial);
    out.set_code(code.pin);
    if (!writer->Write(out)) return grpc::Status::CANCELLED;
  }
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* CodeVaultHandler::ActivateCodes(grpc::CallbackServerContext* context,
                                                          const v1::ActivateCodesRequest* request,
                                                          v1::ActivateCodesResponse* response) {
  return gate_.Run(context, "ActivateCodes", server::Lane::kWrite,
                   [this, context, request, response]() -> grpc::Status {
                     auto result = service_.ActivateCodes(
                         request->batch_id(), CanonicalSerials(request->serials()),
                         request->request_id(), PrincipalOf(*context));
                     if (!result.ok()) return errors::ToGrpcStatus(result.status());
                     response->set_activated_count(result->changed);
                     response->set_unchanged_count(result->unchanged);
                     response->set_skipped_count(result->skipped);
                     return grpc::Status::OK;
                   });
}

grpc::Status CodeVaultHandler::ExportAuditFacts(grpc::ServerContext* context,
                                                const v1::ExportAuditFactsRequest* request,
                                                grpc::ServerWriter<v1::VaultAuditFacts>* writer) {
  if (grpc::Status denied = gate_.Allow(*context, "ExportAuditFacts"); !denied.ok()) return denied;
  const deadline::Scope call_deadline(server::CallDeadline(*context));
  return audit::WriteChunks(audit_facts_, request->chunk_size(), writer);
}

grpc::Status CodeVaultHandler::WatchEvents(grpc::ServerContext* context,
                                           const v1::WatchEventsRequest* request,
                                           grpc::ServerWriter<v1::Event>* writer) {
  if (grpc::Status denied = gate_.Allow(*context, "WatchEvents"); !denied.ok()) return denied;
  return events_.Serve(*context, *request, *writer);
}

}  // namespace giftcard::code_vault

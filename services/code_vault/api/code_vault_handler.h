// gRPC handlers of giftcard.v1.CodeVault: proto ⇄ domain and
// absl::Status ⇄ grpc::Status only; the rules live in domain/.
#ifndef GIFTCARD_SERVICES_CODE_VAULT_API_CODE_VAULT_HANDLER_H_
#define GIFTCARD_SERVICES_CODE_VAULT_API_CODE_VAULT_HANDLER_H_

#include <atomic>
#include <functional>
#include <optional>

#include "absl/functional/any_invocable.h"
#include "audit/wire.h"
#include "auth/authorizer.h"
#include "auth/method_gate.h"
#include "giftcard/v1/code_vault.grpc.pb.h"
#include "outbox/watch.h"
#include "server/call_runner.h"
#include "services/code_vault/domain/report_service.h"
#include "services/code_vault/domain/vault_service.h"

namespace giftcard::code_vault {

// Unary methods are callback handlers whose work runs on the CallRunner's
// workers; the streaming admin methods stay synchronous.
using CodeVaultCallbackBase = v1::CodeVault::WithCallbackMethod_RedeemCode<
    v1::CodeVault::WithCallbackMethod_CheckCode<v1::CodeVault::WithCallbackMethod_GetCodeStatus<
        v1::CodeVault::WithCallbackMethod_ActivateCodes<v1::CodeVault::WithCallbackMethod_VoidCodes<
            v1::CodeVault::WithCallbackMethod_BlockCodes<
                v1::CodeVault::WithCallbackMethod_UnblockCodes<
                    v1::CodeVault::WithCallbackMethod_ReverseRedemption<
                        v1::CodeVault::WithCallbackMethod_ListCodeChanges<
                            v1::CodeVault::WithCallbackMethod_ListCodes<
                                v1::CodeVault::WithCallbackMethod_ListBatches<
                                    v1::CodeVault::WithCallbackMethod_GetCodeLiability<
                                        v1::CodeVault::WithCallbackMethod_GetBreakageReport<
                                            v1::CodeVault::WithCallbackMethod_GetCaller<
                                                v1::CodeVault::Service>>>>>>>>>>>>>>;

// The hot path on the service's engine (main.cc wires it): RedeemCode,
// CheckCode and GetCodeStatus. `run` runs a task on the engine's thread, where `ports`
// and `reads` answer.
struct RedeemEngine {
  std::function<void(absl::AnyInvocable<void() &&>)> run;
  RedeemPorts ports;
  AsyncCodeReads& reads;
  // Calls on the engine at once; past it a call is refused at once with
  // RESOURCE_EXHAUSTED/OVERLOADED and a RetryInfo.
  int max_in_flight = 512;
  absl::Duration retry_after = absl::Milliseconds(200);
};

class CodeVaultHandler final : public CodeVaultCallbackBase {
 public:
  CodeVaultHandler(VaultService& service, ReportService& reports, const auth::Authorizer& auth,
                   audit::FactsReader<audit::VaultFacts> audit_facts, server::CallRunner& calls,
                   outbox::EventWatch& events)
      : service_(service),
        reports_(reports),
        auth_(auth),
        audit_facts_(std::move(audit_facts)),
        gate_(auth, calls, v1::CodeVault::service_full_name()),
        events_(events) {}

  // From now on RedeemCode, CheckCode and GetCodeStatus run on the engine instead of
  // the call runner.
  void UseEngine(RedeemEngine engine) { engine_.emplace(std::move(engine)); }

  grpc::ServerUnaryReactor* RedeemCode(grpc::CallbackServerContext* context,
                                       const v1::RedeemCodeRequest* request,
                                       v1::Redemption* response) override;
  grpc::ServerUnaryReactor* GetCodeStatus(grpc::CallbackServerContext* context,
                                          const v1::GetCodeStatusRequest* request,
                                          v1::CodeStatus* response) override;
  grpc::Status IssueCodes(grpc::ServerContext* context, const v1::IssueCodesRequest* request,
                          grpc::ServerWriter<v1::IssuedCode>* writer) override;
  grpc::ServerUnaryReactor* ActivateCodes(grpc::CallbackServerContext* context,
                                          const v1::ActivateCodesRequest* request,
                                          v1::ActivateCodesResponse* response) override;
  grpc::ServerUnaryReactor* CheckCode(grpc::CallbackServerContext* context,
                                      const v1::CheckCodeRequest* request,
                                      v1::CodeCheck* response) override;
  grpc::ServerUnaryReactor* VoidCodes(grpc::CallbackServerContext* context,
                                      const v1::VoidCodesRequest* request,
                                      v1::VoidCodesResponse* response) override;
  grpc::ServerUnaryReactor* BlockCodes(grpc::CallbackServerContext* context,
                                       const v1::BlockCodesRequest* request,
                                       v1::BlockCodesResponse* response) override;
  grpc::ServerUnaryReactor* UnblockCodes(grpc::CallbackServerContext* context,
                                         const v1::UnblockCodesRequest* request,
                                         v1::UnblockCodesResponse* response) override;
  grpc::ServerUnaryReactor* ReverseRedemption(grpc::CallbackServerContext* context,
                                              const v1::ReverseRedemptionRequest* request,
                                              v1::Clawback* response) override;
  grpc::ServerUnaryReactor* GetCodeLiability(grpc::CallbackServerContext* context,
                                             const v1::GetCodeLiabilityRequest* request,
                                             v1::CodeLiability* response) override;
  grpc::ServerUnaryReactor* GetBreakageReport(grpc::CallbackServerContext* context,
                                              const v1::GetBreakageReportRequest* request,
                                              v1::BreakageReport* response) override;
  grpc::ServerUnaryReactor* ListCodeChanges(grpc::CallbackServerContext* context,
                                            const v1::ListCodeChangesRequest* request,
                                            v1::ListCodeChangesResponse* response) override;
  grpc::ServerUnaryReactor* ListCodes(grpc::CallbackServerContext* context,
                                      const v1::ListCodesRequest* request,
                                      v1::ListCodesResponse* response) override;
  grpc::ServerUnaryReactor* ListBatches(grpc::CallbackServerContext* context,
                                        const v1::ListBatchesRequest* request,
                                        v1::ListBatchesResponse* response) override;
  grpc::ServerUnaryReactor* GetCaller(grpc::CallbackServerContext* context,
                                      const v1::GetCallerRequest* request,
                                      v1::Caller* response) override;
  grpc::Status ExportAuditFacts(grpc::ServerContext* context,
                                const v1::ExportAuditFactsRequest* request,
                                grpc::ServerWriter<v1::VaultAuditFacts>* writer) override;
  // Admin and support: the service's events (libs/outbox), a stream.
  grpc::Status WatchEvents(grpc::ServerContext* context, const v1::WatchEventsRequest* request,
                           grpc::ServerWriter<v1::Event>* writer) override;

 private:
  // Runs `start(finish)` on the engine under its bound of calls in flight;
  // `finish` answers the call (once, on any thread).
  grpc::ServerUnaryReactor* OnEngine(
      grpc::CallbackServerContext* context, const char* method,
      absl::AnyInvocable<void(std::function<void(grpc::Status)> finish) &&> start);

  VaultService& service_;
  ReportService& reports_;
  const auth::Authorizer& auth_;
  const audit::FactsReader<audit::VaultFacts> audit_facts_;
  auth::MethodGate gate_;  // Each method named once: its permission and lane.
  outbox::EventWatch& events_;
  std::optional<RedeemEngine> engine_;
  std::atomic<int> engine_in_flight_{0};

  // Who calls: recorded with every admin change ("" if unknown).
  std::string PrincipalOf(const grpc::ServerContextBase& context) const;
};

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_API_CODE_VAULT_HANDLER_H_

// gRPC handlers of giftcard.v1.CodeVault: proto ⇄ domain and
// absl::Status ⇄ grpc::Status only; the rules live in domain/.
#ifndef GIFTCARD_SERVICES_CODE_VAULT_API_CODE_VAULT_HANDLER_H_
#define GIFTCARD_SERVICES_CODE_VAULT_API_CODE_VAULT_HANDLER_H_

#include "audit/wire.h"
#include "auth/authorizer.h"
#include "giftcard/v1/code_vault.grpc.pb.h"
#include "services/code_vault/domain/vault_service.h"

namespace giftcard::code_vault {

class CodeVaultHandler final : public v1::CodeVault::Service {
 public:
  CodeVaultHandler(VaultService& service, const auth::Authorizer& auth,
                   audit::FactsReader<audit::VaultFacts> audit_facts)
      : service_(service), auth_(auth), audit_facts_(std::move(audit_facts)) {}

  grpc::Status RedeemCode(grpc::ServerContext* context, const v1::RedeemCodeRequest* request,
                          v1::Redemption* response) override;
  grpc::Status GetCodeStatus(grpc::ServerContext* context, const v1::GetCodeStatusRequest* request,
                             v1::CodeStatus* response) override;
  grpc::Status IssueCodes(grpc::ServerContext* context, const v1::IssueCodesRequest* request,
                          grpc::ServerWriter<v1::IssuedCode>* writer) override;
  grpc::Status ActivateCodes(grpc::ServerContext* context, const v1::ActivateCodesRequest* request,
                             v1::ActivateCodesResponse* response) override;
  grpc::Status CheckCode(grpc::ServerContext* context, const v1::CheckCodeRequest* request,
                         v1::CodeCheck* response) override;
  grpc::Status VoidCodes(grpc::ServerContext* context, const v1::VoidCodesRequest* request,
                         v1::VoidCodesResponse* response) override;
  grpc::Status ListCodes(grpc::ServerContext* context, const v1::ListCodesRequest* request,
                         v1::ListCodesResponse* response) override;
  grpc::Status ListBatches(grpc::ServerContext* context, const v1::ListBatchesRequest* request,
                           v1::ListBatchesResponse* response) override;
  grpc::Status ExportAuditFacts(grpc::ServerContext* context,
                                const v1::ExportAuditFactsRequest* request,
                                grpc::ServerWriter<v1::VaultAuditFacts>* writer) override;

 private:
  VaultService& service_;
  const auth::Authorizer& auth_;
  const audit::FactsReader<audit::VaultFacts> audit_facts_;

  // The caller may call `method` of this service (auth/permissions.h).
  grpc::Status Allow(grpc::ServerContext* context, absl::string_view method) const;
};

}  // namespace giftcard::code_vault

#endif  // GIFTCARD_SERVICES_CODE_VAULT_API_CODE_VAULT_HANDLER_H_

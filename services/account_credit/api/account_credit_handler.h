// gRPC handlers of giftcard.v1.AccountCredit: proto ⇄ domain and
// absl::Status ⇄ grpc::Status only; the rules live in domain/.
#ifndef GIFTCARD_SERVICES_ACCOUNT_CREDIT_API_ACCOUNT_CREDIT_HANDLER_H_
#define GIFTCARD_SERVICES_ACCOUNT_CREDIT_API_ACCOUNT_CREDIT_HANDLER_H_

#include "audit/wire.h"
#include "auth/authorizer.h"
#include "giftcard/v1/account_credit.grpc.pb.h"
#include "services/account_credit/domain/account_service.h"

namespace giftcard::account_credit {

class AccountCreditHandler final : public v1::AccountCredit::Service {
 public:
  AccountCreditHandler(AccountService& service, const auth::Authorizer& auth,
                       audit::FactsReader<audit::LedgerFacts> audit_facts)
      : service_(service), auth_(auth), audit_facts_(std::move(audit_facts)) {}

  grpc::Status UpsertAccount(grpc::ServerContext* context, const v1::UpsertAccountRequest* request,
                             v1::Account* response) override;
  grpc::Status GetAccount(grpc::ServerContext* context, const v1::GetAccountRequest* request,
                          v1::Account* response) override;
  grpc::Status CreditAccount(grpc::ServerContext* context, const v1::CreditAccountRequest* request,
                             v1::Transfer* response) override;
  grpc::Status DebitAccount(grpc::ServerContext* context, const v1::DebitAccountRequest* request,
                            v1::Transfer* response) override;
  grpc::Status ReverseTransfer(grpc::ServerContext* context,
                               const v1::ReverseTransferRequest* request,
                               v1::Transfer* response) override;
  grpc::Status ListLedgerEntries(grpc::ServerContext* context,
                                 const v1::ListLedgerEntriesRequest* request,
                                 v1::ListLedgerEntriesResponse* response) override;
  grpc::Status ExportAuditFacts(grpc::ServerContext* context,
                                const v1::ExportAuditFactsRequest* request,
                                grpc::ServerWriter<v1::LedgerAuditFacts>* writer) override;

 private:
  AccountService& service_;
  const auth::Authorizer& auth_;
  const audit::FactsReader<audit::LedgerFacts> audit_facts_;

  // The caller may call `method` of this service (auth/permissions.h).
  grpc::Status Allow(grpc::ServerContext* context, absl::string_view method) const;
};

}  // namespace giftcard::account_credit

#endif  // GIFTCARD_SERVICES_ACCOUNT_CREDIT_API_ACCOUNT_CREDIT_HANDLER_H_

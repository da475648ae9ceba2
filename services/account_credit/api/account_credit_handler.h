// gRPC handlers of giftcard.v1.AccountCredit: proto ⇄ domain and
// absl::Status ⇄ grpc::Status only; the rules live in domain/.
#ifndef GIFTCARD_SERVICES_ACCOUNT_CREDIT_API_ACCOUNT_CREDIT_HANDLER_H_
#define GIFTCARD_SERVICES_ACCOUNT_CREDIT_API_ACCOUNT_CREDIT_HANDLER_H_

#include <atomic>
#include <functional>
#include <optional>

#include "absl/functional/any_invocable.h"
#include "audit/wire.h"
#include "auth/authorizer.h"
#include "auth/method_gate.h"
#include "giftcard/v1/account_credit.grpc.pb.h"
#include "outbox/watch.h"
#include "server/call_runner.h"
#include "services/account_credit/domain/account_service.h"
#include "services/account_credit/domain/report_service.h"

namespace giftcard::account_credit {

// Unary methods are callback handlers whose work runs on the CallRunner's
// workers; the streaming audit export stays synchronous.
using AccountCreditCallbackBase = v1::AccountCredit::WithCallbackMethod_UpsertAccount<
    v1::AccountCredit::WithCallbackMethod_GetAccount<
        v1::AccountCredit::WithCallbackMethod_CreditAccount<
            v1::AccountCredit::WithCallbackMethod_DebitAccount<
                v1::AccountCredit::WithCallbackMethod_BatchCreditAccounts<
                    v1::AccountCredit::WithCallbackMethod_BatchDebitAccounts<
                        v1::AccountCredit::WithCallbackMethod_ReverseTransfer<
                            v1::AccountCredit::WithCallbackMethod_ClawBackCredit<
                                v1::AccountCredit::WithCallbackMethod_ListLedgerEntries<
                                    v1::AccountCredit::WithCallbackMethod_GetCreditLiability<
                                        v1::AccountCredit::WithCallbackMethod_ListDormantAccounts<
                                            v1::AccountCredit::Service>>>>>>>>>>>;

// The batch postings' hot path on the service's engine (main.cc wires
// it): `run` runs a task on the engine's thread, where `postings` answers.
struct PostingEngine {
  std::function<void(absl::AnyInvocable<void() &&>)> run;
  // Runs a task on the engine's thread after a delay (test hooks' holds).
  std::function<void(absl::Duration, absl::AnyInvocable<void() &&>)> run_after;
  AsyncPostings& postings;
  std::optional<server::TestHooks> test_hooks = std::nullopt;  // --enable_test_hooks
  // Batch calls on the engine at once; past it a call is refused at once
  // with RESOURCE_EXHAUSTED/OVERLOADED and a RetryInfo.
  int max_in_flight = 512;
  absl::Duration retry_after = absl::Milliseconds(200);
};

class AccountCreditHandler final : public AccountCreditCallbackBase {
 public:
  AccountCreditHandler(AccountService& service, ReportService& reports,
                       const auth::Authorizer& auth,
                       audit::FactsReader<audit::LedgerFacts> audit_facts,
                       server::CallRunner& calls, outbox::EventWatch& events)
      : service_(service),
        reports_(reports),
        auth_(auth),
        audit_facts_(std::move(audit_facts)),
        gate_(auth, calls, v1::AccountCredit::service_full_name()),
        events_(events) {}

  // From now on BatchCreditAccounts and BatchDebitAccounts run on the
  // engine instead of the call runner.
  void UseEngine(PostingEngine engine) { engine_.emplace(std::move(engine)); }

  grpc::ServerUnaryReactor* UpsertAccount(grpc::CallbackServerContext* context,
                                          const v1::UpsertAccountRequest* request,
                                          v1::Account* response) override;
  grpc::ServerUnaryReactor* GetAccount(grpc::CallbackServerContext* context,
                                       const v1::GetAccountRequest* request,
                                       v1::Account* response) override;
  grpc::ServerUnaryReactor* CreditAccount(grpc::CallbackServerContext* context,
                                          const v1::CreditAccountRequest* request,
                                          v1::Transfer* response) override;
  grpc::ServerUnaryReactor* DebitAccount(grpc::CallbackServerContext* context,
                                         const v1::DebitAccountRequest* request,
                                         v1::Transfer* response) override;
  grpc::ServerUnaryReactor* BatchCreditAccounts(grpc::CallbackServerContext* context,
                                                const v1::BatchCreditAccountsRequest* request,
                                                v1::BatchCreditAccountsResponse* response) override;
  grpc::ServerUnaryReactor* BatchDebitAccounts(grpc::CallbackServerContext* context,
                                               const v1::BatchDebitAccountsRequest* request,
                                               v1::BatchDebitAccountsResponse* response) override;
  grpc::ServerUnaryReactor* GetCreditLiability(grpc::CallbackServerContext* context,
                                               const v1::GetCreditLiabilityRequest* request,
                                               v1::CreditLiability* response) override;
  grpc::ServerUnaryReactor* ListDormantAccounts(grpc::CallbackServerContext* context,
                                                const v1::ListDormantAccountsRequest* request,
                                                v1::ListDormantAccountsResponse* response) override;
  grpc::ServerUnaryReactor* ClawBackCredit(grpc::CallbackServerContext* context,
                                           const v1::ClawBackCreditRequest* request,
                                           v1::Transfer* response) override;
  grpc::ServerUnaryReactor* ReverseTransfer(grpc::CallbackServerContext* context,
                                            const v1::ReverseTransferRequest* request,
                                            v1::Transfer* response) override;
  grpc::ServerUnaryReactor* ListLedgerEntries(grpc::CallbackServerContext* context,
                                              const v1::ListLedgerEntriesRequest* request,
                                              v1::ListLedgerEntriesResponse* response) override;
  grpc::Status ExportAuditFacts(grpc::ServerContext* context,
                                const v1::ExportAuditFactsRequest* request,
                                grpc::ServerWriter<v1::LedgerAuditFacts>* writer) override;
  // Admin and support: the service's events (libs/outbox), a stream.
  grpc::Status WatchEvents(grpc::ServerContext* context, const v1::WatchEventsRequest* request,
                           grpc::ServerWriter<v1::Event>* writer) override;

 private:
  AccountService& service_;
  ReportService& reports_;
  const auth::Authorizer& auth_;
  const audit::FactsReader<audit::LedgerFacts> audit_facts_;
  auth::MethodGate gate_;  // Each method named once: its permission and lane.
  outbox::EventWatch& events_;
  std::optional<PostingEngine> engine_;
  std::atomic<int> engine_in_flight_{0};

  // A batch call on the engine: `start` begins it there with the engine's
  // postings and the callback that finishes the call.
  using StartBatch = std::function<void(AsyncPostings&, AccountService::BatchDone done)>;
  grpc::ServerUnaryReactor* RunOnEngine(
      grpc::CallbackServerContext* context, absl::string_view method,
      google::protobuf::RepeatedPtrField<v1::TransferResult>* results, StartBatch start);
};

}  // namespace giftcard::account_credit

#endif  // GIFTCARD_SERVICES_ACCOUNT_CREDIT_API_ACCOUNT_CREDIT_HANDLER_H_

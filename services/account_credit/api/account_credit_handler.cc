#include "services/account_credit/api/account_credit_handler.h"

#include "absl/strings/str_cat.h"
#include "deadline/deadline.h"
#include "errors/grpc_status.h"
#include "protoconv/protoconv.h"
#include "server/call_deadline.h"
#include "server/engine_calls.h"
#include "services/account_credit/api/conversions.h"

namespace giftcard::account_credit {

grpc::ServerUnaryReactor* AccountCreditHandler::UpsertAccount(
    grpc::CallbackServerContext* context, const v1::UpsertAccountRequest* request,
    v1::Account* response) {
  return gate_.Run(context, "UpsertAccount", server::Lane::kWrite,
                   [this, context, request, response]() -> grpc::Status {
                     Account a;
                     a.account_id = request->account().account_id();
                     a.country = request->account().country();
                     a.currency_code = request->account().currency_code();
                     a.billing_channel = FromProto(request->account().billing_channel());
                     // No state in the request: the account keeps the one it has.
                     std::optional<bool> closed;
                     if (request->account().state() != v1::ACCOUNT_STATE_UNSPECIFIED) {
                       closed = request->account().state() == v1::ACCOUNT_STATE_CLOSED;
                     }
                     auto result = service_.UpsertAccount(a, closed);
                     if (!result.ok()) return errors::ToGrpcStatus(result.status());
                     ToProto(*result, response);
                     return grpc::Status::OK;
                   });
}

grpc::ServerUnaryReactor* AccountCreditHandler::GetAccount(grpc::CallbackServerContext* context,
                                                           const v1::GetAccountRequest* request,
                                                           v1::Account* response) {
  return gate_.Run(context, "GetAccount", server::Lane::kRead,
                   [this, context, request, response]() -> grpc::Status {
                     auto result = service_.GetAccount(request->account_id());
                     if (!result.ok()) return errors::ToGrpcStatus(result.status());
                     ToProto(*result, response);
                     return grpc::Status::OK;
                   });
}

grpc::ServerUnaryReactor* AccountCreditHandler::CreditAccount(
    grpc::CallbackServerContext* context, const v1::CreditAccountRequest* request,
    v1::Transfer* response) {
  return gate_.Run(context, "CreditAccount", server::Lane::kWrite,
                   [this, context, request, response]() -> grpc::Status {
                     auto result = service_.CreditAccount(CreditCommandOf(*request));
                     if (!result.ok()) return errors::ToGrpcStatus(result.status());
                     ToProto(*result, response);
                     return grpc::Status::OK;
                   });
}

grpc::ServerUnaryReactor* AccountCreditHandler::DebitAccount(grpc::CallbackServerContext* context,
                                                             const v1::DebitAccountRequest* request,
                                                             v1::Transfer* response) {
  return gate_.Run(context, "DebitAccount", server::Lane::kWrite,
                   [this, context, request, response]() -> grpc::Status {
                     auto result = service_.DebitAccount(DebitCommandOf(*request));
                     if (!result.ok()) return errors::ToGrpcStatus(result.status());
                     ToProto(*result, response);
                     return grpc::Status::OK;
                   });
}

grpc::ServerUnaryReactor* AccountCreditHandler::BatchCreditAccounts(
    grpc::CallbackServerContext* context, const v1::BatchCreditAccountsRequest* request,
    v1::BatchCreditAccountsResponse* response) {
  if (engine_) {
    return RunOnEngine(context, "BatchCreditAccounts", response->mutable_results(),
                       [this, request](AsyncPostings& postings, AccountService::BatchDone done) {
                         std::vector<CreditCommand> commands;
                         for (const auto& item : request->requests())
                           commands.push_back(CreditCommandOf(item));
                         service_.StartCreditAccounts(postings, commands, std::move(done));
                       });
  }
  return gate_.Run(context, "BatchCreditAccounts", server::Lane::kWrite,
                   [this, context, request, response]() -> grpc::Status {
                     std::vector<CreditCommand> commands;
                     for (const auto& item : request->requests())
                       commands.push_back(CreditCommandOf(item));
                     return ToProto(service_.CreditAccounts(commands), response->mutable_results());
                   });
}

grpc::ServerUnaryReactor* AccountCreditHandler::BatchDebitAccounts(
    grpc::CallbackServerContext* context, const v1::BatchDebitAccountsRequest* request,
    v1::BatchDebitAccountsResponse* response) {
  if (engine_) {
    return RunOnEngine(context, "BatchDebitAccounts", response->mutable_results(),
                       [this, request](AsyncPostings& postings, AccountService::BatchDone done) {
                         std::vector<DebitCommand> commands;
                         for (const auto& item : request->requests())
                           commands.push_back(DebitCommandOf(item));
                         service_.StartDebitAccounts(postings, commands, std::move(done));
                       });
  }
  return gate_.Run(context, "BatchDebitAccounts", server::Lane::kWrite,
                   [this, context, request, response]() -> grpc::Status {
                     std::vector<DebitCommand> commands;
                     for (const auto& item : request->requests())
                       commands.push_back(DebitCommandOf(item));
                     return ToProto(service_.DebitAccounts(commands), response->mutable_results());
                   });
}

grpc::ServerUnaryReactor* AccountCreditHandler::RunOnEngine(
    grpc::CallbackServerContext* context, absl::string_view method,
    google::protobuf::RepeatedPtrField<v1::TransferResult>* results, StartBatch start) {
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
  const absl::Duration hold_before = engine_->test_hooks
                                         ? engine_->test_hooks->DelayBefore(method, *context)
                                         : absl::ZeroDuration();
  auto finish = [this, reactor, results, method = std::string(method)](
                    absl::StatusOr<std::vector<absl::StatusOr<Transfer>>> answers) {
    grpc::Status status = ToProto(answers, results);
    const absl::Duration hold_after =
        engine_->test_hooks ? engine_->test_hooks->DelayAfter(method) : absl::ZeroDuration();
    auto reply = [this, reactor, status = std::move(status)]() {
      engine_in_flight_.fetch_sub(1);
      reactor->Finish(status);
    };
    if (hold_after > absl::ZeroDuration()) return engine_->run_after(hold_after, std::move(reply));
    reply();
  };
  auto begin = [this, start = std::move(start), finish = std::move(finish)]() mutable {
    start(engine_->postings, std::move(finish));
  };
  if (hold_before > absl::ZeroDuration()) {
    engine_->run_after(hold_before, std::move(begin));
  } else {
    engine_->run(std::move(begin));
  }
  return reactor;
}

grpc::ServerUnaryReactor* AccountCreditHandler::ReverseTransfer(
    grpc::CallbackServerContext* context, const v1::ReverseTransferRequest* request,
    v1::Transfer* response) {
  return gate_.Run(
      context, "ReverseTransfer", server::Lane::kWrite,
      [this, context, request, response]() -> grpc::Status {
        auto result = service_.ReverseTransfer({request->transfer_id(), request->request_id()});
        if (!result.ok()) return errors::ToGrpcStatus(result.status());
        ToProto(*result, response);
        return grpc::Status::OK;
      });
}

grpc::ServerUnaryReactor* AccountCreditHandler::GetCreditLiability(
    grpc::CallbackServerContext* context, const v1::GetCreditLiabilityRequest* /*request*/,
    v1::CreditLiability* response) {
  return gate_.Run(
      context, "GetCreditLiability", server::Lane::kRead,
      [this, context, response]() -> grpc::Status {
        auto report = reports_.CreditLiabilityReport();
        if (!report.ok()) return errors::ToGrpcStatus(report.status());
        for (const CurrencyCredit& c : report->currencies) {
          v1::CreditLiability::Currency* out = response->add_currencies();
          out->set_currency_code(c.currency_code);
          *out->mutable_balance() = protoconv::ToProto({c.currency_code, c.balance_minor});
          out->set_accounts_with_credit(c.accounts_with_credit);
        }
        protoconv::ToTimestamp(report->read_time, response->mutable_read_time());
        return grpc::Status::OK;
      });
}

grpc::ServerUnaryReactor* AccountCreditHandler::ListDormantAccounts(
    grpc::CallbackServerContext* context, const v1::ListDormantAccountsRequest* request,
    v1::ListDormantAccountsResponse* response) {
  return gate_.Run(
      context, "ListDormantAccounts", server::Lane::kRead,
      [this, context, request, response]() -> grpc::Status {
        auto page = reports_.DormantAccounts(
            {request->days(), request->page_size(), request->page_token()});
        if (!page.ok()) return errors::ToGrpcStatus(page.status());
        for (const DormantAccount& a : page->accounts) {
          v1::DormantAccount* out = response->add_accounts();
          out->set_account_id(a.account_id);
          out->set_country(a.country);
          *out->mutable_balance() = protoconv::ToProto({a.currency_code, a.balance_minor});
          protoconv::ToTimestamp(a.last_entry_time, out->mutable_last_entry_time());
        }
        response->set_next_page_token(page->next_page_token);
        return grpc::Status::OK;
      });
}

grpc::ServerUnaryReactor* AccountCreditHandler::ClawBackCredit(
    grpc::CallbackServerContext* context, const v1::ClawBackCreditRequest* request,
    v1::Transfer* response) {
  return gate_.Run(
      context, "ClawBackCredit", server::Lane::kWrite,
      [this, context, request, response]() -> grpc::Status {
        auto result = service_.ClawBackCredit({request->transfer_id(), request->request_id()});
        if (!result.ok()) return errors::ToGrpcStatus(result.status());
        ToProto(*result, response);
        return grpc::Status::OK;
      });
}

grpc::ServerUnaryReactor* AccountCreditHandler::ListLedgerEntries(
    grpc::CallbackServerContext* context, const v1::ListLedgerEntriesRequest* request,
    v1::ListLedgerEntriesResponse* response) {
  return gate_.Run(
      context, "ListLedgerEntries", server::Lane::kRead,
      [this, context, request, response]() -> grpc::Status {
        ListEntriesQuery query{request->account_id(), request->page_size(), request->page_token()};
        if (request->has_start_time()) {
          query.start_time = protoconv::FromTimestamp(request->start_time());
        }
        if (request->has_end_time()) {
          query.end_time = protoconv::FromTimestamp(request->end_time());
        }
        auto page = service_.ListLedgerEntries(query);
        if (!page.ok()) return errors::ToGrpcStatus(page.status());
        for (const LedgerEntry& e : page->entries) {
          v1::LedgerEntry* out = response->add_entries();
          out->set_entry_id(e.entry_id);
          out->set_transfer_id(e.transfer_id);
          out->set_account_id(e.account_id);
          *out->mutable_amount() = protoconv::ToProto(e.amount);
          protoconv::ToTimestamp(e.create_time, out->mutable_create_time());
          out->set_kind(ToProto(e.kind));
          out->set_reference(e.reference);
          if (e.balance_after_minor) {
            *out->mutable_balance_after() =
                protoconv::ToProto(money::Money{e.amount.currency_code, *e.balance_after_minor});
          }
        }
        response->set_next_page_token(page->next_page_token);
        return grpc::Status::OK;
      });
}

grpc::Status AccountCreditHandler::ExportAuditFacts(
    grpc::ServerContext* context, const v1::ExportAuditFactsRequest* request,
    grpc::ServerWriter<v1::LedgerAuditFacts>* writer) {
  if (grpc::Status denied = gate_.Allow(*context, "ExportAuditFacts"); !denied.ok()) return denied;
  const deadline::Scope call_deadline(server::CallDeadline(*context));
  return audit::WriteChunks(audit_facts_, request->chunk_size(), writer);
}

grpc::Status AccountCreditHandler::WatchEvents(grpc::ServerContext* context,
                                               const v1::WatchEventsRequest* request,
                                               grpc::ServerWriter<v1::Event>* writer) {
  if (grpc::Status denied = gate_.Allow(*context, "WatchEvents"); !denied.ok()) return denied;
  return events_.Serve(*context, *request, *writer);
}

}  // namespace giftcard::account_credit

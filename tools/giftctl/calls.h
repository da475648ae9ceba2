// What giftctl's commands share around their calls: the services' stubs,
// request ids, the usual answer (the failure, --json, or the human form),
// paging, and the guard that keeps a PIN from going where a serial goes.
#ifndef GIFTCARD_TOOLS_GIFTCTL_CALLS_H_
#define GIFTCARD_TOOLS_GIFTCTL_CALLS_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "command_line.h"
#include "giftcard/v1/account_credit.grpc.pb.h"
#include "giftcard/v1/billing.grpc.pb.h"
#include "giftcard/v1/code_vault.grpc.pb.h"
#include "session.h"

namespace giftcard::giftctl {

namespace v1 = ::giftcard::v1;

std::unique_ptr<v1::CodeVault::Stub> Vault(const Session& session);
std::unique_ptr<v1::AccountCredit::Stub> Credit(const Session& session);
std::unique_ptr<v1::Billing::Stub> Billing(const Session& session);

// "giftctl-void-1a2b3c4d5e6f7a8b": a new idempotency key.
std::string NewRequestId(absl::string_view prefix);
// --request_id if given, else a new one.
std::string RequestIdOr(const std::string& given, absl::string_view prefix);

// The end of most commands: the failed call's report, the response as
// JSON, or the human form.
int Answer(const Session& session, const grpc::Status& status,
           const google::protobuf::Message& response, const std::function<void()>& print_human);

template <typename Request>
void SetPage(const PageFlags& page, Request& request) {
  request.set_page_size(page.page_size);
  request.set_page_token(page.page_token);
}

// The line that fetches the next page, runnable as it stands.
void PrintMore(const std::string& command, const std::string& next_page_token);

// ACTIVE, not CODE_STATE_ACTIVE.
std::string StateName(v1::CodeState state);

// A PIN typed where a serial belongs: refused before it is sent anywhere.
bool AnyLooksLikeAPin(const std::vector<std::string>& args);
inline constexpr char kLooksLikeAPin[] =
    "that looks like a PIN, not a serial: use --pin_stdin and type it (it stays out of shell "
    "history and logs)";

// A CSV field: quoted when it holds a comma, a quote or a line break.
std::string CsvField(const std::string& s);

}  // namespace giftcard::giftctl

#endif  // GIFTCARD_TOOLS_GIFTCTL_CALLS_H_

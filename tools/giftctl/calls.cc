#include "calls.h"

#include <cstdio>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "codes/codes.h"
#include "output.h"

namespace giftcard::giftctl {

std::unique_ptr<v1::CodeVault::Stub> Vault(const Session& session) {
  return v1::CodeVault::NewStub(session.Channel(Service::kCodeVault));
}

std::unique_ptr<v1::AccountCredit::Stub> Credit(const Session& session) {
  return v1::AccountCredit::NewStub(session.Channel(Service::kAccountCredit));
}

std::unique_ptr<v1::Billing::Stub> Billing(const Session& session) {
  return v1::Billing::NewStub(session.Channel(Service::kBilling));
}

std::string NewRequestId(absl::string_view prefix) {
  std::random_device device;
  return absl::StrFormat("%s-%08x%08x", prefix, device(), device());
}

std::string RequestIdOr(const std::string& given, absl::string_view prefix) {
  return given.empty() ? NewRequestId(prefix) : given;
}

int Answer(const Session& session, const grpc::Status& status,
           const google::protobuf::Message& response, const std::function<void()>& print_human) {
  if (!status.ok()) return session.CallFailed(status);
  if (session.json()) {
    std::printf("%s\n", ToJson(response).c_str());
  } else {
    print_human();
  }
  return kExitOk;
}

void PrintMore(const std::string& command, const std::string& next_page_token) {
  if (!next_page_token.empty()) {
    std::printf("more: giftctl %s --page_token=%s\n", command.c_str(), next_page_token.c_str());
  }
}

std::string StateName(v1::CodeState state) {
  return Short(v1::CodeState_Name(state), "CODE_STATE_");
}

bool AnyLooksLikeAPin(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    if (codes::Normalize(arg).ok()) return true;
  }
  return false;
}

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  return absl::StrCat("\"", absl::StrReplaceAll(s, {{"\"", "\"\""}}), "\"");
}

}  // namespace giftcard::giftctl

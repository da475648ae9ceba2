#include "common/tool_common.h"

#include <cstdio>
#include <cstdlib>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "errors/grpc_status.h"
#include "errors/status.h"

namespace giftcard::tools {

std::string RequireEnv(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    std::fprintf(stderr,
                 "error: %s is not set; start the stack (deploy/local/stack.sh up) and source "
                 "its env file (/tmp/giftcard-stack/env)\n",
                 name);
    std::exit(2);
  }
  return value;
}

std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

std::string ReasonOf(const grpc::Status& status) {
  return errors::ReasonOf(errors::FromGrpcStatus(status));
}

std::string Describe(const grpc::Status& status) {
  if (status.ok()) return "OK";
  const std::string reason = ReasonOf(status);
  return absl::StrCat(CodeName(status.error_code()), reason.empty() ? "" : " ", reason, ": ",
                      status.error_message());
}

}  // namespace giftcard::tools

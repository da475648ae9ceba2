// Helpers shared by giftctl and giftdemo: the local stack's environment, and
// one-line descriptions of gRPC errors with their ErrorInfo reason.
#ifndef GIFTCARD_TOOLS_COMMON_TOOL_COMMON_H_
#define GIFTCARD_TOOLS_COMMON_TOOL_COMMON_H_

#include <grpcpp/grpcpp.h>

#include <string>

namespace giftcard::tools {

// The value of an environment variable (see deploy/local/stack.sh's env
// file); exits with a message naming it when unset.
std::string RequireEnv(const char* name);

// "NOT_FOUND CODE_INVALID: message" for a failed call; "OK" otherwise.
std::string Describe(const grpc::Status& status);

// The ErrorInfo reason of a failed call, or "".
std::string ReasonOf(const grpc::Status& status);

// Canonical name of a status code ("FAILED_PRECONDITION").
std::string CodeName(grpc::StatusCode code);

}  // namespace giftcard::tools

#endif  // GIFTCARD_TOOLS_COMMON_TOOL_COMMON_H_

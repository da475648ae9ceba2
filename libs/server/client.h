// Helpers for calls between services: every outgoing call carries the
// caller's bearer token and a deadline.
#ifndef GIFTCARD_LIBS_SERVER_CLIENT_H_
#define GIFTCARD_LIBS_SERVER_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace giftcard::server {

// A channel to a peer ("host:port"). Plaintext until mTLS lands.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address);

// Sets the deadline and `authorization: Bearer <token>` on a client context.
void PrepareContext(grpc::ClientContext& context, const std::string& token, absl::Duration timeout);

}  // namespace giftcard::server

#endif  // GIFTCARD_LIBS_SERVER_CLIENT_H_

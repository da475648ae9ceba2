// Helpers for calls between services: every outgoing call carries the
// caller's bearer token and a deadline.
#ifndef GIFTCARD_LIBS_SERVER_CLIENT_H_
#define GIFTCARD_LIBS_SERVER_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/time/time.h"

namespace giftcard::server {

// TLS towards a peer: the CA that signed its certificate and, for mutual
// TLS, this caller's certificate and key (PEM files). All empty: plaintext.
struct ClientTls {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

// ClientTls from GIFTCARD_TLS_CA, GIFTCARD_TLS_CERT and GIFTCARD_TLS_KEY (the
// local stack's env file sets them when it runs with TLS).
ClientTls ClientTlsFromEnv();

// A channel to a peer ("host:port"); plaintext when `tls.ca_file` is empty.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const ClientTls& tls = ClientTlsFromEnv());

// Sets the deadline and `authorization: Bearer <token>` on a client context.
void PrepareContext(grpc::ClientContext& context, const std::string& token, absl::Duration timeout);

}  // namespace giftcard::server

#endif  // GIFTCARD_LIBS_SERVER_CLIENT_H_

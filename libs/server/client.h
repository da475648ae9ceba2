// Helpers for calls between services: every outgoing call carries the
// caller's bearer token and a deadline.
#ifndef GIFTCARD_LIBS_SERVER_CLIENT_H_
#define GIFTCARD_LIBS_SERVER_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
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

// Whether a target may stand for several backends (a comma list, or a DNS
// name), so that client-side health checking can route around one.
bool MayNameSeveralBackends(absl::string_view address);

// A channel to a peer ("host:port", "ipv4:a:1,b:2", "dns:///name:port"),
// balanced round-robin over what it names, health-checked when that may be
// several backends; plaintext when `tls.ca_file` is empty.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address,
                                           const ClientTls& tls = ClientTlsFromEnv());

// Sets the deadline and `authorization: Bearer <token>` on a client context.
void PrepareContext(grpc::ClientContext& context, const std::string& token, absl::Duration timeout);

}  // namespace giftcard::server

#endif  // GIFTCARD_LIBS_SERVER_CLIENT_H_

#include "server/client.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "absl/time/clock.h"
#include "config/files.h"
#include "deadline/deadline.h"

namespace giftcard::server {

namespace {

// An unreadable file reads as empty: gRPC then refuses the credentials.
std::string ReadFile(const std::string& path) { return config::ReadFile(path).value_or(""); }

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

}  // namespace

ClientTls ClientTlsFromEnv() {
  return {Env("GIFTCARD_TLS_CA"), Env("GIFTCARD_TLS_CERT"), Env("GIFTCARD_TLS_KEY")};
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, const ClientTls& tls) {
  grpc::ChannelArguments args;
  // Reconnect quickly after a peer restarts.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Client-side balancing over every address the name resolves to (a
  // Kubernetes headless Service: one per replica); one address: no change.
  args.SetLoadBalancingPolicyName("round_robin");
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!tls.ca_file.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile(tls.ca_file);
    if (!tls.cert_file.empty()) {
      ssl.pem_cert_chain = ReadFile(tls.cert_file);
      ssl.pem_private_key = ReadFile(tls.key_file);
    }
    credentials = grpc::SslCredentials(ssl);
  }
  return grpc::CreateCustomChannel(address, credentials, args);
}

void PrepareContext(grpc::ClientContext& context, const std::string& token,
                    absl::Duration timeout) {
  // Never later than the deadline of the call this thread serves, if any:
  // a peer's work for a caller who has given up is wasted.
  const absl::Time deadline = std::min(absl::Now() + timeout, deadline::Current());
  context.set_deadline(absl::ToChronoTime(deadline));
  if (!token.empty()) context.AddMetadata("authorization", "Bearer " + token);
}

}  // namespace giftcard::server

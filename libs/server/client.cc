#include "server/client.h"

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
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

bool MayNameSeveralBackends(absl::string_view address) {
  if (absl::StrContains(address, ',')) return true;  // "ipv4:a:1,b:2"
  if (absl::StartsWith(address, "unix:") || absl::StartsWith(address, "unix-abstract:") ||
      absl::StartsWith(address, "ipv4:") || absl::StartsWith(address, "ipv6:")) {
    return false;
  }
  absl::ConsumePrefix(&address, "dns:///");
  absl::ConsumePrefix(&address, "dns:");
  // host:port, [v6]:port or a bare host: an IP literal is one backend.
  absl::string_view host = address;
  if (absl::StartsWith(host, "[")) return false;
  if (const size_t colon = host.rfind(':'); colon != absl::string_view::npos) {
    host = host.substr(0, colon);
  }
  in_addr v4;
  return inet_pton(AF_INET, std::string(host).c_str(), &v4) != 1;
}

ClientTls ClientTlsFromEnv() {
  return {Env("GIFTCARD_TLS_CA"), Env("GIFTCARD_TLS_CERT"), Env("GIFTCARD_TLS_KEY")};
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, const ClientTls& tls) {
  grpc::ChannelArguments args;
  // Reconnect quickly after a peer restarts.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Client-side balancing over every address the name resolves to (a
  // Kubernetes headless Service: one per replica; a local stack's
  // "ipv4:a,b" list); one address: no change.
  args.SetLoadBalancingPolicyName("round_robin");
  // With health checking, a replica that says NOT_SERVING (draining on
  // SIGTERM, or its database gone) gets no new calls while another serves.
  // Not for a single literal address: there is nowhere else to go, and the
  // server's own answer (DEPENDENCY_UNAVAILABLE, with its reason) says more
  // than the channel's bare UNAVAILABLE would.
  if (MayNameSeveralBackends(address)) {
    args.SetServiceConfigJSON(R"({"healthCheckConfig": {"serviceName": ""}})");
  }
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

#include "auth/authorizer.h"

#include <openssl/sha.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "auth/permissions.h"
#include "config/files.h"
#include "errors/grpc_status.h"
#include "errors/status.h"
#include "log/log.h"

namespace giftcard::auth {
namespace {

constexpr absl::string_view kBearer = "Bearer ";

bool IsKnownPrincipal(absl::string_view p) {
  for (const auto& known : AllPrincipals()) {
    if (known == p) return true;
  }
  return false;
}

}  // namespace

std::string TokenHash(absl::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

absl::StatusOr<std::map<std::string, std::string>> ParseTokensFile(const std::string& text) {
  std::map<std::string, std::string> out;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ', absl::SkipWhitespace());
    if (parts.size() != 2 || !IsKnownPrincipal(parts[0]) || parts[1].size() != 64 ||
        parts[1].find_first_not_of("0123456789abcdef") != absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tokens file line ", line_no, ": want '<principal> <sha256 hex of the token>'"));
    }
    out[std::string(parts[1])] = std::string(parts[0]);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Authorizer>> Authorizer::Create(Options options) {
  // Fail closed and loudly: a service that could authenticate nobody would
  // report SERVING and refuse every call.
  if (options.tokens_file.empty() && !options.allow_unauthenticated && !options.mutual_tls) {
    return absl::FailedPreconditionError(
        "no way to authenticate callers: give --tokens_file (GIFTCARD_TOKENS_FILE), serve mutual "
        "TLS (--tls_client_ca_file), or for local development --allow_unauthenticated");
  }
  std::unique_ptr<Authorizer> a(new Authorizer(std::move(options)));
  if (absl::Status s = a->Reload(); !s.ok()) return s;
  if (a->options_.allow_unauthenticated) {
    log::Warning("authentication_disabled",
                 {{"why",
                   "--allow_unauthenticated: local development only; every caller may "
                   "call every method"}});
  }
  return a;
}

absl::Status Authorizer::Reload() {
  std::map<std::string, std::string> tokens;
  if (!options_.tokens_file.empty()) {
    std::optional<std::string> text = config::ReadFile(options_.tokens_file);
    if (!text) return absl::NotFoundError("cannot read tokens file " + options_.tokens_file);
    auto parsed = ParseTokensFile(*text);
    if (!parsed.ok()) return parsed.status();
    tokens = std::move(*parsed);
  }
  absl::MutexLock lock(&mu_);
  principal_by_hash_ = std::move(tokens);
  principal_by_token_.clear();
  log::Info("tokens_loaded", {{"count", principal_by_hash_.size()}});
  return absl::OkStatus();
}

std::optional<std::string> Authorizer::PrincipalOf(const grpc::ServerContextBase& context) const {
  // mutual TLS: the verified client certificate names the principal, by a
  // DNS subject alternative name or a spiffe://<trust domain>/<principal>
  // URI — never by an e-mail, IP or other URI name, nor the common name.
  if (auto auth = context.auth_context(); auth != nullptr && auth->IsPeerAuthenticated()) {
    for (const auto& san : auth->FindPropertyValues(GRPC_PEER_DNS_PROPERTY_NAME)) {
      const std::string name(san.data(), san.size());
      if (IsKnownPrincipal(name)) return name;
    }
    for (const auto& san : auth->FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME)) {
      absl::string_view uri(san.data(), san.size());
      if (!absl::ConsumePrefix(&uri, "spiffe://")) continue;
      const size_t slash = uri.find('/');
      if (slash == absl::string_view::npos || slash == 0) continue;
      const std::string name(uri.substr(slash + 1));
      if (IsKnownPrincipal(name)) return name;
    }
  }
  const auto& md = context.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return std::nullopt;
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::StartsWith(value, kBearer)) return std::nullopt;
  const absl::string_view token = value.substr(kBearer.size());
  {
    absl::ReaderMutexLock lock(&mu_);
    auto remembered = principal_by_token_.find(token);
    if (remembered != principal_by_token_.end()) return remembered->second;
  }
  const std::string hash = TokenHash(token);
  absl::MutexLock lock(&mu_);
  auto found = principal_by_hash_.find(hash);
  if (found == principal_by_hash_.end()) return std::nullopt;
  if (principal_by_token_.size() >= kMaxRememberedTokens) principal_by_token_.clear();
  principal_by_token_.emplace(std::string(token), found->second);
  return found->second;
}

grpc::Status Authorizer::Authorize(const grpc::ServerContextBase& context,
                                   absl::string_view method) const {
  if (IsOpenMethod(method)) return grpc::Status::OK;
  std::optional<std::string> principal = PrincipalOf(context);
  if (!principal) {
    if (options_.allow_unauthenticated) return grpc::Status::OK;
    return errors::ToGrpcStatus(errors::Error(absl::StatusCode::kUnauthenticated,
                                              errors::reason::kCallerUnknown,
                                              "no valid client certificate or bearer token"));
  }
  if (!Allowed(*principal, method)) {
    const std::vector<std::string> allowed = PrincipalsAllowed(method);
    const std::string who = allowed.empty() ? "nobody" : absl::StrJoin(allowed, ", ");
    return errors::ToGrpcStatus(errors::Error(
        absl::StatusCode::kPermissionDenied, errors::reason::kMethodNotAllowed,
        absl::StrCat(*principal, " may not call ", method, "; it is for: ", who),
        {{"principal", *principal}, {"method", std::string(method)}, {"allowed", who}}));
  }
  return grpc::Status::OK;
}

}  // namespace giftcard::auth

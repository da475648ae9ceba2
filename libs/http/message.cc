// The server's plain values: requests, answers, refusals and listen
// addresses (no Boost here).
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "http/server.h"

namespace giftcard::http {

absl::string_view Request::Header(absl::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) return value;
  }
  return "";
}

absl::string_view Request::RawPath() const {
  absl::string_view t = target;
  return t.substr(0, t.find('?'));
}

absl::string_view Request::RawQuery() const {
  absl::string_view t = target;
  const size_t mark = t.find('?');
  return mark == absl::string_view::npos ? absl::string_view() : t.substr(mark + 1);
}

void Response::SetContent(std::string content, absl::string_view content_type) {
  body = std::move(content);
  SetHeader("Content-Type", content_type);
}

void Response::SetHeader(absl::string_view name, absl::string_view value) {
  for (auto& [key, old] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) {
      old = std::string(value);
      return;
    }
  }
  headers.emplace_back(std::string(name), std::string(value));
}

int StatusOf(Refusal refusal) {
  switch (refusal) {
    case Refusal::kMalformed:
      return 400;
    case Refusal::kHeadersTooLarge:
      return 431;
    case Refusal::kBodyTooLarge:
      return 413;
    case Refusal::kOverloaded:
      return 503;
  }
  return 400;
}

absl::string_view NameOf(Refusal refusal) {
  switch (refusal) {
    case Refusal::kMalformed:
      return "malformed";
    case Refusal::kHeadersTooLarge:
      return "headers_too_large";
    case Refusal::kBodyTooLarge:
      return "body_too_large";
    case Refusal::kOverloaded:
      return "overloaded";
  }
  return "malformed";
}

absl::StatusOr<std::pair<std::string, int>> SplitHostPort(const std::string& listen_address) {
  const size_t colon = listen_address.rfind(':');
  int port = -1;
  if (colon == std::string::npos || !absl::SimpleAtoi(listen_address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("'", listen_address, "' is not host:port"));
  }
  std::string host = listen_address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  return std::make_pair(host, port);
}

}  // namespace giftcard::http

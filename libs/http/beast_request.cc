#include "http/beast_request.h"

namespace giftcard::http {
namespace internal {

std::chrono::steady_clock::duration Chrono(absl::Duration d) {
  return absl::ToChronoNanoseconds(d);
}

void ConfigureParser(Parser& parser, const ServerOptions& options) {
  parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
  parser.body_limit(options.max_body_bytes);
}

std::optional<Refusal> RefusalOf(const beast::error_code& ec) {
  if (ec == bhttp::error::header_limit) return Refusal::kHeadersTooLarge;
  if (ec == bhttp::error::body_limit) return Refusal::kBodyTooLarge;
  if (ec == bhttp::error::end_of_stream || ec == net::error::eof || ec == beast::error::timeout ||
      ec == net::error::operation_aborted || ec == net::error::connection_reset ||
      ec == net::error::bad_descriptor) {
    return std::nullopt;
  }
  if (ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category()) {
    return Refusal::kMalformed;
  }
  return std::nullopt;  // A socket error: nobody to answer.
}

bool TooManyHeaders(const Parser& parser, const ServerOptions& options) {
  size_t count = 0;
  for (auto it = parser.get().begin(); it != parser.get().end(); ++it) {
    if (++count > options.max_header_count) return true;
  }
  return false;
}

Request ToRequest(Parser& parser) {
  bhttp::request<bhttp::string_body>& message = parser.get();
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  for (const auto& field : message) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(message.body());
  return request;
}

}  // namespace internal

using internal::ConfigureParser;
using internal::Parser;
using internal::RefusalOf;
using internal::TooManyHeaders;
using internal::ToRequest;
namespace bhttp = internal::bhttp;
namespace beast = internal::beast;
namespace net = internal::net;

ParseResult ParseRequest(absl::string_view bytes, const ServerOptions& options) {
  ParseResult result;
  Parser parser;
  ConfigureParser(parser, options);
  parser.eager(true);
  size_t used = 0;
  beast::error_code ec;
  bool counted = false;
  while (!parser.is_done()) {
    if (used >= bytes.size()) {  // A body still owed: no more bytes to give.
      result.need_more = true;
      return result;
    }
    const size_t n = parser.put(net::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (!counted && parser.is_header_done()) {
      counted = true;
      if (TooManyHeaders(parser, options)) {
        result.refusal = Refusal::kHeadersTooLarge;
        return result;
      }
    }
    if (ec == bhttp::error::need_more) {
      if (used >= bytes.size() || n == 0) {
        result.need_more = true;
        return result;
      }
      ec = {};
      continue;
    }
    if (ec) {
      result.refusal = RefusalOf(ec).value_or(Refusal::kMalformed);
      return result;
    }
    if (n == 0) {  // No progress and no error: the parser wants more.
      result.need_more = true;
      return result;
    }
  }
  result.ok = true;
  result.consumed = used;
  result.request = ToRequest(parser);
  return result;
}

}  // namespace giftcard::http

// Inside libs/http only: the Boost.Beast types and the request-reading
// helpers that the connection (session.cc) and the fuzz entry
// (ParseRequest, beast_request.cc) share, so both read a request the same
// way, with the same limits.
#ifndef GIFTCARD_LIBS_HTTP_BEAST_REQUEST_H_
#define GIFTCARD_LIBS_HTTP_BEAST_REQUEST_H_

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>

#include "absl/time/time.h"
#include "http/server.h"

namespace giftcard::http::internal {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Parser = bhttp::request_parser<bhttp::string_body>;

std::chrono::steady_clock::duration Chrono(absl::Duration d);

// The parser's header and body limits.
void ConfigureParser(Parser& parser, const ServerOptions& options);

// What a failed read is answered with; nullopt: close without an answer (the
// client left, or took too long and is not reading anyway).
std::optional<Refusal> RefusalOf(const beast::error_code& ec);

bool TooManyHeaders(const Parser& parser, const ServerOptions& options);

// The parsed request (its body moved out of the parser).
Request ToRequest(Parser& parser);

}  // namespace giftcard::http::internal

#endif  // GIFTCARD_LIBS_HTTP_BEAST_REQUEST_H_

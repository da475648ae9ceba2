// The parts of a URL a router decodes itself: one path segment, a query.
#ifndef GIFTCARD_LIBS_HTTP_URL_H_
#define GIFTCARD_LIBS_HTTP_URL_H_

#include <map>
#include <string>

#include "absl/strings/string_view.h"

namespace giftcard::http {

// Percent-decoding of one URL component ('+' stays '+': paths do not use it
// for a space; ParseQuery handles it). An invalid escape is kept as it is.
std::string PercentDecode(absl::string_view text);
// "a=1&b=x+y&a=2" → {a:1, a:2, b:"x y"}, each key and value decoded.
std::multimap<std::string, std::string> ParseQuery(absl::string_view query);

}  // namespace giftcard::http

#endif  // GIFTCARD_LIBS_HTTP_URL_H_

// Field validation shared by the three domains. Each check returns OK or an
// INVALID_ARGUMENT with a BadRequest naming the field and saying why; none
// echoes the offending value (it may be a secret or hostile).
#ifndef GIFTCARD_LIBS_VALIDATE_VALIDATE_H_
#define GIFTCARD_LIBS_VALIDATE_VALIDATE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace giftcard::validate {

// Longest id (account, request, invoice, batch) accepted.
inline constexpr size_t kMaxIdLength = 128;

// 1..kMaxIdLength characters of [A-Za-z0-9._:@-]; no '/' (reserved for
// system accounts such as gift-funding/EUR), no spaces, no control characters.
absl::Status Id(absl::string_view field, absl::string_view value);

// ISO-3166 alpha-2: exactly two upper-case ASCII letters.
absl::Status Country(absl::string_view field, absl::string_view value);

// A card's serial: "GC" and 12 to 19 digits (code_vault::MakeSerial: batch
// number, then index in the batch). The message never echoes the value (a
// PIN typed where the serial belongs must not travel further).
absl::Status Serial(absl::string_view field, absl::string_view value);

// A serial as a person typed or pasted it, in its one spelling: ASCII
// spaces, no-break spaces, hyphens, dots, slashes and underscores dropped,
// letters upper-cased ("gc-000001 000001" → "GC000001000001"), as a PIN's
// spelling is forgiven (codes::Normalize). Only the spelling: Serial still
// decides whether the result is a serial. Every edge that takes a serial
// (code-vault's API, the event filter) calls it, so giftctl, the HTTP API
// and the console forgive the same things.
std::string CanonicalSerial(absl::string_view typed);

// The key a client address is counted under for rate limits: an IPv4
// address in dotted form (an IPv4-mapped IPv6 address is its IPv4
// address), an IPv6 address as its /64 ("2001:db8:1:2::/64"), whatever the
// spelling. Anything else, or empty, is INVALID_ARGUMENT.
absl::StatusOr<std::string> ClientAddressKey(absl::string_view field, absl::string_view value);

// True for the canonical text form of a UUID (8-4-4-4-12 hex digits).
bool IsUuid(absl::string_view value);

// Optional W3C trace context: empty, or a `traceparent` value
// ("00-<32 hex>-<16 hex>-<2 hex>", trace/trace_context.h).
absl::Status Traceparent(absl::string_view field, absl::string_view value);

// Optional free text: at most `max_length` bytes of valid UTF-8, no control characters.
absl::Status Text(absl::string_view field, absl::string_view value, size_t max_length);

}  // namespace giftcard::validate

#endif  // GIFTCARD_LIBS_VALIDATE_VALIDATE_H_

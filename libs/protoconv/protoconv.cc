#include "protoconv/protoconv.h"

namespace giftcard::protoconv {

money::Money FromProto(const v1::Money& m) { return {m.currency_code(), m.amount_minor()}; }

v1::Money ToProto(const money::Money& m) {
  v1::Money out;
  out.set_currency_code(m.currency_code);
  out.set_amount_minor(m.amount_minor);
  return out;
}

void ToTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t micros = absl::ToUnixMicros(t);
  int64_t seconds = micros / 1000000;
  int64_t rem = micros % 1000000;
  if (rem < 0) {
    rem += 1000000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(rem * 1000));
}

absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace giftcard::protoconv

// Conversions of the types every API shares, so handlers stay one-liners.
#ifndef GIFTCARD_LIBS_PROTOCONV_PROTOCONV_H_
#define GIFTCARD_LIBS_PROTOCONV_PROTOCONV_H_

#include "absl/time/time.h"
#include "giftcard/v1/common.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "money/money.h"

namespace giftcard::protoconv {

money::Money FromProto(const v1::Money& m);
v1::Money ToProto(const money::Money& m);

void ToTimestamp(absl::Time t, google::protobuf::Timestamp* out);
absl::Time FromTimestamp(const google::protobuf::Timestamp& ts);

}  // namespace giftcard::protoconv

#endif  // GIFTCARD_LIBS_PROTOCONV_PROTOCONV_H_

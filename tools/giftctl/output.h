// How giftctl prints: key/value blocks and tables for people, one JSON
// document for scripts (--json: protobuf's JSON mapping with the proto field
// names; 64-bit integers such as amount_minor are JSON strings there, as the
// mapping says, so that no JSON parser rounds them).
#ifndef GIFTCARD_TOOLS_GIFTCTL_OUTPUT_H_
#define GIFTCARD_TOOLS_GIFTCTL_OUTPUT_H_

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "giftcard/v1/common.pb.h"

namespace giftcard::giftctl {

// One JSON document; text that is not UTF-8 is replaced, never passed on.
std::string DumpJson(const nlohmann::ordered_json& json);

// A message as JSON with the proto field names, every scalar field shown.
std::string ToJson(const google::protobuf::Message& message);

// "25.00 EUR"; "-" when unset.
std::string Money(const v1::Money& money);
// RFC 3339 in UTC; "-" when unset.
std::string Time(const google::protobuf::Timestamp& time);
// `s`, or "-" when empty.
std::string Or(const std::string& s);
// An enum value's name without its enum's prefix (ACTIVE, not CODE_STATE_ACTIVE).
std::string Short(const std::string& name, absl::string_view prefix);
// "1 code", "2 codes".
std::string Count(int64_t n, absl::string_view singular, absl::string_view plural);

// "key   value" lines for one object.
void PrintFields(const std::vector<std::pair<std::string, std::string>>& fields);
// A table with a header row; columns as wide as their widest cell.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);

}  // namespace giftcard::giftctl

#endif  // GIFTCARD_TOOLS_GIFTCTL_OUTPUT_H_

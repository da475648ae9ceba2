// libFuzzer target: what an HTTP caller can send the gateway. The input is
// "METHOD PATH?QUERY\nBODY"; whatever it is, routing and BuildRequest must
// not crash, and a request they accept must be a message that serializes
// and, printed as the gateway prints it, parses back to the same message.
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "http/url.h"
#include "services/gateway/transcoding/route_table.h"
#include "services/gateway/transcoding/transcoder.h"

namespace {

const giftcard::gateway::RouteTable& Routes() {
  static const auto* routes = [] {
    auto table = giftcard::gateway::RouteTable::FromServices(giftcard::gateway::LinkedApiServices());
    if (!table.ok()) std::abort();
    return new giftcard::gateway::RouteTable(*std::move(table));
  }();
  return *routes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t line_end = input.find('\n');
  const std::string line = input.substr(0, line_end);
  const std::string body = line_end == std::string::npos ? "" : input.substr(line_end + 1);
  const size_t space = line.find(' ');
  if (space == std::string::npos) return 0;
  const std::string method = line.substr(0, space);
  std::string path = line.substr(space + 1);
  std::multimap<std::string, std::string> query;
  if (const size_t mark = path.find('?'); mark != std::string::npos) {
    query = giftcard::http::ParseQuery(path.substr(mark + 1));
    path = path.substr(0, mark);
  }
  giftcard::gateway::PathTemplate::Bindings bindings;
  std::vector<std::string> others;
  const giftcard::gateway::Route* route = Routes().Find(method, path, &bindings, &others);
  if (route == nullptr) return 0;
  std::unique_ptr<google::protobuf::Message> request(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(route->method->input_type())
          ->New());
  std::string field;
  if (!giftcard::gateway::BuildRequest(*route, bindings, query, body, request.get(), &field).ok()) {
    return 0;
  }
  std::string wire;
  if (!request->SerializeToString(&wire)) std::abort();
  std::unique_ptr<google::protobuf::Message> again(request->New());
  if (!google::protobuf::util::JsonStringToMessage(giftcard::gateway::MessageToJson(*request),
                                                   again.get())
           .ok() ||
      !google::protobuf::util::MessageDifferencer::Equals(*request, *again)) {
    std::abort();
  }
  return 0;
}

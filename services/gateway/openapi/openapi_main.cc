// giftcard-openapi: writes the OpenAPI document of the HTTP/JSON API, made
// at build time from the API's descriptor set (protoc --include_imports
// --include_source_info), so the doc comments become descriptions.
//   giftcard-openapi DESCRIPTOR_SET OUT.json
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "services/gateway/openapi/openapi.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: giftcard-openapi DESCRIPTOR_SET OUT.json\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  google::protobuf::FileDescriptorSet set;
  if (!in || !set.ParseFromString(bytes.str())) {
    std::cerr << "cannot read a descriptor set from " << argv[1] << "\n";
    return 1;
  }
  google::protobuf::DescriptorPool pool;
  std::vector<const google::protobuf::ServiceDescriptor*> services;
  for (const google::protobuf::FileDescriptorProto& file : set.file()) {
    const google::protobuf::FileDescriptor* built = pool.BuildFile(file);
    if (built == nullptr) {
      std::cerr << "cannot build " << file.name() << "\n";
      return 1;
    }
    for (int i = 0; i < built->service_count(); ++i) services.push_back(built->service(i));
  }
  absl::StatusOr<giftcard::gateway::RouteTable> routes =
      giftcard::gateway::RouteTable::FromServices(services);
  if (!routes.ok()) {
    std::cerr << routes.status() << "\n";
    return 1;
  }
  absl::StatusOr<std::string> doc = giftcard::gateway::OpenApiDocument(*routes);
  if (!doc.ok()) {
    std::cerr << doc.status() << "\n";
    return 1;
  }
  std::ofstream out(argv[2], std::ios::binary | std::ios::trunc);
  out << *doc;
  out.close();
  if (!out) {
    std::cerr << "cannot write " << argv[2] << "\n";
    return 1;
  }
  std::cout << "giftcard-openapi: " << routes->routes().size() << " routes\n";
  return 0;
}

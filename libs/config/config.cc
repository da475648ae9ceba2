#include "config/config.h"

#include <cstdio>
#include <cstdlib>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace giftcard::config {

std::string EnvNameOf(absl::string_view flag_name) {
  return absl::StrCat("GIFTCARD_", absl::AsciiStrToUpper(flag_name));
}

void ParseFlags(int argc, char** argv, absl::string_view usage) {
  absl::SetProgramUsageMessage(usage);
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    const char* value = std::getenv(EnvNameOf(name).c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      std::fprintf(stderr, "bad value in %s: %s\n", EnvNameOf(name).c_str(), error.c_str());
      std::exit(2);
    }
  }
  absl::ParseCommandLine(argc, argv);
}

}  // namespace giftcard::config

#include "config/config.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"

namespace giftcard::config {

std::string EnvNameOf(absl::string_view flag_name) {
  return absl::StrCat("GIFTCARD_", absl::AsciiStrToUpper(flag_name));
}

// The group a flag is listed under in --help: the service whose main.cc
// defines it ("code_vault"), or the library ("server") for shared ones; flags
// defined outside this repository (absl's own) have none.
std::optional<std::string> GroupOf(absl::string_view file) {
  for (absl::string_view root : {"services/", "libs/"}) {
    const size_t at = file.rfind(root);
    if (at == absl::string_view::npos) continue;
    absl::string_view rest = file.substr(at + root.size());
    return std::string(rest.substr(0, rest.find('/')));
  }
  return std::nullopt;
}

void PrintHelp(absl::string_view program, absl::string_view usage) {
  std::map<std::string, std::vector<absl::CommandLineFlag*>> groups;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (auto group = GroupOf(flag->Filename())) groups[*group].push_back(flag);
  }
  std::printf("%s\n\nusage: %s [--flag=value ...]\n", std::string(usage).c_str(),
              std::string(program).c_str());
  std::printf(
      "Each flag may also be set by the environment variable shown with it; the command line "
      "wins.\n");
  // The service's own flags first, then the shared ones.
  std::vector<std::string> order;
  for (const auto& [group, flags] : groups) {
    if (group != "server") order.push_back(group);
  }
  if (groups.count("server")) order.push_back("server");
  for (const std::string& group : order) {
    std::vector<absl::CommandLineFlag*>& flags = groups[group];
    std::sort(flags.begin(), flags.end(), [](auto* a, auto* b) { return a->Name() < b->Name(); });
    std::printf("\n%s:\n", group == "server" ? "every service"
                                             : absl::StrReplaceAll(group, {{"_", "-"}}).c_str());
    for (const absl::CommandLineFlag* flag : flags) {
      const std::string def = flag->DefaultValue();
      std::printf("  --%s (%s)\n      %s%s\n", std::string(flag->Name()).c_str(),
                  EnvNameOf(flag->Name()).c_str(), flag->Help().c_str(),
                  def.empty() ? "" : absl::StrCat(" [default: ", def, "]").c_str());
    }
  }
}

void ParseFlags(int argc, char** argv, absl::string_view usage) {
  // absl's --help lists only flags of a file named like the program, and
  // --helpfull its internals with this machine's paths: ours lists the
  // service's flags, grouped, with their environment names.
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (arg == "--help" || arg == "-h" || arg == "--helpfull" || arg == "--helpshort" ||
        arg == "-help") {
      absl::string_view program = argv[0];
      program = program.substr(program.rfind('/') + 1);
      PrintHelp(program, usage);
      std::exit(0);
    }
  }
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

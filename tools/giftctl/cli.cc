#include "cli.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"

namespace giftcard::giftctl {

std::string Invocation::Get(const std::string& flag, const std::string& fallback) const {
  auto it = flags_.find(flag);
  return it == flags_.end() ? fallback : it->second;
}

void Cli::PrintOverview(std::FILE* out) const {
  std::fprintf(out, "giftctl: the admin and support CLI of the gift-card suite (gRPC only)\n\n");
  std::fprintf(out, "usage: giftctl COMMAND [flags] [args]\n\ncommands:\n");
  for (const CommandSpec& c : commands_) {
    const std::string usage = c.name + (c.args.empty() ? "" : " " + c.args);
    std::fprintf(out, "  %-34s %s\n", usage.c_str(), c.summary.c_str());
  }
  std::fprintf(out, "\nglobal flags:\n");
  for (const FlagSpec& f : global_flags_) {
    std::fprintf(out, "  --%-32s %s\n", (f.name + (f.boolean ? "" : "=...")).c_str(),
                 f.help.c_str());
  }
  std::fprintf(out, "\n'giftctl COMMAND --help' tells more of one command.\n");
}

void Cli::PrintCommandHelp(const CommandSpec& c, std::FILE* out) const {
  std::fprintf(out, "usage: giftctl %s [flags]%s%s\n\n%s\n", c.name.c_str(),
               c.args.empty() ? "" : " ", c.args.c_str(), c.summary.c_str());
  if (!c.details.empty()) std::fprintf(out, "\n%s\n", c.details.c_str());
  if (!c.flags.empty()) {
    std::fprintf(out, "\nflags:\n");
    for (const FlagSpec& f : c.flags) {
      std::fprintf(out, "  --%-32s %s\n", (f.name + (f.boolean ? "" : "=...")).c_str(),
                   f.help.c_str());
    }
  }
  std::fprintf(out, "\nglobal flags: ");
  for (size_t i = 0; i < global_flags_.size(); ++i) {
    std::fprintf(out, "%s--%s", i == 0 ? "" : ", ", global_flags_[i].name.c_str());
  }
  std::fprintf(out, " (see 'giftctl --help')\n");
}

int Cli::Main(int argc, char** argv) const {
  std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty() || words[0] == "--help" || words[0] == "-h" || words[0] == "help") {
    PrintOverview(words.empty() ? stderr : stdout);
    return words.empty() ? kExitUsage : kExitOk;
  }
  // The longest command name that the leading words spell.
  const CommandSpec* command = nullptr;
  size_t used = 0;
  for (const CommandSpec& c : commands_) {
    std::vector<std::string> parts = absl::StrSplit(c.name, ' ');
    if (parts.size() > words.size() || parts.size() <= used) continue;
    if (std::equal(parts.begin(), parts.end(), words.begin())) {
      command = &c;
      used = parts.size();
    }
  }
  if (command == nullptr) {
    std::fprintf(stderr, "giftctl: unknown command '%s' (try 'giftctl --help')\n",
                 words[0].c_str());
    return kExitUsage;
  }

  Invocation invocation;
  bool flags_done = false;
  for (size_t i = used; i < words.size(); ++i) {
    const std::string& word = words[i];
    if (flags_done || !absl::StartsWith(word, "-") || word == "-") {
      invocation.args_.push_back(word);
      continue;
    }
    if (word == "--") {
      flags_done = true;
      continue;
    }
    if (word == "--help" || word == "-h") {
      PrintCommandHelp(*command, stdout);
      return kExitOk;
    }
    std::string name = word.substr(word[1] == '-' ? 2 : 1);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const FlagSpec* spec = nullptr;
    for (const auto* list : {&command->flags, &global_flags_}) {
      for (const FlagSpec& f : *list) {
        if (f.name == name) spec = &f;
      }
    }
    if (spec == nullptr) {
      std::fprintf(stderr, "giftctl %s: unknown flag --%s (try 'giftctl %s --help')\n",
                   command->name.c_str(), name.c_str(), command->name.c_str());
      return kExitUsage;
    }
    if (spec->boolean) {
      if (has_value && value != "true" && value != "false") {
        std::fprintf(stderr, "giftctl %s: --%s takes no value\n", command->name.c_str(),
                     name.c_str());
        return kExitUsage;
      }
      if (value == "false") continue;
      invocation.flags_[name] = "true";
      continue;
    }
    if (!has_value) {
      if (i + 1 >= words.size()) {
        std::fprintf(stderr, "giftctl %s: --%s needs a value\n", command->name.c_str(),
                     name.c_str());
        return kExitUsage;
      }
      value = words[++i];
    }
    invocation.flags_[name] = value;
  }
  return command->run(invocation);
}

}  // namespace giftcard::giftctl

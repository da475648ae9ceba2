// What the harness's files share: small file and shell helpers.
#ifndef GIFTCARD_TESTS_SUPPORT_HARNESS_INTERNAL_H_
#define GIFTCARD_TESTS_SUPPORT_HARNESS_INTERNAL_H_

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "config/files.h"

namespace giftcard::testing::internal {

// Missing files (a port file not written yet) read as empty.
inline std::string ReadFile(const std::string& path) { return config::ReadFile(path).value_or(""); }

inline std::map<std::string, std::string> ParseEnvFile(const std::string& path) {
  std::map<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(ReadFile(path), '\n', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits('=', 1));
    out[kv.first] = kv.second;
  }
  return out;
}

inline std::string LogDir() {
  const std::string dir = absl::StrCat(GIFTCARD_BUILD_DIR, "/test-logs");
  mkdir(dir.c_str(), 0755);
  return dir;
}

inline std::string RunShell(const std::string& script) {
  FILE* p = popen(script.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[256];
  while (fgets(buf, sizeof(buf), p) != nullptr) out += buf;
  const int rc = pclose(p);
  if (rc != 0) ADD_FAILURE() << "shell failed (" << rc << "): " << script << "\n" << out;
  return std::string(absl::StripAsciiWhitespace(out));
}

}  // namespace giftcard::testing::internal

#endif  // GIFTCARD_TESTS_SUPPORT_HARNESS_INTERNAL_H_

// Reading the files a process is configured with (tokens, certificates, key
// files) whole.
#ifndef GIFTCARD_LIBS_CONFIG_FILES_H_
#define GIFTCARD_LIBS_CONFIG_FILES_H_

#include <optional>
#include <string>

namespace giftcard::config {

// The file's bytes, or nullopt when it cannot be opened.
std::optional<std::string> ReadFile(const std::string& path);

}  // namespace giftcard::config

#endif  // GIFTCARD_LIBS_CONFIG_FILES_H_

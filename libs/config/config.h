// Flags with environment overrides: every flag --some_name may also be set by
// the variable GIFTCARD_SOME_NAME. Precedence: command line, then environment,
// then the flag's default. Secrets (the pepper, tokens) belong in the
// environment or a file, never on a command line that `ps` shows.
#ifndef GIFTCARD_LIBS_CONFIG_CONFIG_H_
#define GIFTCARD_LIBS_CONFIG_CONFIG_H_

#include <string>

#include "absl/strings/string_view.h"

namespace giftcard::config {

// "some_name" → "GIFTCARD_SOME_NAME".
std::string EnvNameOf(absl::string_view flag_name);

// Applies environment overrides, then parses argv (which wins). Exits with a
// message on an unparsable value, like absl::ParseCommandLine does.
void ParseFlags(int argc, char** argv, absl::string_view usage);

}  // namespace giftcard::config

#endif  // GIFTCARD_LIBS_CONFIG_CONFIG_H_

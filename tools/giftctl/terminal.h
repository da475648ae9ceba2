// Reading a secret (a PIN) so that it stays out of shell history, the process
// list and the screen.
#ifndef GIFTCARD_TOOLS_GIFTCTL_TERMINAL_H_
#define GIFTCARD_TOOLS_GIFTCTL_TERMINAL_H_

#include <optional>
#include <string>

namespace giftcard::giftctl {

// One line from stdin, trimmed. On a terminal it prompts `prompt` on stderr
// and turns echo off while the line is typed; from a pipe or a file it just
// reads. nullopt at end of input or on an empty line.
std::optional<std::string> ReadSecretLine(const char* prompt);

}  // namespace giftcard::giftctl

#endif  // GIFTCARD_TOOLS_GIFTCTL_TERMINAL_H_

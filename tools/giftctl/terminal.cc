#include "terminal.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "absl/strings/ascii.h"

namespace giftcard::giftctl {

std::optional<std::string> ReadSecretLine(const char* prompt) {
  const bool terminal = isatty(STDIN_FILENO) == 1;
  termios saved{};
  bool echo_off = false;
  if (terminal) {
    // Echo off first, then the prompt: what is typed once the prompt shows
    // is neither echoed nor discarded by the flush of typed-ahead input.
    if (tcgetattr(STDIN_FILENO, &saved) == 0) {
      termios quiet = saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    std::fprintf(stderr, "%s", prompt);
    std::fflush(stderr);
  }
  std::string line;
  const bool read = static_cast<bool>(std::getline(std::cin, line));
  if (echo_off) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
  if (terminal) std::fprintf(stderr, "\n");  // The newline the user typed was not echoed.
  const std::string trimmed(absl::StripAsciiWhitespace(line));
  if (!read || trimmed.empty()) return std::nullopt;
  return trimmed;
}

}  // namespace giftcard::giftctl

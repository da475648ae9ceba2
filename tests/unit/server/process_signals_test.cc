// What a service process does with the signals a fault sends it: a broken
// pipe is an error to handle, a crash leaves its stack in the log.
#include <errno.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "server/bootstrap.h"

namespace giftcard::server {
namespace {

// Writes with write(2), as hiredis does, to a socket whose peer has closed.
// Exits 0 when the write reported EPIPE; without IgnoreBrokenPipes SIGPIPE
// kills the process first.
[[noreturn]] void WriteToAClosedPeer() {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) std::exit(2);
  close(pair[1]);
  const char byte = 'x';
  const ssize_t written = write(pair[0], &byte, 1);
  std::exit(written < 0 && errno == EPIPE ? 0 : 3);
}

TEST(ProcessSignalsDeathTest, AWriteToAGonePeerIsAnErrorNotADeath) {
  EXPECT_EXIT(
      {
        IgnoreBrokenPipes();
        WriteToAClosedPeer();
      },
      ::testing::ExitedWithCode(0), "");
}

TEST(ProcessSignalsDeathTest, WithoutItABrokenPipeKillsSilently) {
  // The default disposition (set here: a runner that ignores SIGPIPE passes
  // that on to its children): the same write, a silent death.
  EXPECT_EXIT(
      {
        signal(SIGPIPE, SIG_DFL);
        WriteToAClosedPeer();
      },
      ::testing::KilledBySignal(SIGPIPE), "");
}

// A write through a null pointer the compiler cannot see through.
__attribute__((noinline)) void WriteThroughNull(int* volatile* where) { **where = 1; }

TEST(ProcessSignalsDeathTest, ACrashWritesItsSignalAndStackToStderr) {
  int* volatile null = nullptr;
  EXPECT_DEATH(
      {
        ReportCrashes();
        WriteThroughNull(&null);
      },
      "SIGSEGV received(.*\n)*.*@ .*WriteThroughNull");
}

}  // namespace
}  // namespace giftcard::server

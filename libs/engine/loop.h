// engine::Loop: one thread running one libevent event_base. A service's hot
// path runs on it from the moment a gRPC handler posts a call until the
// answer: it owns the non-blocking connections (Postgres in pipeline mode,
// Redis's async context), so nothing on it takes a lock or sleeps on I/O,
// and batches form where a stage's connection is busy.
//
// Other threads reach the loop only through Post: a queue under a mutex
// held for a push, and one eventfd write to wake the loop when it may be
// waiting (not one per post: a loop that is running drains the queue
// before it waits again).
#ifndef GIFTCARD_LIBS_ENGINE_LOOP_H_
#define GIFTCARD_LIBS_ENGINE_LOOP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

struct event_base;
struct event;

namespace giftcard::engine {

class Loop {
 public:
  using Task = absl::AnyInvocable<void() &&>;

  explicit Loop(std::string name);
  // Stops the thread if it runs; tasks not run yet are dropped.
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Starts the loop's thread.
  void Start();
  // Runs what is posted until now, then ends the thread and joins it. Not
  // from the loop's own thread.
  void Stop();

  // Runs `task` on the loop's thread, after the tasks posted before it.
  // Any thread, the loop's own included.
  void Post(Task task);

  // Runs `task` on the loop after `delay` (timers, retries, reconnects).
  // The loop's thread only.
  void RunAfter(absl::Duration delay, Task task);

  // Runs `task` once the callbacks of this turn of the loop have run, with
  // no system call: how a stage lets a turn's calls gather into one batch,
  // and how a callback avoids re-entering the code that called it. The
  // loop's thread only.
  void RunSoon(Task task);

  bool InLoopThread() const { return std::this_thread::get_id() == thread_id_.load(); }
  event_base* base() const { return base_; }

  // Wake-ups through the eventfd, and tasks run, since the start (metrics:
  // tasks per wake-up is how much a wake-up buys).
  int64_t wakeups() const { return wakeups_.load(std::memory_order_relaxed); }
  int64_t tasks_run() const { return tasks_run_.load(std::memory_order_relaxed); }

 private:
  static void OnWake(int fd, short what, void* self);
  static void OnSoon(int fd, short what, void* self);
  void Drain();

  const std::string name_;
  event_base* base_;
  int wake_fd_;
  event* wake_event_;
  event* soon_event_;
  std::vector<Task> soon_;  // The loop's thread only.
  std::thread thread_;
  std::atomic<std::thread::id> thread_id_{};
  absl::Mutex mu_;
  std::vector<Task> queue_ ABSL_GUARDED_BY(mu_);
  // Set by the post that wrote the eventfd, cleared by the drain that reads
  // it: later posts see it and skip the write.
  bool wake_pending_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<int64_t> wakeups_{0};
  std::atomic<int64_t> tasks_run_{0};
};

// Watches one descriptor on a loop: readable always, writable while asked
// (SetWantWrite). Made, changed and destroyed on the loop's thread.
class FdWatch {
 public:
  using Callback = std::function<void(bool readable, bool writable)>;
  FdWatch(Loop& loop, int fd, Callback callback);
  ~FdWatch();
  FdWatch(const FdWatch&) = delete;
  FdWatch& operator=(const FdWatch&) = delete;

  void SetWantWrite(bool want);

 private:
  static void OnEvent(int fd, short what, void* self);
  Loop& loop_;
  const int fd_;
  Callback callback_;
  event* event_ = nullptr;
  bool want_write_ = false;
};

}  // namespace giftcard::engine

#endif  // GIFTCARD_LIBS_ENGINE_LOOP_H_

#include "engine/loop.h"

#include <event2/event.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>

namespace giftcard::engine {
namespace {

timeval TimevalOf(absl::Duration d) {
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  return absl::ToTimeval(d);
}

// A RunAfter task: owns itself until it fires (or the loop ends).
struct Timer {
  event* ev = nullptr;
  Loop::Task task;
  static void Fire(int, short, void* arg) {
    auto* timer = static_cast<Timer*>(arg);
    Loop::Task task = std::move(timer->task);
    event_free(timer->ev);
    delete timer;
    std::move(task)();
  }
};

}  // namespace

Loop::Loop(std::string name) : name_(std::move(name)) {
  base_ = event_base_new();
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (base_ == nullptr || wake_fd_ < 0) std::abort();  // Out of descriptors at start-up.
  wake_event_ = event_new(base_, wake_fd_, EV_READ | EV_PERSIST, &Loop::OnWake, this);
  event_add(wake_event_, nullptr);
  soon_event_ = event_new(base_, -1, 0, &Loop::OnSoon, this);
}

Loop::~Loop() {
  if (thread_.joinable()) Stop();
  event_free(wake_event_);
  event_free(soon_event_);
  // Timers still pending own their events; freeing the base frees those
  // events' memory but not the tasks, which are dropped with the process.
  event_base_free(base_);
  close(wake_fd_);
}

void Loop::Start() {
  thread_ = std::thread([this] {
    thread_id_.store(std::this_thread::get_id());
    // Linux keeps 15 characters of a thread's name; a longer one is refused.
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
    event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);
  });
}

void Loop::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (!wake_pending_) {
      wake_pending_ = true;
      const uint64_t one = 1;
      (void)!write(wake_fd_, &one, sizeof(one));
    }
  }
  if (thread_.joinable()) thread_.join();
}

void Loop::Post(Task task) {
  absl::MutexLock lock(&mu_);
  queue_.push_back(std::move(task));
  if (wake_pending_) return;
  wake_pending_ = true;
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
}

void Loop::RunAfter(absl::Duration delay, Task task) {
  auto* timer = new Timer{nullptr, std::move(task)};
  timer->ev = evtimer_new(base_, &Timer::Fire, timer);
  const timeval tv = TimevalOf(delay);
  evtimer_add(timer->ev, &tv);
}

void Loop::RunSoon(Task task) {
  soon_.push_back(std::move(task));
  if (soon_.size() == 1) event_active(soon_event_, EV_TIMEOUT, 1);
}

void Loop::OnSoon(int, short, void* self) {
  auto* loop = static_cast<Loop*>(self);
  std::vector<Task> tasks;
  tasks.swap(loop->soon_);  // Tasks these post run in a later turn.
  for (Task& task : tasks) std::move(task)();
  loop->tasks_run_.fetch_add(static_cast<int64_t>(tasks.size()), std::memory_order_relaxed);
}

void Loop::OnWake(int fd, short, void* self) {
  uint64_t n;
  (void)!read(fd, &n, sizeof(n));
  static_cast<Loop*>(self)->Drain();
}

void Loop::Drain() {
  wakeups_.fetch_add(1, std::memory_order_relaxed);
  std::vector<Task> tasks;
  bool stopping;
  {
    absl::MutexLock lock(&mu_);
    tasks.swap(queue_);
    wake_pending_ = false;
    stopping = stopping_;
  }
  for (Task& task : tasks) std::move(task)();
  tasks_run_.fetch_add(static_cast<int64_t>(tasks.size()), std::memory_order_relaxed);
  if (stopping) event_base_loopbreak(base_);
}

FdWatch::FdWatch(Loop& loop, int fd, Callback callback)
    : loop_(loop), fd_(fd), callback_(std::move(callback)) {
  event_ = event_new(loop_.base(), fd_, EV_READ | EV_PERSIST, &FdWatch::OnEvent, this);
  event_add(event_, nullptr);
}

FdWatch::~FdWatch() { event_free(event_); }

void FdWatch::SetWantWrite(bool want) {
  if (want == want_write_) return;
  want_write_ = want;
  event_del(event_);
  event_assign(event_, loop_.base(), fd_, EV_READ | EV_PERSIST | (want ? EV_WRITE : 0),
               &FdWatch::OnEvent, this);
  event_add(event_, nullptr);
}

void FdWatch::OnEvent(int, short what, void* self) {
  static_cast<FdWatch*>(self)->callback_((what & EV_READ) != 0, (what & EV_WRITE) != 0);
}

}  // namespace giftcard::engine

#include "server/periodic.h"

#include "log/log.h"

namespace giftcard::server {

PeriodicTask::PeriodicTask(std::string name, absl::Duration interval, std::function<void()> pass)
    : thread_([this, name = std::move(name), interval, pass = std::move(pass)] {
        log::Info("periodic_task_started", {{"task", name}});
        while (!stop_.WaitForNotificationWithTimeout(interval)) pass();
      }) {}

PeriodicTask::~PeriodicTask() {
  stop_.Notify();
  thread_.join();
}

}  // namespace giftcard::server

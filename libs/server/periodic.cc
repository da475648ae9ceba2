#include "server/periodic.h"

#include "log/log.h"
#include "metrics/registry.h"

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

std::function<void()> CountedRecoveryPass(std::function<int()> pass) {
  metrics::Counter& settled = metrics::Global().AddCounter(
      "giftcard_saga_recoveries_total",
      "Sagas (pending redemptions, credit applications, reversals) a recovery worker settled.", {});
  return [&settled, pass = std::move(pass)] { settled.Increment({}, pass()); };
}

}  // namespace giftcard::server

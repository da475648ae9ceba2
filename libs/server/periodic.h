// A background task run every `interval` on its own thread until destroyed
// (recovery workers). The destructor stops it and waits for a running pass.
#ifndef GIFTCARD_LIBS_SERVER_PERIODIC_H_
#define GIFTCARD_LIBS_SERVER_PERIODIC_H_

#include <functional>
#include <string>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace giftcard::server {

class PeriodicTask {
 public:
  PeriodicTask(std::string name, absl::Duration interval, std::function<void()> pass);
  ~PeriodicTask();
  PeriodicTask(const PeriodicTask&) = delete;
  PeriodicTask& operator=(const PeriodicTask&) = delete;

 private:
  absl::Notification stop_;
  std::thread thread_;
};

// A recovery worker's pass for PeriodicTask: runs `pass`, which returns how
// many sagas it brought to an outcome, and counts them in the metric
// giftcard_saga_recoveries_total.
std::function<void()> CountedRecoveryPass(std::function<int()> pass);

}  // namespace giftcard::server

#endif  // GIFTCARD_LIBS_SERVER_PERIODIC_H_

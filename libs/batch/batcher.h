// Batcher: concurrent calls of one kind combined into batches, each batch
// executed once (one statement, one round trip, one commit) with an answer
// per call, as TigerBeetle batches. It runs on the callers' own threads
// ("flat combining"): a call that finds a free slot (fewer than
// max_in_flight batches running) leads a batch at once with whatever is
// queued, its own call included, so a call alone never waits for company;
// calls arriving while batches run queue up and go together in the next one.
// No thread of its own, no hand-off, no timer.
#ifndef GIFTCARD_LIBS_BATCH_BATCHER_H_
#define GIFTCARD_LIBS_BATCH_BATCHER_H_

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "deadline/deadline.h"

namespace giftcard::batch {

struct Options {
  size_t max_batch = 64;  // Calls per batch at most.
  int max_in_flight = 2;  // Batches running at once (e.g. a share of the pool's connections).
  // Told each batch's size before it runs (SizeObserver: a metric).
  std::function<void(size_t)> on_batch;
};

// An on_batch that records sizes in giftcard_sql_batch_size{statement}.
std::function<void(size_t)> SizeObserver(const std::string& statement);

template <typename Item, typename Result>
class Batcher {
 public:
  // Runs one batch: must return exactly one Result per item, in order.
  using Execute = std::function<std::vector<Result>(const std::vector<Item>&)>;

  // `expired` answers a call whose deadline passes while it is still queued
  // (a stalled database holding the batch before it): it leaves the queue
  // with that answer, never having run. Null: calls wait however long.
  Batcher(Execute execute, Options options, std::function<Result()> expired = nullptr)
      : execute_(std::move(execute)), options_(options), expired_(std::move(expired)) {}

  // Blocks until the batch holding `item` has run; returns its Result. The
  // batch runs until the latest deadline of its callers (deadline::Current()
  // of each), so a caller with a short deadline cannot cut off the others.
  Result Run(Item item) {
    auto waiter = std::make_shared<Waiter>();
    waiter->item = std::move(item);
    waiter->deadline = deadline::Current();
    absl::MutexLock lock(&mu_);
    queue_.push_back(waiter);
    while (!waiter->result.has_value()) {
      if (in_flight_ < options_.max_in_flight && !queue_.empty()) {
        Lead();
        continue;
      }
      if (expired_ && !waiter->taken) {
        if (absl::Now() >= waiter->deadline) {
          queue_.erase(std::find(queue_.begin(), queue_.end(), waiter));
          ++expired_calls_;
          return expired_();
        }
        cv_.WaitWithDeadline(&mu_, waiter->deadline);
        continue;
      }
      cv_.Wait(&mu_);
    }
    return std::move(*waiter->result);
  }

  // Calls whose deadline passed while they were queued.
  int64_t expired_calls() const {
    absl::MutexLock lock(&mu_);
    return expired_calls_;
  }

  // Batches run so far and calls they held (for tests and metrics).
  int64_t batches() const {
    absl::MutexLock lock(&mu_);
    return batches_;
  }
  int64_t calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // Calls waiting for a batch.
  size_t queued() const {
    absl::MutexLock lock(&mu_);
    return queue_.size();
  }

 private:
  struct Waiter {
    Item item;
    absl::Time deadline;
    bool taken = false;  // In a batch that runs: its answer will come.
    std::optional<Result> result;
  };

  // Takes up to max_batch queued calls and runs them, with mu_ released.
  void Lead() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::vector<std::shared_ptr<Waiter>> taken;
    const size_t n = std::min(options_.max_batch, queue_.size());
    taken.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(n));
    ++in_flight_;
    ++batches_;
    calls_ += static_cast<int64_t>(n);
    std::vector<Item> items;
    items.reserve(n);
    absl::Time latest = absl::InfinitePast();
    for (auto& w : taken) {
      w->taken = true;
      items.push_back(std::move(w->item));
      latest = std::max(latest, w->deadline);
    }
    mu_.Unlock();
    if (options_.on_batch) options_.on_batch(n);
    std::vector<Result> results;
    {
      const deadline::OverrideScope batch_deadline(latest);
      results = execute_(items);
    }
    if (results.size() != taken.size()) std::abort();  // Execute broke its contract.
    mu_.Lock();
    for (size_t i = 0; i < taken.size(); ++i) taken[i]->result.emplace(std::move(results[i]));
    --in_flight_;
    cv_.SignalAll();
  }

  const Execute execute_;
  const Options options_;
  const std::function<Result()> expired_;
  mutable absl::Mutex mu_;
  absl::CondVar cv_;
  std::deque<std::shared_ptr<Waiter>> queue_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t batches_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t calls_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t expired_calls_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace giftcard::batch

#endif  // GIFTCARD_LIBS_BATCH_BATCHER_H_

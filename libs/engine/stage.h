// engine::Stage: a batching stage on a loop, batches forming at the socket.
// While a batch is in flight, calls gather; when it answers, everything
// gathered goes out as the next batch. A call that finds the stage idle goes
// out at the end of the loop's current turn with whatever else that turn
// brought (RunSoon: no timer, no waiting when the queue is empty). Each call
// is answered by its own position in its batch's results, as TigerBeetle's
// batches are. The loop's thread only.
#ifndef GIFTCARD_LIBS_ENGINE_STAGE_H_
#define GIFTCARD_LIBS_ENGINE_STAGE_H_

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "engine/loop.h"

namespace giftcard::engine {

template <typename Item, typename Result>
class Stage {
 public:
  using Answer = absl::AnyInvocable<void(Result) &&>;
  // Answers a whole batch, one Result per item in order, exactly once.
  using BatchDone = absl::AnyInvocable<void(std::vector<Result>) &&>;
  // Runs one batch (sends it); calls `done` when its answers are in.
  using Run = std::function<void(std::vector<Item> batch, BatchDone done)>;

  struct Options {
    size_t max_batch = 256;
    size_t max_in_flight = 1;  // Batches in flight at once (one per connection).
    std::function<void(size_t)> on_batch = nullptr;  // Told each batch's size (a metric).
  };

  Stage(Loop& loop, Run run, Options options)
      : loop_(loop), run_(std::move(run)), options_(std::move(options)) {}
  ~Stage() { *alive_ = false; }
  Stage(const Stage&) = delete;
  Stage& operator=(const Stage&) = delete;

  void Push(Item item, Answer answer) {
    items_.push_back(std::move(item));
    answers_.push_back(std::move(answer));
    ScheduleFlush();
  }

  size_t queued() const { return items_.size(); }
  size_t in_flight() const { return in_flight_; }

 private:
  void ScheduleFlush() {
    if (flush_scheduled_ || in_flight_ >= options_.max_in_flight || items_.empty()) return;
    flush_scheduled_ = true;
    loop_.RunSoon([this, alive = alive_] {
      if (!*alive) return;
      flush_scheduled_ = false;
      Flush();
    });
  }

  void Flush() {
    while (in_flight_ < options_.max_in_flight && !items_.empty()) {
      const size_t n = std::min(options_.max_batch, items_.size());
      std::vector<Item> batch(std::make_move_iterator(items_.begin()),
                              std::make_move_iterator(items_.begin() + n));
      auto answers = std::make_shared<std::vector<Answer>>(
          std::make_move_iterator(answers_.begin()), std::make_move_iterator(answers_.begin() + n));
      items_.erase(items_.begin(), items_.begin() + n);
      answers_.erase(answers_.begin(), answers_.begin() + n);
      ++in_flight_;
      if (options_.on_batch) options_.on_batch(n);
      run_(std::move(batch), [this, alive = alive_, answers](std::vector<Result> results) mutable {
        if (results.size() != answers->size()) std::abort();  // Run broke its contract.
        if (*alive) {
          --in_flight_;
          ScheduleFlush();  // What gathered meanwhile goes next.
        }
        for (size_t i = 0; i < results.size(); ++i) std::move((*answers)[i])(std::move(results[i]));
      });
    }
  }

  Loop& loop_;
  const Run run_;
  const Options options_;
  std::vector<Item> items_;
  std::vector<Answer> answers_;
  size_t in_flight_ = 0;
  bool flush_scheduled_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// A Stage's Run over a batch function `fn(batch, answers)` whose answer
// callback is a copyable std::function<void(std::vector<Result>)> (a Stage's
// own BatchDone is move-only).
template <typename Item, typename Result, typename BatchFn>
typename Stage<Item, Result>::Run CopyableRun(BatchFn fn) {
  return [fn](std::vector<Item> batch, typename Stage<Item, Result>::BatchDone done) {
    auto shared = std::make_shared<typename Stage<Item, Result>::BatchDone>(std::move(done));
    fn(std::move(batch),
       [shared](std::vector<Result> results) { std::move (*shared)(std::move(results)); });
  };
}

}  // namespace giftcard::engine

#endif  // GIFTCARD_LIBS_ENGINE_STAGE_H_

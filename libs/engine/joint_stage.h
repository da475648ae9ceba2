// engine::JointStage: one Stage carrying two kinds of calls, so that a flight
// takes whatever gathered of both (one transaction, one commit for both,
// where the two kinds would otherwise alternate in flights of their own).
// Its Run gets each flight split by kind, each kind in arrival order, and
// answers each kind once, by position; the stage puts every answer back in
// its call's place. The loop's thread only.
#ifndef GIFTCARD_LIBS_ENGINE_JOINT_STAGE_H_
#define GIFTCARD_LIBS_ENGINE_JOINT_STAGE_H_

#include <cstdlib>
#include <functional>
#include <memory>
#include <utility>
#include <variant>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "engine/loop.h"
#include "engine/stage.h"

namespace giftcard::engine {

template <typename First, typename FirstResult, typename Second, typename SecondResult>
class JointStage {
 public:
  using FirstAnswers = std::function<void(std::vector<FirstResult>)>;
  using SecondAnswers = std::function<void(std::vector<SecondResult>)>;
  // Sends one flight: the calls of each kind that gathered (either may be
  // empty, not both). Calls each Answers exactly once, with one result per
  // call of its kind, in order.
  using Run =
      std::function<void(std::vector<First>, std::vector<Second>, FirstAnswers, SecondAnswers)>;

  struct Options {
    size_t max_batch = 256;
    std::function<void(size_t)> on_batch = nullptr;   // Each flight's size.
    std::function<void(size_t)> on_first = nullptr;   // Firsts in a flight that has any.
    std::function<void(size_t)> on_second = nullptr;  // Seconds in a flight that has any.
  };

  JointStage(Loop& loop, Run run, Options options)
      : run_(std::move(run)),
        on_first_(std::move(options.on_first)),
        on_second_(std::move(options.on_second)),
        stage_(loop, CopyableRun<Item, Result>([this](std::vector<Item> batch, auto done) {
                 RunFlight(std::move(batch), std::move(done));
               }),
               {.max_batch = options.max_batch,
                .max_in_flight = 1,
                .on_batch = std::move(options.on_batch)}) {}

  void PushFirst(First item, absl::AnyInvocable<void(FirstResult) &&> answer) {
    stage_.Push(Item(std::in_place_index<0>, std::move(item)),
                [answer = std::move(answer)](Result result) mutable {
                  std::move(answer)(std::get<0>(std::move(result)));
                });
  }
  void PushSecond(Second item, absl::AnyInvocable<void(SecondResult) &&> answer) {
    stage_.Push(Item(std::in_place_index<1>, std::move(item)),
                [answer = std::move(answer)](Result result) mutable {
                  std::move(answer)(std::get<1>(std::move(result)));
                });
  }

 private:
  using Item = std::variant<First, Second>;
  using Result = std::variant<FirstResult, SecondResult>;

  void RunFlight(std::vector<Item> batch, std::function<void(std::vector<Result>)> done) {
    std::vector<size_t> first_at, second_at;
    std::vector<First> firsts;
    std::vector<Second> seconds;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].index() == 0) {
        first_at.push_back(i);
        firsts.push_back(std::get<0>(std::move(batch[i])));
      } else {
        second_at.push_back(i);
        seconds.push_back(std::get<1>(std::move(batch[i])));
      }
    }
    if (!firsts.empty() && on_first_) on_first_(firsts.size());
    if (!seconds.empty() && on_second_) on_second_(seconds.size());
    auto out = std::make_shared<std::vector<Result>>(batch.size());
    auto parts_left = std::make_shared<int>(2);
    auto part_done = [out, parts_left, done] {
      if (--*parts_left == 0) done(std::move(*out));
    };
    FirstAnswers first_done = [out, first_at, part_done](std::vector<FirstResult> results) {
      if (results.size() != first_at.size()) std::abort();  // Run broke its contract.
      for (size_t k = 0; k < results.size(); ++k) {
        (*out)[first_at[k]].template emplace<0>(std::move(results[k]));
      }
      part_done();
    };
    SecondAnswers second_done = [out, second_at, part_done](std::vector<SecondResult> results) {
      if (results.size() != second_at.size()) std::abort();
      for (size_t k = 0; k < results.size(); ++k) {
        (*out)[second_at[k]].template emplace<1>(std::move(results[k]));
      }
      part_done();
    };
    run_(std::move(firsts), std::move(seconds), std::move(first_done), std::move(second_done));
  }

  const Run run_;
  const std::function<void(size_t)> on_first_;
  const std::function<void(size_t)> on_second_;
  Stage<Item, Result> stage_;
};

}  // namespace giftcard::engine

#endif  // GIFTCARD_LIBS_ENGINE_JOINT_STAGE_H_

#include "batch/batcher.h"

#include "metrics/registry.h"

namespace giftcard::batch {

std::function<void(size_t)> SizeObserver(const std::string& statement) {
  metrics::Histogram& sizes = metrics::Global().AddHistogram(
      "giftcard_sql_batch_size",
      "Calls combined into one statement, or into one batch RPC to another service (the RPC's "
      "name), by statement.",
      {"statement"}, {1, 2, 4, 8, 16, 32, 64});
  return [&sizes, statement](size_t n) { sizes.Observe({statement}, static_cast<double>(n)); };
}

}  // namespace giftcard::batch

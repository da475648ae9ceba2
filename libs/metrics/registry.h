// Process metrics in the Prometheus text format (version 0.0.4): counters and
// histograms with fixed label names, and values read at scrape time.
//
// Label values must come from small fixed sets (method names, status codes,
// reasons): never a PIN, serial, account id or any other per-request value.
#ifndef GIFTCARD_LIBS_METRICS_REGISTRY_H_
#define GIFTCARD_LIBS_METRICS_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace giftcard::metrics {

using LabelValues = std::vector<std::string>;

class Counter {
 public:
  void Increment(const LabelValues& labels, double by = 1);

 private:
  friend class Registry;
  explicit Counter(std::vector<std::string> label_names) : label_names_(std::move(label_names)) {}
  const std::vector<std::string> label_names_;
  mutable absl::Mutex mu_;
  std::map<LabelValues, double> values_ ABSL_GUARDED_BY(mu_);
};

class Histogram {
 public:
  void Observe(const LabelValues& labels, double value);

 private:
  friend class Registry;
  struct Series {
    std::vector<uint64_t> buckets;  // Non-cumulative counts per upper bound.
    uint64_t count = 0;
    double sum = 0;
  };
  Histogram(std::vector<std::string> label_names, std::vector<double> bounds)
      : label_names_(std::move(label_names)), bounds_(std::move(bounds)) {}
  const std::vector<std::string> label_names_;
  const std::vector<double> bounds_;
  mutable absl::Mutex mu_;
  std::map<LabelValues, Series> series_ ABSL_GUARDED_BY(mu_);
};

// Latency buckets in seconds, 0.5 ms to 10 s.
std::vector<double> LatencyBuckets();

class Registry {
 public:
  // Families live as long as the registry; adding a name twice returns the
  // first family.
  Counter& AddCounter(const std::string& name, const std::string& help,
                      std::vector<std::string> label_names);
  Histogram& AddHistogram(const std::string& name, const std::string& help,
                          std::vector<std::string> label_names, std::vector<double> bounds);
  // A value read when scraped; `type` is "counter" or "gauge". The callback
  // must outlive the registry or be removed with RemoveCallback.
  void AddCallback(const std::string& name, const std::string& help, const std::string& type,
                   std::function<double()> read);
  void RemoveCallback(const std::string& name);

  // Every family, sorted by name.
  std::string Render() const;

 private:
  struct Family {
    std::string help, type;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> read;
  };
  mutable absl::Mutex mu_;
  std::map<std::string, Family> families_ ABSL_GUARDED_BY(mu_);
};

// The process's registry, which /metrics serves.
Registry& Global();

}  // namespace giftcard::metrics

#endif  // GIFTCARD_LIBS_METRICS_REGISTRY_H_

#include "metrics/registry.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"

namespace giftcard::metrics {
namespace {

// Every digit the value has: absl::StrCat(double) prints six significant
// digits, which turned a Unix timestamp into one an hour off.
std::string FormatValue(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrCat(static_cast<int64_t>(v));
  // The shortest of 15 or 17 significant digits that reads back as `v`.
  std::string text = absl::StrFormat("%.15g", v);
  if (std::strtod(text.c_str(), nullptr) != v) text = absl::StrFormat("%.17g", v);
  return text;
}

std::string EscapeLabel(const std::string& value) {
  return absl::StrReplaceAll(value, {{"\\", "\\\\"}, {"\"", "\\\""}, {"\n", "\\n"}});
}

// {a="x",b="y"} plus an optional extra label (le for histogram buckets).
std::string Labels(const std::vector<std::string>& names, const LabelValues& values,
                   const std::string& extra = "") {
  std::string out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    absl::StrAppend(&out, out.empty() ? "" : ",", names[i], "=\"", EscapeLabel(values[i]), "\"");
  }
  if (!extra.empty()) absl::StrAppend(&out, out.empty() ? "" : ",", extra);
  return out.empty() ? "" : absl::StrCat("{", out, "}");
}

}  // namespace

void Counter::Increment(const LabelValues& labels, double by) {
  absl::MutexLock lock(&mu_);
  values_[labels] += by;
}

void Histogram::Observe(const LabelValues& labels, double value) {
  absl::MutexLock lock(&mu_);
  Series& s = series_[labels];
  if (s.buckets.empty()) s.buckets.resize(bounds_.size());
  for (size_t i = 0; i < bounds_.size(); ++i) {
    if (value <= bounds_[i]) {
      ++s.buckets[i];
      break;
    }
  }
  ++s.count;
  s.sum += value;
}

std::vector<double> LatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Counter& Registry::AddCounter(const std::string& name, const std::string& help,
                              std::vector<std::string> label_names) {
  absl::MutexLock lock(&mu_);
  Family& f = families_[name];
  if (f.counter == nullptr) {
    f.help = help;
    f.type = "counter";
    f.counter.reset(new Counter(std::move(label_names)));
  }
  return *f.counter;
}

Histogram& Registry::AddHistogram(const std::string& name, const std::string& help,
                                  std::vector<std::string> label_names,
                                  std::vector<double> bounds) {
  absl::MutexLock lock(&mu_);
  Family& f = families_[name];
  if (f.histogram == nullptr) {
    f.help = help;
    f.type = "histogram";
    f.histogram.reset(new Histogram(std::move(label_names), std::move(bounds)));
  }
  return *f.histogram;
}

void Registry::AddCallback(const std::string& name, const std::string& help,
                           const std::string& type, std::function<double()> read) {
  absl::MutexLock lock(&mu_);
  Family& f = families_[name];
  f.help = help;
  f.type = type;
  f.read = std::move(read);
}

void Registry::RemoveCallback(const std::string& name) {
  absl::MutexLock lock(&mu_);
  families_.erase(name);
}

std::string Registry::Render() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    absl::StrAppend(&out, "# HELP ", name, " ", f.help, "\n# TYPE ", name, " ", f.type, "\n");
    if (f.read) {
      absl::StrAppend(&out, name, " ", FormatValue(f.read()), "\n");
    } else if (f.counter != nullptr) {
      absl::MutexLock family_lock(&f.counter->mu_);
      for (const auto& [labels, value] : f.counter->values_) {
        absl::StrAppend(&out, name, Labels(f.counter->label_names_, labels), " ",
                        FormatValue(value), "\n");
      }
    } else if (f.histogram != nullptr) {
      const Histogram& h = *f.histogram;
      absl::MutexLock family_lock(&h.mu_);
      for (const auto& [labels, s] : h.series_) {
        uint64_t cumulative = 0;
        for (size_t i = 0; i < h.bounds_.size(); ++i) {
          cumulative += s.buckets[i];
          absl::StrAppend(&out, name, "_bucket",
                          Labels(h.label_names_, labels,
                                 absl::StrCat("le=\"", FormatValue(h.bounds_[i]), "\"")),
                          " ", cumulative, "\n");
        }
        absl::StrAppend(&out, name, "_bucket", Labels(h.label_names_, labels, "le=\"+Inf\""), " ",
                        s.count, "\n");
        absl::StrAppend(&out, name, "_sum", Labels(h.label_names_, labels), " ", FormatValue(s.sum),
                        "\n");
        absl::StrAppend(&out, name, "_count", Labels(h.label_names_, labels), " ", s.count, "\n");
      }
    }
  }
  return out;
}

Registry& Global() {
  static auto* registry = new Registry;
  return *registry;
}

}  // namespace giftcard::metrics

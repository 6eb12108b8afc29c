#pragma once
// latency_samples: per-operation times kept for the percentiles a mean hides. On a small shared
// machine a thread is now and then preempted for a whole scheduler slice (milliseconds), and a
// few of those dominate a mean over a thousand sub-microsecond operations.
//
// Storage is reserved up front, so recording allocates nothing; samples past the reservation
// are dropped. report() sets Google Benchmark counters p50, p99 and p999 in seconds (the
// benchmark output then reads "61u" for 61 microseconds).

#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

class latency_samples {
 public:
  latency_samples() { samples_.reserve(1u << 20); }

  void add(std::chrono::steady_clock::duration d) {
    if (samples_.size() < samples_.capacity())
      samples_.push_back(std::chrono::duration<double>(d).count());
  }

  void report(benchmark::State& state) {
    if (samples_.empty()) return;
    std::sort(samples_.begin(), samples_.end());
    const auto at = [this](double q) {
      return samples_[static_cast<std::size_t>(q * static_cast<double>(samples_.size() - 1))];
    };
    state.counters["p50"] = at(0.50);
    state.counters["p99"] = at(0.99);
    state.counters["p999"] = at(0.999);
  }

 private:
  std::vector<double> samples_;
};

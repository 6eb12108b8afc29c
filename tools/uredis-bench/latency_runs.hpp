#pragma once
// latency_runs: records latencies into a histogram a run of equal values at a time.
//
// A pipelined completion carries many replies that share one arrival time (batch_clock) and,
// mostly, one send time (the requests a completion issued): their latencies are equal. Counting
// such a run with a compare and an add, and touching the histogram once per run, keeps the
// per-reply cost of timing to a few instructions. flush() before reading the histogram.

#include <cstdint>

#include "uredis/util/histogram.hpp"

namespace uredis::bench {

class latency_runs {
 public:
  explicit latency_runs(util::histogram& into) noexcept : into_(&into) {}

  void record(std::uint64_t value) noexcept {
    if (value == value_) {
      ++count_;
      return;
    }
    flush();
    value_ = value;
    count_ = 1;
  }

  /// Moves the run being counted into the histogram.
  void flush() noexcept {
    into_->record(value_, count_);
    count_ = 0;
  }

 private:
  util::histogram* into_;
  std::uint64_t value_ = 0;
  std::uint64_t count_ = 0;
};

}  // namespace uredis::bench

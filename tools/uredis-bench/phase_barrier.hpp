#pragma once
// phase_barrier: main() waits here for every shard to finish a phase of a test (set-up, the
// measured run, teardown). Shards arrive from their reactor threads, once each per phase; the
// last to arrive can run a closing action before main() is released — the measured phase ends
// with it, so the end figures (process_usage) are read the moment the last shard is done, not
// when main() next wakes up.
//
// A mutex and a condition variable: a phase boundary happens a handful of times per test, never
// per request. The mutex also orders everything a shard wrote before arriving (its histogram,
// its counters) before main()'s reads after wait().

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace uredis::bench {

class phase_barrier {
 public:
  /// Expects `shards` arrivals. Call between phases, when no shard is about to arrive.
  void reset(std::size_t shards) {
    std::lock_guard lock(mutex_);
    remaining_ = shards;
  }

  /// One shard is done; the last runs `closing()` under the lock, then wakes main().
  template <class Closing>
  void arrive(Closing&& closing) {
    {
      std::lock_guard lock(mutex_);
      if (--remaining_ != 0) return;
      closing();
    }
    done_.notify_all();
  }
  void arrive() {
    arrive([] {});
  }

  /// Waits until every shard has arrived.
  void wait() {
    std::unique_lock lock(mutex_);
    done_.wait(lock, [this] { return remaining_ == 0; });
  }
  /// Waits at most `timeout`; true when every shard has arrived.
  bool wait_for(std::chrono::nanoseconds timeout) {
    std::unique_lock lock(mutex_);
    return done_.wait_for(lock, timeout, [this] { return remaining_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable done_;
  std::size_t remaining_ = 0;
};

}  // namespace uredis::bench

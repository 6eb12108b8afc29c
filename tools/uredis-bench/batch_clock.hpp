#pragma once
// batch_clock: the time for reply callbacks, read once per completion rather than once per
// reply.
//
// All the replies a completion (one recv's bytes) carries arrived together, so they share one
// arrival time: the clock is read at the first reply of each completion and reused for the
// rest, which is what makes timing free for a pipelined run (256 replies per recv: one clock
// read, not 256 at ~30 ns each). A completion is told apart by reactor::completions(), which
// the reactor increments before dispatching each CQE and which stays put while that CQE's
// callbacks run.
//
// Only for code running inside a completion callback: a timer or a mailbox task runs after the
// turn's last completion and must read the clock itself (now_fresh()), or forget() the last
// completion's time before it issues requests whose replies may complete at once (cache hits).

#include <chrono>
#include <cstdint>

#include "uredis/reactor/reactor.hpp"

namespace uredis::bench {

class batch_clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit batch_clock(const reactor::reactor& r) noexcept : reactor_(&r) {}

  /// The arrival time of the completion being dispatched.
  time_point now() noexcept {
    const std::uint64_t completion = reactor_->completions();
    if (completion != completion_) {
      completion_ = completion;
      now_ = std::chrono::steady_clock::now();
    }
    return now_;
  }

  /// Makes the next now() read the clock. For a timer or a task that issues requests: a cache
  /// hit's reply completes inside it, after the turn's last completion.
  void forget() noexcept { completion_ = ~std::uint64_t{0}; }

  /// The clock, read now.
  static time_point now_fresh() noexcept { return std::chrono::steady_clock::now(); }

 private:
  const reactor::reactor* reactor_;
  std::uint64_t completion_ = ~std::uint64_t{0};
  time_point now_{};
};

}  // namespace uredis::bench

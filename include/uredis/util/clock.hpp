#pragma once
// clock: where timers and sans-I/O state machines read the time. monotonic_clock (CLOCK_MONOTONIC,
// the clock io_uring timeouts use) in production; manual_clock in tests, which moves only when told
// to, so timer behaviour is deterministic. Time points are std::chrono::steady_clock's, so either
// kind is interchangeable.

#include <cassert>
#include <chrono>

namespace uredis::util {

/// Where a wheel reads the time: `monotonic_clock` in production, `manual_clock` in tests.
/// Time points are std::chrono::steady_clock's, so either kind is interchangeable.
class clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  virtual time_point now() const noexcept = 0;

 protected:
  clock() = default;
  clock(const clock&) = default;
  clock& operator=(const clock&) = default;
  ~clock() = default;
};

/// std::chrono::steady_clock (CLOCK_MONOTONIC: never jumps, the clock io_uring timeouts use).
class monotonic_clock final : public clock {
 public:
  time_point now() const noexcept override { return std::chrono::steady_clock::now(); }
};

/// The process's monotonic_clock, the default for a wheel.
inline const clock& default_clock() noexcept {
  static const monotonic_clock instance;
  return instance;
}

/// A clock that moves only when told to: tests drive timers with it deterministically.
class manual_clock final : public clock {
 public:
  manual_clock() noexcept = default;
  explicit manual_clock(time_point start) noexcept : now_(start) {}

  time_point now() const noexcept override { return now_; }
  /// Moves the clock to `t` (monotonic: never backwards).
  void set(time_point t) noexcept {
    assert(t >= now_ && "a manual_clock never goes backwards");
    now_ = t;
  }
  void advance(duration d) noexcept { set(now_ + d); }

 private:
  time_point now_{};
};

}  // namespace uredis::util

#pragma once
// backoff: how long to wait before retry number `failures`, one small value type for every
// strategy redis-py offers (redis/backoff.py), with its formulas and defaults.
//
//   kind                     delay for compute(f), f = failures so far (1 for the first retry)
//   none                     0
//   constant                 the fixed value
//   exponential              min(cap, base * 2^f)
//   full_jitter              uniform(0, min(cap, base * 2^f))
//   equal_jitter             t/2 + uniform(0, t/2),   t = min(cap, base * 2^f)
//   decorrelated_jitter      min(cap, uniform(base, max(base, 3 * previous))), previous = the
//                            last result (0 after reset()): stateful
//   exponential_with_jitter  min(cap, random() * base * 2^f)
//
// uniform(a, b) is Python's: a + (b - a) * random(), with random() = rng::uniform() in [0, 1);
// it draws exactly one number even when a == b, as Python does. Arithmetic is in double
// nanoseconds (redis-py uses float seconds); the result is truncated to whole nanoseconds and
// never exceeds `cap` (constant: the value as given). Defaults: base 8 ms, cap 512 ms.
//
// The randomness is injected: compute() takes the caller's util::rng (one per shard), so a
// test seeding its own rng identically can recompute every delay. The only state is the
// decorrelated strategy's previous delay, so a backoff is a cheap value: copy the configured
// one per operation and reset() it when the operation starts (redis-py resets per call).
//
// Invariants: 0 <= base, 0 <= cap, value >= 0. No virtual calls, no allocation, no exceptions.

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cmath>
#include <cstdint>

#include "uredis/util/random.hpp"

namespace uredis::retry {

class backoff {
 public:
  enum class kind : std::uint8_t {
    none,
    constant,
    exponential,
    full_jitter,
    equal_jitter,
    decorrelated_jitter,
    exponential_with_jitter,
  };

  using duration = std::chrono::nanoseconds;

  static constexpr duration default_base = std::chrono::milliseconds(8);
  static constexpr duration default_cap = std::chrono::milliseconds(512);

  /// No wait at all (the default-constructed backoff).
  constexpr backoff() noexcept = default;

  static constexpr backoff none() noexcept { return {}; }
  /// Always `value`.
  static constexpr backoff constant(duration value) noexcept {
    return backoff(kind::constant, value, value);
  }
  static constexpr backoff exponential(duration base = default_base,
                                       duration cap = default_cap) noexcept {
    return backoff(kind::exponential, base, cap);
  }
  static constexpr backoff full_jitter(duration base = default_base,
                                       duration cap = default_cap) noexcept {
    return backoff(kind::full_jitter, base, cap);
  }
  static constexpr backoff equal_jitter(duration base = default_base,
                                        duration cap = default_cap) noexcept {
    return backoff(kind::equal_jitter, base, cap);
  }
  static constexpr backoff decorrelated_jitter(duration base = default_base,
                                               duration cap = default_cap) noexcept {
    return backoff(kind::decorrelated_jitter, base, cap);
  }
  static constexpr backoff exponential_with_jitter(duration base = default_base,
                                                   duration cap = default_cap) noexcept {
    return backoff(kind::exponential_with_jitter, base, cap);
  }

  kind strategy() const noexcept { return kind_; }
  /// The base delay (for `constant`, the value).
  duration base() const noexcept { return base_; }
  /// The largest delay compute() returns (for `constant`, the value).
  duration cap() const noexcept { return cap_; }

  /// Forgets the decorrelated strategy's previous delay; the others have no state.
  void reset() noexcept { previous_ = 0; }

  /// The delay before the retry that follows failure number `failures` (1 for the first).
  /// Draws from `rng` only for the jittered kinds (one draw per call). A huge `failures` is
  /// safe: see pow2().
  duration compute(std::uint32_t failures, util::rng& rng) noexcept {
    const auto cap = static_cast<double>(cap_.count());
    switch (kind_) {
      case kind::none:
        return duration::zero();
      case kind::constant:
        return base_;
      case kind::exponential:
        return clamp(std::min(cap, exponential_ns(failures)));
      case kind::full_jitter:
        return clamp(uniform(rng, 0, std::min(cap, exponential_ns(failures))));
      case kind::equal_jitter: {
        const double half = std::min(cap, exponential_ns(failures)) / 2;
        return clamp(half + uniform(rng, 0, half));
      }
      case kind::decorrelated_jitter: {
        const auto base = static_cast<double>(base_.count());
        const double temp = uniform(rng, base, std::max(base, 3 * previous_));
        previous_ = std::min(cap, temp);
        return clamp(previous_);
      }
      case kind::exponential_with_jitter:
        return clamp(std::min(cap, rng.uniform() * exponential_ns(failures)));
    }
    return duration::zero();
  }

  friend constexpr bool operator==(const backoff&, const backoff&) = default;

 private:
  constexpr backoff(kind k, duration base, duration cap) noexcept
      : kind_(k), base_(base), cap_(cap) {
    assert(base.count() >= 0 && cap.count() >= 0);
  }

  // 2^f as a double, with f clamped to 128. The clamp changes no result: with base >= 1 ns,
  // base * 2^128 exceeds any cap (<= 2^63 ns) even after scaling by the smallest nonzero
  // random() (2^-53), so every formula already returns cap (or 0 for base 0 or random() 0) and
  // min(cap, ...) gives the same answer; and base * 2^128 <= 2^63 * 2^128 stays finite, so no
  // 0 * inf = NaN can appear.
  static double pow2(std::uint32_t f) noexcept {
    static constexpr std::uint32_t max_exponent = 128;
    return std::ldexp(1.0, static_cast<int>(std::min(f, max_exponent)));
  }

  double exponential_ns(std::uint32_t f) const noexcept {
    return static_cast<double>(base_.count()) * pow2(f);
  }

  // Python's random.uniform(a, b): one draw, a when a == b.
  static double uniform(util::rng& rng, double a, double b) noexcept {
    return a + (b - a) * rng.uniform();
  }

  // Truncates to whole nanoseconds. A double equal to a huge cap can round above INT64_MAX,
  // where the conversion would be undefined: anything at or past cap is exactly cap.
  duration clamp(double ns) const noexcept {
    if (ns >= static_cast<double>(cap_.count())) return cap_;
    return duration(static_cast<duration::rep>(ns));
  }

  kind kind_ = kind::none;
  duration base_{0};
  duration cap_{0};
  double previous_ = 0;  // decorrelated_jitter's last delay, in nanoseconds
};

}  // namespace uredis::retry

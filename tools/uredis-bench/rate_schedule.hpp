#pragma once
// rate_schedule: --rate's fixed-rate schedule. Each connection sends at a fixed interval
// (connections / rate), the connections staggered so that together they send one request every
// 1/rate seconds: connection g (of all shards) sends its k-th request at
//
//     due(g, k) = start + (g / connections + k) * connections / rate = start + (g + k * C) / rate
//
// A request's latency counts from its INTENDED send time, not from when it went out: a stall
// (the server's, the network's, or the client's own) delays every request due meanwhile, and
// each of them records the delay, so coordinated omission cannot hide it. A connection with -P
// requests in flight sends its next due request as soon as a reply frees room.
//
// How exact the intended time is depends on how the shard wakes up to send (shard.cpp):
//   - sleeping (the default): a timer on the shard's wheel, whose tick is 1 ms. Due times are
//     rounded UP to the tick, and that rounded time is the intended one: the schedule is on a
//     1 ms grid (requests due within one millisecond go out together at its end), and the
//     latency does not include up to a millisecond of the wheel's granularity, only the real
//     lateness of the wake-up.
//   - --busy-poll: the shard checks every loop turn, and intended times are exact.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace uredis::bench {

class rate_schedule {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::nanoseconds;

  /// `rate` requests per second over `connections` connections; `exact` for busy polling.
  rate_schedule(double rate, std::size_t connections, bool exact) noexcept
      : interval_(to_ns(static_cast<double>(connections) / rate)),
        spacing_(to_ns(1.0 / rate)),
        exact_(exact) {}

  /// When connection `g` (its index among all connections) sends its first request.
  time_point first_due(time_point start, std::size_t g) const noexcept {
    return start + spacing_ * static_cast<std::int64_t>(g);
  }
  /// The due time after `due`, on the same connection.
  time_point next_due(time_point due) const noexcept { return due + interval_; }
  /// The time a request due at `due` is meant to go out (see the header comment).
  time_point intended(time_point due) const noexcept {
    if (exact_) return due;
    return time_point(std::chrono::ceil<std::chrono::milliseconds>(due.time_since_epoch()));
  }
  bool exact() const noexcept { return exact_; }

 private:
  static duration to_ns(double seconds) noexcept {
    // At least 1 ns: a rate above 1e9/s per connection means "as fast as possible" anyway. At
    // most 1e18 ns (31 years): a longer interval must not overflow the cast or a due time.
    const double ns = seconds * 1e9;
    if (!(ns < 1e18)) return duration(std::int64_t{1'000'000'000'000'000'000});
    return duration(ns >= 1 ? static_cast<std::int64_t>(ns) : 1);
  }

  duration interval_;  // between two requests of one connection
  duration spacing_;   // between two connections' first requests
  bool exact_;
};

}  // namespace uredis::bench

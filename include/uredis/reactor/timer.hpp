#pragma once
// timer, timer_wheel: the per-shard timers under every delay in the library (backoff waits,
// command deadlines, health checks), and the clock they read.
//
// A `timer` is owned by its caller (a connection, a pending command, a coroutine frame), which
// embeds it; the wheel only links it. Its callback lives inline (no heap), and its destructor
// cancels it, so an owner that dies never leaves a dangling timer behind. Nothing here allocates:
// the wheel's buckets are a fixed array built with it, arm/rearm/cancel relink one hook in O(1).
//
// Resolution: one tick = 1 ms. Deadlines round UP to the next millisecond and the current time
// rounds DOWN, so a timer never fires before its deadline, and fires at most 1 ms late (plus
// however late the reactor calls advance()).
//
// Hierarchical wheel (Varghese & Lauck, with the "highest differing digit" placement): the tick
// count is read as base-64 digits, 11 levels of 64 buckets cover all 64 bits, so any deadline,
// however far, has a bucket and nothing overflows.
//
//   level 0: 64 buckets of 1 ms      a timer sits at the level of the highest base-64 digit in
//   level 1: 64 buckets of 64 ms     which its deadline differs from the wheel's time `now_`,
//   level 2: 64 buckets of 4.1 s     in the bucket named by that digit of its deadline.
//   level 3: 64 buckets of 4.4 min   occupied[level] has one bit per non-empty bucket.
//   level 4: 64 buckets of 4.7 h
//   ...      (up to level 10)
//
// Invariants: every timer on level L agrees with now_ on all digits above L and has a larger digit
// L, so it is later than now_; a level-0 bucket holds timers of exactly one deadline; every
// bucket on a lower level comes before every bucket on a higher one. Hence the next event is the
// lowest set bit of the lowest non-empty level. advance() jumps straight from event to event (an
// idle hour costs nothing): at a level-0 bucket its timers fire; at a higher bucket its timers
// cascade down (re-placed against the new now_), the ones due now fire. A timer cascades at most
// 10 times in its life, so arming and expiring are amortised O(1).
//
// Ordering: within one advance(), timers fire in deadline order, tick by tick (a timer due at
// tick 5 fires before one due at tick 6, wherever each was armed). Timers due at the same tick
// fire in an unspecified order. Timers armed for a deadline already reached (<= the wheel's time)
// fire at the start of the NEXT advance(), in arm order, before the others; this is also what
// happens to a callback that re-arms its timer for "now", so a callback can never make one
// advance() loop forever.
//
// Callbacks run from advance() with their timer already disarmed. A callback may re-arm its own
// timer, arm, rearm or cancel any other timer (including one due in this same tick, which then
// does not fire), and destroy its own timer's owner (touching nothing of it afterwards). It may
// not call advance() (asserted).
//
// Threads: a wheel and its timers belong to one shard's thread.

#include <array>
#include <bit>
#include <cassert>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>

#include "uredis/util/clock.hpp"
#include "uredis/util/inline_function.hpp"
#include "uredis/util/intrusive_list.hpp"

namespace uredis::reactor {

class timer_wheel;

/// One caller-owned timer. Not copyable or movable (the wheel points at it); embed it in its
/// owner. Destroying an armed timer cancels it.
class timer {
 public:
  /// Bytes for the callback's captures: three pointers (an owner's `this` plus two more). A
  /// callback needing more state captures a pointer to it.
  static constexpr std::size_t callback_capacity = 24;
  using callback_type = util::inline_function<void(), callback_capacity>;

  timer() noexcept = default;
  explicit timer(callback_type callback) noexcept : callback_(std::move(callback)) {}
  timer(const timer&) = delete;
  timer& operator=(const timer&) = delete;
  ~timer() { cancel(); }

  /// Replaces the callback. Allowed while armed: the new one runs at expiry.
  void set_callback(callback_type callback) noexcept { callback_ = std::move(callback); }

  /// True from arm until the timer fires or is cancelled (false while its callback runs).
  bool armed() const noexcept { return hook_.is_linked(); }

  /// The deadline of the last arm, rounded up to the millisecond.
  util::clock::time_point deadline() const noexcept {
    return util::clock::time_point(std::chrono::milliseconds(static_cast<std::int64_t>(when_)));
  }

  /// Disarms the timer in O(1); returns whether it was armed. Does nothing if it was not.
  inline bool cancel() noexcept;

 private:
  friend class timer_wheel;

  util::list_hook hook_;
  callback_type callback_;
  std::uint64_t when_ = 0;        // deadline in ticks (ms since the clock's epoch)
  timer_wheel* wheel_ = nullptr;  // valid while armed
  std::uint16_t bucket_ = 0;      // index into the wheel's lists, valid while armed
};

// Small enough to embed in every pending command: hook 16 + callback 32 + 8 + 8 + 2, padded to
// the callback's 16-byte alignment.
static_assert(sizeof(timer) <= 80, "timer grew: it is embedded in every pending operation");

/// The per-shard hierarchical timing wheel. Owns no timer; holds a reference to its clock, which
/// must outlive it. Not copyable or movable (armed timers point at it). Destroying a wheel
/// disarms the timers still on it without running them.
class timer_wheel {
 public:
  using time_point = util::clock::time_point;
  using duration = util::clock::duration;

  static constexpr unsigned bits_per_level = 6;
  static constexpr unsigned slots_per_level = 1u << bits_per_level;  // one bit each in a uint64
  static constexpr unsigned levels = (64 + bits_per_level - 1) / bits_per_level;  // all 64 bits
  static_assert(slots_per_level == 64, "occupied_ holds one 64-bit mask per level");

  explicit timer_wheel(const util::clock& c = util::default_clock()) noexcept
      : clock_(&c), now_(floor_ticks(c.now())) {}
  timer_wheel(const timer_wheel&) = delete;
  timer_wheel& operator=(const timer_wheel&) = delete;
  ~timer_wheel() = default;  // the lists unlink their timers; a disarmed timer forgets wheel_

  const util::clock& source() const noexcept { return *clock_; }
  /// The clock's current time.
  time_point now() const noexcept { return clock_->now(); }
  /// The wheel's own time: the last tick advance() processed.
  time_point current() const noexcept { return from_ticks(now_); }

  /// Arms `t` to fire at `deadline`. Precondition: t is not armed (use rearm otherwise).
  void arm(timer& t, time_point deadline) noexcept {
    assert(!t.armed() && "arm: the timer is already armed; use rearm");
    t.when_ = ceil_ticks(deadline);
    t.wheel_ = this;
    ++size_;
    place(t);
  }
  /// Arms `t` to fire `delay` from the clock's now.
  void arm_in(timer& t, duration delay) noexcept { arm(t, clock_->now() + delay); }

  /// Cancels `t` if armed, then arms it for `deadline`.
  void rearm(timer& t, time_point deadline) noexcept {
    t.cancel();
    arm(t, deadline);
  }
  void rearm_in(timer& t, duration delay) noexcept { rearm(t, clock_->now() + delay); }

  /// Same as t.cancel().
  bool cancel(timer& t) noexcept { return t.cancel(); }

  /// Number of armed timers.
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  /// When advance() next has work to do, or nullopt when no timer is armed. Never later than the
  /// earliest deadline: it is that deadline when the timer sits on level 0 (due within the
  /// current 64 ms block), otherwise the start of the bucket that must cascade first (advancing
  /// there fires nothing and tightens the answer). So a reactor that arms one io_uring timeout for
  /// next_deadline() and calls advance() on wake-up never misses a deadline, at the cost of at
  /// most one early wake-up per level a timer crosses. Overdue timers give current(). O(levels).
  std::optional<time_point> next_deadline() const noexcept {
    if (!lists_[overdue_index].empty()) return from_ticks(now_);
    const auto tick = next_event();
    if (!tick) return std::nullopt;
    return from_ticks(*tick);
  }

  /// Fires every timer due at or before `now` (see the header comment for the order), then sets
  /// the wheel's time to `now`. Returns how many callbacks ran. A `now` earlier than the wheel's
  /// time only fires overdue timers.
  std::size_t advance(time_point now) noexcept {
    assert(!advancing_ && "advance() called from a timer callback");
    advancing_ = true;
    const std::uint64_t target = floor_ticks(now);
    std::size_t fired = 0;
    if (!lists_[overdue_index].empty()) {
      // Only those armed before this call: a callback re-arming for "now" waits for the next one.
      lists_[firing_index] = std::move(lists_[overdue_index]);
      fired += run_firing();
    }
    while (const auto tick = next_event()) {
      if (*tick > target) break;
      now_ = *tick;
      fired += expire_bucket();
    }
    if (target > now_) now_ = target;
    advancing_ = false;
    return fired;
  }
  /// advance(now()) on the wheel's clock.
  std::size_t advance() noexcept { return advance(clock_->now()); }

 private:
  friend class timer;

  static constexpr std::uint16_t wheel_slots = levels * slots_per_level;
  // Two more lists after the wheel's buckets: timers armed for a tick already reached, and the
  // batch being fired now (a list, not a loop over a bucket, so callbacks may unlink anything).
  static constexpr std::uint16_t overdue_index = wheel_slots;
  static constexpr std::uint16_t firing_index = wheel_slots + 1;
  using timer_list = util::intrusive_list<timer, &timer::hook_>;

  static std::uint64_t floor_ticks(time_point t) noexcept {
    const auto ms = std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
    return ms < 0 ? 0 : static_cast<std::uint64_t>(ms);
  }
  static std::uint64_t ceil_ticks(time_point t) noexcept {
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(t.time_since_epoch()).count();
    return ms < 0 ? 0 : static_cast<std::uint64_t>(ms);
  }
  static time_point from_ticks(std::uint64_t ticks) noexcept {
    return time_point(std::chrono::milliseconds(static_cast<std::int64_t>(ticks)));
  }

  void place(timer& t) noexcept {
    if (t.when_ <= now_) {
      t.bucket_ = overdue_index;
      lists_[overdue_index].push_back(t);
      return;
    }
    const unsigned highest_bit = 63u - static_cast<unsigned>(std::countl_zero(t.when_ ^ now_));
    const unsigned level = highest_bit / bits_per_level;
    const unsigned slot =
        static_cast<unsigned>(t.when_ >> (level * bits_per_level)) & (slots_per_level - 1);
    t.bucket_ = static_cast<std::uint16_t>(level * slots_per_level + slot);
    lists_[t.bucket_].push_back(t);
    occupied_[level] |= std::uint64_t{1} << slot;
  }

  // The tick of the next bucket to process, if any timer is on the wheel.
  std::optional<std::uint64_t> next_event() const noexcept {
    for (unsigned level = 0; level < levels; ++level) {
      if (occupied_[level] == 0) continue;
      const unsigned shift = level * bits_per_level;
      const unsigned slot = static_cast<unsigned>(std::countr_zero(occupied_[level]));
      assert(slot > ((now_ >> shift) & (slots_per_level - 1)) && "wheel invariant broken");
      const unsigned upper_shift = shift + bits_per_level;
      const std::uint64_t upper = upper_shift >= 64 ? 0 : (now_ >> upper_shift) << upper_shift;
      return upper | (std::uint64_t{slot} << shift);
    }
    return std::nullopt;
  }

  // now_ is the start of the earliest occupied bucket: empty it, firing or cascading its timers.
  std::size_t expire_bucket() noexcept {
    for (unsigned level = 0; level < levels; ++level) {
      if (occupied_[level] == 0) continue;
      const unsigned slot = static_cast<unsigned>(std::countr_zero(occupied_[level]));
      occupied_[level] &= ~(std::uint64_t{1} << slot);
      timer_list& bucket = lists_[level * slots_per_level + slot];
      timer_list& firing = lists_[firing_index];
      if (level == 0) {
        firing = std::move(bucket);  // one deadline per level-0 bucket: all due now
      } else {
        // Every timer here now agrees with now_ on digits >= level: each moves down (or fires).
        while (!bucket.empty()) {
          timer& t = bucket.front();
          bucket.pop_front();
          if (t.when_ == now_) {
            firing.push_back(t);
          } else {
            place(t);
          }
        }
      }
      for (timer& t : firing)
        t.bucket_ = firing_index;
      return run_firing();
    }
    return 0;
  }

  // Fires the firing list one timer at a time, unlinking each before its callback runs, so a
  // callback may cancel, re-arm or destroy any timer, this one included.
  std::size_t run_firing() noexcept {
    timer_list& firing = lists_[firing_index];
    std::size_t fired = 0;
    while (!firing.empty()) {
      timer& t = firing.front();
      firing.pop_front();
      --size_;
      ++fired;
      t.callback_();
    }
    return fired;
  }

  // After the timer's hook has been unlinked from bucket `index`.
  void on_cancel(std::uint16_t index) noexcept {
    --size_;
    if (index < wheel_slots && lists_[index].empty()) {
      occupied_[index / slots_per_level] &= ~(std::uint64_t{1} << (index % slots_per_level));
    }
  }

  const util::clock* clock_;
  std::uint64_t now_;  // the wheel's time, in ticks
  std::size_t size_ = 0;
  bool advancing_ = false;
  std::array<std::uint64_t, levels> occupied_{};
  std::array<timer_list, wheel_slots + 2> lists_;
};

inline bool timer::cancel() noexcept {
  if (!hook_.is_linked()) return false;
  hook_.unlink();
  wheel_->on_cancel(bucket_);
  return true;
}

}  // namespace uredis::reactor

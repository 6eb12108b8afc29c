#pragma once
// lock::machine: one distributed lock's protocol as a sans-I/O state machine. It decides what
// to send and when; the caller (lock/distributed_lock.hpp on a connection, or a test with a
// manual clock) sends it, feeds the replies back, and calls on_timer() at wake_at().
//
//   idle ──acquire──> acquiring ──won──> held ──release──> releasing ──> released
//     ^                  │  busy, and the wait is over        │  extend refused, or no
//     └──────────────────┘                                    │  extend succeeded in time
//                                                             v
//                                                           lost
//
// One command is in flight at a time, and what the machine wants next waits for its reply: a
// release asked for while an acquire or an extend is in flight is sent after that reply
// (and an acquire that won by then is released, so a caller who gave up never leaves the key
// behind until its ttl). So is an acquire that won too late to trust (answered after the
// validity it would have had) and one that got no answer at all (the connection gave up on
// it, or its timeout ran out: the script may have run); either fails the acquire.
//
// The commands (lock/scripts.hpp has their Lua):
//   acquire  SET name token NX [PX ttl], and on success INCR of the fencing counter, in one
//            script; answers the fencing token, or 0 when someone else holds the lock. It is
//            idempotent: a resend that finds our own token takes it (the ttl set again).
//   extend   compare-and-pexpire (the watchdog: to the full ttl; extend(): by or to `ms`);
//            answers the key's new PTTL, or 0 when the key is not ours any more.
//   release  compare-and-delete, publishing on the lock's channel; answers 1, or 0 when the
//            key was not ours.
//
// Time: every deadline is computed from when the command was handed out (take_command's
// `now`), never from when its reply came in, so `valid_until` errs on the safe side:
//   valid_until = sent + ttl - drift,   drift = ttl / 100 + 2 ms   (the Redlock page's)
// The watchdog extends at sent + renew_every (ttl / 3 by default), rounded down to a multiple
// of renew_batch on the steady clock: the renewals of a shard's locks that fall due within the
// same window fire in the same timer tick and go out in one send. An extend that fails with a
// connection error or an error reply is retried (every retry_max at most) until valid_until;
// past it the lock is lost: another client may hold it from there on.
//
// Waiting for a held lock: after a busy answer the next try is at a jittered delay in
// [retry_min, retry_max], or at once on on_released(), which the caller calls when the
// holder's release is published. The last try is made at the wait's deadline.

#include <chrono>
#include <cstdint>
#include <optional>
#include <system_error>

#include "uredis/result.hpp"
#include "uredis/util/clock.hpp"
#include "uredis/util/random.hpp"

namespace uredis::lock {

enum class lock_state : std::uint8_t { idle, acquiring, held, releasing, released, lost };

/// A name for `s` ("held"...), for logs and tools.
const char* to_string(lock_state s) noexcept;

/// How long to wait for a lock: no_wait tries once, wait_forever never gives up.
inline constexpr std::chrono::milliseconds no_wait{0};
inline constexpr std::chrono::milliseconds wait_forever = std::chrono::milliseconds::max();

struct lock_options {
  /// How long the server keeps the lock without an extend. Zero: no ttl, held until released,
  /// and no watchdog (redis-py's `timeout=None`).
  std::chrono::milliseconds ttl{10'000};
  /// The watchdog extends the lock to the full ttl this often while it is held. Zero: ttl / 3.
  std::chrono::milliseconds renew_every{0};
  /// Off: nothing extends the lock but extend() (redis-py's behaviour).
  bool watchdog = true;
  /// The bounds of the jittered delay between tries while waiting (the release notice usually
  /// comes first); retry_max also spaces the retries of a failed extend or release.
  std::chrono::milliseconds retry_min{10};
  std::chrono::milliseconds retry_max{100};
  /// Seeds the jitter; 0 picks a seed from the clock.
  std::uint64_t seed = 0;
};

/// The window renewals are aligned to (rounded down, never later), so a shard's watchdog
/// extends share sends; smaller for short ttls, a quarter of the renewal period at most.
inline constexpr std::chrono::milliseconds renew_batch{10};

/// The margin valid_until keeps below the server's expiry: clock drift and the delay before a
/// command reaches the server (the Redlock page's rule).
constexpr std::chrono::milliseconds clock_drift(std::chrono::milliseconds ttl) noexcept {
  return ttl / 100 + std::chrono::milliseconds(2);
}

class machine {
 public:
  using time_point = util::clock::time_point;

  enum class command : std::uint8_t { none, acquire, extend, release };

  explicit machine(const lock_options& options);

  lock_state state() const noexcept { return state_; }
  const lock_options& options() const noexcept { return options_; }
  /// Whether the lock is held (by the machine's own account: valid_until has not passed).
  bool held() const noexcept { return state_ == lock_state::held; }
  /// The fencing token of the current (or last) acquisition; 0 before the first.
  std::uint64_t fencing_token() const noexcept { return fence_; }
  /// Until when the lock is surely ours (time_point::max() without a ttl).
  time_point valid_until() const noexcept { return valid_until_; }
  /// What is in flight (none when nothing is).
  command in_flight() const noexcept { return in_flight_; }

  // ---- what the caller asks ----

  /// Starts acquiring; `wait` is no_wait, a duration, or wait_forever. Precondition: state()
  /// is idle, released or lost.
  void acquire(time_point now, std::chrono::milliseconds wait) noexcept;
  /// Stops waiting at once: the acquire completes with false (and if an acquire in flight
  /// wins, it is released).
  void cancel_acquire() noexcept;
  /// Releases (or, while acquiring, gives up and releases what the acquire in flight may win).
  /// Precondition: state() is acquiring, held or lost.
  void release() noexcept;
  /// Extends the held lock: to `ms` (replace) or by `ms`. Precondition: state() is held.
  void extend(std::chrono::milliseconds ms, bool replace) noexcept;

  // ---- what happened ----

  /// The holder published its release: a waiting acquire tries again now.
  void on_released() noexcept;
  /// The reply to the command in flight: an integer, or why there is none.
  void on_reply(time_point now, const result<std::int64_t>& reply) noexcept;
  /// Time passed: call at (or after) wake_at().
  void on_timer(time_point now) noexcept;

  // ---- what to do ----

  /// The command to send now, marked in flight and sent at `now`; none when nothing is due or
  /// a command is already in flight.
  command take_command(time_point now) noexcept;
  /// The arguments of the command take_command() returned: the ttl (acquire) or the extend's
  /// milliseconds and whether they replace the ttl.
  std::chrono::milliseconds command_ms() const noexcept { return command_ms_; }
  bool command_replaces() const noexcept { return command_replace_; }
  /// When on_timer() must run next, if anything waits for time.
  std::optional<time_point> wake_at() const noexcept;

  /// The acquire's outcome once it is decided: true (held), false (not in time), or an error.
  std::optional<result<bool>> take_acquire_result() noexcept;
  /// The outcome of release() (success; errc::lock_not_owned when the key was not ours), and
  /// of extend() (the same).
  std::optional<result<void>> take_release_result() noexcept;
  std::optional<result<void>> take_extend_result() noexcept;
  /// Why a held lock was lost, once: errc::lock_not_owned (the key expired or changed hands)
  /// or the error that kept every extend from the server until valid_until.
  std::optional<std::error_code> take_lost() noexcept;

 private:
  void on_acquire_reply(time_point now, const result<std::int64_t>& reply) noexcept;
  void on_extend_reply(time_point now, const result<std::int64_t>& reply) noexcept;
  void on_release_reply(time_point now, const result<std::int64_t>& reply) noexcept;
  void hold(time_point sent, std::chrono::milliseconds pttl) noexcept;
  void lose(std::error_code why) noexcept;
  void give_back() noexcept;
  void finish_acquire(result<bool> outcome) noexcept;
  std::chrono::milliseconds renew_every() const noexcept;
  time_point renewal_after(time_point sent) const noexcept;
  std::chrono::milliseconds jitter() noexcept;

  lock_options options_;
  util::rng rng_;
  lock_state state_ = lock_state::idle;
  command in_flight_ = command::none;
  command command_ = command::none;  // what take_command() hands out next (due at next_at_)
  time_point next_at_{};
  time_point sent_at_{};
  time_point wait_until_{};
  time_point valid_until_{};
  std::chrono::milliseconds command_ms_{0};
  bool command_replace_ = true;
  std::uint64_t fence_ = 0;

  bool release_wanted_ = false;    // release() during an acquire or an extend in flight
  bool manual_extend_ = false;     // extend() asked for one, not sent yet
  bool in_flight_manual_ = false;  // the extend in flight is extend()'s
  std::chrono::milliseconds extend_ms_{0};
  bool extend_replace_ = true;
  bool retry_now_ = false;  // a release was published while an acquire was in flight
  std::uint32_t release_sends_ = 0;
  std::error_code last_extend_error_;

  std::optional<result<bool>> acquire_result_;
  std::optional<result<void>> release_result_;
  std::optional<result<void>> extend_result_;
  std::optional<std::error_code> lost_;
};

}  // namespace uredis::lock

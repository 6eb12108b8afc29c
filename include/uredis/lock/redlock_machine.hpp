#pragma once
// lock::redlock_machine: the Redlock protocol over N independent masters as a sans-I/O state
// machine (lock/redlock.hpp drives it on N connections; tests drive it with a manual clock).
// It hands out (instance, command) pairs, takes each instance's integer reply, and decides.
//
// Rounds. Every step is a round: one command of one kind sent to all N instances at once,
// finished when each instance has answered or its per-instance timeout has passed (a late
// reply is ignored: take_command's `seq` names the send it answers). A new round supersedes
// the one before it; the replies of the old one are then ignored too. The commands are
// lock::machine's (lock/scripts.hpp), with one token for every instance:
//   acquire  answers that instance's fencing counter, or 0 when another token holds the key
//   extend   answers the key's new PTTL, or 0 when the key is not ours there
//   release  compare-and-delete: 1, or 0 when the key was not ours there
//
//   idle ──acquire──> acquiring ──quorum in time──> held ──release──> releasing ──> released
//                      │ ^ missed: release on all,     │ extends fail until valid_until,
//                      │ └ retry at a jittered delay   │ or a quorum answers "not ours"
//                      v   until the wait is over      v
//                    idle (false, or an error)        lost
//
// Acquire: a round of acquires; with wins on a quorum (N/2 + 1) and
//   validity = ttl - (now - round start) - drift > 0        (drift: lock::clock_drift)
// the lock is held until round start + ttl - drift. Otherwise a round of releases goes to all
// N instances (the ones that answered busy or timed out too: a timed-out acquire may have
// won, and compare-and-delete cannot hurt another owner), and the next attempt follows at a
// jittered delay in [retry_min, retry_max], the last one at the wait's deadline. Only when
// every instance answered busy is that release round skipped: nothing of ours is anywhere.
// The acquire outcome is decided after that release round, so a caller who hears "false" finds
// no key of its own on any live instance. It is false when the last attempt was refused by
// enough instances to deny a quorum (someone else holds the lock), and an error when the last
// attempt could not reach a quorum of instances at all (the first unreachable instance's
// error: errc::timeout, a connection error...).
//
// Fencing: the token is the largest counter among the winning instances' answers (see
// lock/redlock.hpp for what that does and does not promise).
//
// Watchdog: a round of full-ttl extends every renew_every (ttl / 3) from the acquire round's
// start. With a quorum of successes, valid_until = round start + (the quorum-th largest PTTL
// answered) - drift. When so many instances answer "not ours" that no quorum is left, the lock
// is lost at once (errc::lock_not_owned); failures and timeouts retry the round every
// retry_max until valid_until, when the lock is lost (the last failure's error, or
// errc::timeout). extend() is one such round with the caller's milliseconds.
//
// Release: a round of releases on all N; each is sent once (a failed one leaves a key that
// expires within the ttl). It completes with success when the lock was held by this
// machine's account or any instance deleted our key, else with errc::lock_not_owned.
//
// Instance counts that are even or below 3 are refused: acquire completes with
// std::errc::invalid_argument.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <system_error>
#include <vector>

#include "uredis/lock/machine.hpp"
#include "uredis/result.hpp"
#include "uredis/util/clock.hpp"
#include "uredis/util/random.hpp"

namespace uredis::lock {

/// The per-instance timeout Redlock uses unless told otherwise: short next to a ttl, so a dead
/// instance costs an attempt this much at most.
inline constexpr std::chrono::milliseconds default_instance_timeout{50};

class redlock_machine {
 public:
  using time_point = util::clock::time_point;
  using command = machine::command;

  /// One command to send: to `instance`, with `seq` to hand back with its reply.
  struct send {
    std::size_t instance = 0;
    command what = command::none;
    std::uint64_t seq = 0;
    /// acquire: the ttl; extend: the milliseconds, replacing the ttl or added to it.
    std::chrono::milliseconds ms{0};
    bool replace = true;
  };

  /// Whether Redlock accepts `n` instances: odd, and at least 3.
  static constexpr bool valid_instance_count(std::size_t n) noexcept {
    return n >= 3 && n % 2 == 1;
  }

  redlock_machine(std::size_t instances, const lock_options& options,
                  std::chrono::milliseconds instance_timeout = default_instance_timeout);

  std::size_t instances() const noexcept { return slots_.size(); }
  std::size_t quorum() const noexcept { return slots_.size() / 2 + 1; }
  lock_state state() const noexcept { return state_; }
  bool held() const noexcept { return state_ == lock_state::held; }
  const lock_options& options() const noexcept { return options_; }
  std::chrono::milliseconds instance_timeout() const noexcept { return instance_timeout_; }
  /// The fencing token of the current (or last) acquisition: the largest counter a winning
  /// instance answered; 0 before the first.
  std::uint64_t fencing_token() const noexcept { return fence_; }
  /// Until when a quorum surely holds the lock (time_point::max() without a ttl).
  time_point valid_until() const noexcept { return valid_until_; }
  /// Whether a command of the current round is still awaited from instance `i`.
  bool awaiting(std::size_t i) const noexcept { return slots_[i].waiting; }

  // ---- what the caller asks ----

  /// Starts acquiring; `wait` is no_wait, a duration, or wait_forever. Precondition: state()
  /// is idle, released or lost.
  void acquire(time_point now, std::chrono::milliseconds wait) noexcept;
  /// Stops waiting: the acquire completes with false, and anything its round may have won is
  /// released (state releasing, then idle).
  void cancel_acquire(time_point now) noexcept;
  /// Releases on all instances (while acquiring: gives up, as cancel_acquire, and releases).
  void release(time_point now) noexcept;
  /// Extends the held lock on all instances: to `ms` (replace) or by `ms`.
  void extend(time_point now, std::chrono::milliseconds ms, bool replace) noexcept;

  // ---- what happened ----

  /// Instance `instance` answered the send numbered `seq`.
  void on_reply(time_point now, std::size_t instance, std::uint64_t seq,
                const result<std::int64_t>& reply) noexcept;
  /// Time passed: call at (or after) wake_at().
  void on_timer(time_point now) noexcept;

  // ---- what to do ----

  /// The next command to send now (call until nullopt); it counts as sent at `now`.
  std::optional<send> take_command(time_point now) noexcept;
  /// When on_timer() must run next, if anything waits for time.
  std::optional<time_point> wake_at() const noexcept;

  std::optional<result<bool>> take_acquire_result() noexcept;
  std::optional<result<void>> take_release_result() noexcept;
  std::optional<result<void>> take_extend_result() noexcept;
  std::optional<std::error_code> take_lost() noexcept;

 private:
  enum class phase : std::uint8_t { none, acquiring, cleanup, retry_wait, held, extending };
  enum class answer : std::uint8_t { none, yes, no, failed };
  struct slot {
    std::uint64_t seq = 0;
    time_point deadline{};
    std::int64_t value = 0;
    std::error_code error;
    answer got = answer::none;
    bool to_send = false;
    bool waiting = false;
  };

  void start_round(time_point now, command c) noexcept;
  void record(std::size_t i, answer a, std::int64_t value, std::error_code error) noexcept;
  void finish_round(time_point now) noexcept;
  void finish_acquire_round(time_point now) noexcept;
  void finish_extend_round(time_point now) noexcept;
  void finish_release_round() noexcept;
  void after_failed_attempt(time_point now) noexcept;
  void hold() noexcept;
  void lose(std::error_code why) noexcept;
  void start_release(time_point now, bool was_held, bool report) noexcept;
  std::size_t count(answer a) const noexcept;
  std::error_code first_failure() const noexcept;
  std::chrono::milliseconds renew_every() const noexcept;
  std::chrono::milliseconds jitter() noexcept;

  lock_options options_;
  std::chrono::milliseconds instance_timeout_;
  util::rng rng_;
  std::vector<slot> slots_;
  lock_state state_ = lock_state::idle;
  phase phase_ = phase::none;
  command round_ = command::none;
  std::size_t round_open_ = 0;  // slots of the round not answered yet
  time_point round_started_{};
  time_point attempt_started_{};
  time_point wait_until_{};
  time_point next_at_{};  // the next attempt (retry_wait) or watchdog round (held)
  time_point valid_until_{};
  std::uint64_t next_seq_ = 1;
  std::uint64_t fence_ = 0;
  std::optional<result<bool>> attempt_outcome_;  // a failed attempt's, until its cleanup ends

  bool release_report_ = false;  // the release round in flight answers release()
  bool release_was_held_ = false;
  bool manual_pending_ = false;  // extend() asked for, its round not started yet
  bool round_manual_ = false;    // the extend round in flight is extend()'s
  std::chrono::milliseconds extend_ms_{0};
  bool extend_replace_ = true;
  std::chrono::milliseconds round_ms_{0};
  bool round_replace_ = true;
  std::error_code last_extend_error_;

  std::optional<result<bool>> acquire_result_;
  std::optional<result<void>> release_result_;
  std::optional<result<void>> extend_result_;
  std::optional<std::error_code> lost_;
};

}  // namespace uredis::lock

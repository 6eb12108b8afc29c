#pragma once
// redlock: a lock over N independent Redis masters (the Redlock algorithm), opt-in beside the
// single-server distributed_lock. Same scripts, same key layout, same token on every master.
//
//   uredis::connection a{loop, ca}, b{loop, cb}, c{loop, cc};  // one reactor, N masters
//   uredis::lock::redlock l{{a, b, c}, "orders", {.ttl = 10s}};  // per-instance timeout 50 ms
//   if (auto got = co_await l.acquire(5s); got && *got) {       // result<bool>
//     write(l.fencing_token(), ...);
//     co_await l.release();                                      // result<void>
//   }
//
// The protocol is lock::redlock_machine's (lock/redlock_machine.hpp: rounds, quorum, when the
// acquire answers false and when an error); this class sends its commands on the N
// connections (each with the per-instance timeout as its deadline), arms one timer on the
// reactor's wheel, and hands outcomes to callers. The callback and coroutine API, the
// watchdog, on_lost with event::lock_lost, and the lifetime rules are distributed_lock's.
// Waiting retries on a jittered timer in [retry_min, retry_max]: there is no wake-up by
// release notice (each master publishes one, but a subscription per master costs more than
// Redlock's use deserves; a jittered retry is what the Redlock description asks for).
//
// What Redlock promises, and what it does not:
//   - Mutual exclusion while valid_until() has not passed, provided the masters fail
//     independently, keep their data across restarts (or stay down for a ttl after a restart:
//     a master restarted without persistence has forgotten our key and may grant it to
//     another), clocks on every machine run at about the same rate (valid_until() keeps
//     lock::clock_drift below the ttl for that), and this process is not paused past
//     valid_until() without noticing (a GC-like pause, swapping, a stopped VM). No algorithm
//     over expiring keys can promise more; the fencing token is for the rest.
//   - validity = ttl - (time the acquire round took) - drift: a slow round leaves less of
//     the ttl, and a round slower than ttl - drift is no acquisition at all (released, retried).
//   - A dead master costs an attempt its per-instance timeout, no more: with N = 5 and two
//     masters down the lock still works, with three down acquire() fails (an error, see the
//     machine) and leaves no key of ours on the live ones.
//
// Fencing across N masters: every master keeps its own counter (the acquire script's INCR of
// fence_key(name) there), and the Redlock fencing token is the largest counter the winning
// quorum answered. The counters are independent and diverge: an attempt that won on a minority
// and was released incremented those counters only, and a master that was down missed every
// increment meanwhile. What holds: for two acquisitions A then B, their quorums share a master
// M (any two majorities of N intersect), and on M B's counter is larger than A's, so B's token
// exceeds A's counter on M. B's token exceeds A's token whenever A's largest counter came from
// a master that is also in B's quorum, which is the usual case (all masters up, counters
// moving together) but not a guarantee: A may have taken its maximum from a master that ran
// ahead (contenders winning it alone again and again) and B may win on a quorum without it, and
// then B's token is smaller than A's. Treat the token as strictly increasing only while the
// same majority of masters stays up and keeps its data; a master restarted without persistence
// starts its counter again at 0 (which the max over a quorum masks only while the other
// quorum members are ahead of it). For a fencing guarantee that survives all of this, use one
// fencing source (distributed_lock's token on a single, replicated counter) instead.
//
// Errors: fewer than 3 connections, or an even number, make acquire() complete with
// std::errc::invalid_argument; so does a name whose fence key cannot share its slot. acquire()
// while acquiring, held or releasing completes with std::errc::operation_in_progress. release()
// or extend() of a lock not held: errc::lock_not_owned.
//
// Ownership: the connections must all run on the same reactor and outlive the lock; closing
// one ends any background work on it. Not movable. Destroying the lock (or a coroutine
// awaiting it) mid-acquire or while held releases on all masters in the background.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "uredis/client/connection.hpp"
#include "uredis/lock/distributed_lock.hpp"
#include "uredis/lock/redlock_machine.hpp"
#include "uredis/result.hpp"

namespace uredis::lock {

namespace detail {
class redlock_core;
}

class redlock {
 public:
  /// A Redlock named `name` over `masters` (odd, at least 3; one connection per master, all on
  /// one reactor), each command to a master bounded by `instance_timeout`.
  redlock(std::vector<std::reference_wrapper<connection>> masters, std::string name,
          lock_options options = {},
          std::chrono::milliseconds instance_timeout = default_instance_timeout);
  /// Stops waiting, and releases on all masters if held (in the background); no callback runs.
  ~redlock();
  redlock(const redlock&) = delete;
  redlock& operator=(const redlock&) = delete;

  /// Acquires on a quorum, trying until `wait` is over (no_wait: one attempt; wait_forever).
  /// `done(true)` when held, `done(false)` when refused (another holds it) or cancelled, an
  /// error when the last attempt could not reach a quorum of masters.
  void acquire(std::chrono::milliseconds wait, acquire_callback done);
  /// Stops a waiting acquire: it completes with false.
  void cancel_acquire();
  /// Releases on all masters: success, or errc::lock_not_owned when it was not held.
  void release(done_callback done);
  /// Extends on all masters by `ms`, or to `ms` when `replace_ttl`; success when a quorum did.
  void extend(std::chrono::milliseconds ms, bool replace_ttl, done_callback done);
  /// Extends to the full ttl again.
  void reacquire(done_callback done);
  /// Runs `f(reason)` each time a held lock is lost.
  void on_lost(lost_callback f);

  // The coroutine API: `co_await l.acquire(wait)` -> result<bool>; the others -> result<void>.
  auto acquire(std::chrono::milliseconds wait) { return awaiter<bool>(acquire_op{this, wait}); }
  auto release() { return awaiter<void>(release_op{this}); }
  auto extend(std::chrono::milliseconds ms, bool replace_ttl) {
    return awaiter<void>(extend_op{this, ms, replace_ttl});
  }
  auto reacquire() { return extend(options().ttl, true); }

  lock_state state() const noexcept;
  bool owned() const noexcept { return state() == lock_state::held; }
  /// The Redlock fencing token (see above): the largest counter the winning quorum answered.
  std::uint64_t fencing_token() const noexcept;
  /// The token every master's key holds while this owner has it.
  std::string_view token() const noexcept;
  util::clock::time_point valid_until() const noexcept;
  const std::string& name() const noexcept;
  const lock_options& options() const noexcept;
  std::size_t masters() const noexcept;
  std::size_t quorum() const noexcept;

 private:
  struct acquire_op {
    redlock* lock;
    std::chrono::milliseconds wait;
    void start(acquire_callback done) { lock->acquire(wait, std::move(done)); }
    void forget() { lock->forget(true); }
  };
  struct release_op {
    redlock* lock;
    void start(done_callback done) { lock->release(std::move(done)); }
    void forget() { lock->forget(false); }
  };
  struct extend_op {
    redlock* lock;
    std::chrono::milliseconds ms;
    bool replace;
    void start(done_callback done) { lock->extend(ms, replace, std::move(done)); }
    void forget() { lock->forget(false); }
  };
  template <class T, class Op>
  static detail::op_awaiter<T, Op> awaiter(Op op) {
    return detail::op_awaiter<T, Op>(op);
  }

  void forget(bool acquiring) noexcept;

  detail::redlock_core* core_;  // outlives this while it has work in flight
};

}  // namespace uredis::lock

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
#include "uredis/lock/basic_lock.hpp"
#include "uredis/lock/redlock_machine.hpp"
#include "uredis/result.hpp"

namespace uredis::lock {

class redlock : public basic_lock {
 public:
  /// A Redlock named `name` over `masters` (odd, at least 3; one connection per master, all on
  /// one reactor), each command to a master bounded by `instance_timeout`.
  redlock(std::vector<std::reference_wrapper<connection>> masters, std::string name,
          lock_options options = {},
          std::chrono::milliseconds instance_timeout = default_instance_timeout);

  // acquire(): on a quorum, trying until `wait` is over; `done(false)` when refused (another
  // holds it) or cancelled, an error when the last attempt could not reach a quorum of
  // masters. release() and extend() act on all masters (extend succeeds when a quorum did).
  // fencing_token(): the largest counter the winning quorum answered (see above).

  std::size_t masters() const noexcept { return masters_; }
  std::size_t quorum() const noexcept { return masters_ / 2 + 1; }

 private:
  std::size_t masters_;
};

}  // namespace uredis::lock

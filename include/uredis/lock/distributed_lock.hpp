#pragma once
// distributed_lock: a Redis lock on one shard's connection, with a watchdog and fencing tokens.
//
//   uredis::lock::wakeups wake{conn};                      // one per shard (lock/wakeups.hpp)
//   uredis::lock::distributed_lock l{conn, "orders", {.ttl = 10s}, &wake};
//   if (auto got = co_await l.acquire(5s); got && *got) {  // result<bool>: held, or not in time
//     fence = l.fencing_token();                          // strictly increasing per name
//     ... the work, passing `fence` to whatever the lock protects ...
//     co_await l.release();                               // result<void>
//   }
//   l.acquire(uredis::lock::no_wait, [](uredis::result<bool> got) { ... });  // callbacks too
//
// The protocol is lock::machine's (lock/machine.hpp: states, timing, what is sent when); this
// class sends its commands on the connection, arms its timer on the shard's wheel, and hands
// outcomes to callers. The key is what redis-py's Lock writes (`name` holding the token, with
// a PX ttl), so both exclude each other on the same name (lock/scripts.hpp).
//
// Guarantees, and their limits:
//   - Waiting never blocks the thread: it is a timer and a subscription (with `wake`; without
//     one, only the jittered retry timer). A handoff costs about one round trip after the
//     holder's release reaches the server.
//   - While held, the watchdog extends the key to the full ttl every ttl/3 (batched with the
//     shard's other commands in one send). If an extend finds the key gone or another's, or
//     none reaches the server before valid_until(), the lock is lost: on_lost's callback runs
//     and event::lock_lost is emitted. valid_until() is computed from send times with a drift
//     margin, so it passes before the server's expiry would let anyone else in — provided
//     this process is not paused and clocks run at about the same rate (no lock service can
//     promise more; that is what the fencing token is for).
//   - Every acquisition returns a fencing token: an INCR of a counter beside the key, in the
//     acquire's own script. A protected resource that remembers the largest token it has seen
//     and refuses smaller ones cannot be corrupted by a holder that lost the lock unknowingly.
//   - release() never deletes another owner's lock (compare-and-delete), is resent when the
//     connection failed under it, and does not depend on the caller: destroying the lock (or
//     the coroutine awaiting it) mid-acquire or while held releases in the background.
//
// Errors: release() or extend() of a lock this owner does not hold completes with
// errc::lock_not_owned (redis-py's LockNotOwnedError; blocking_lock throws it). acquire() while
// already acquiring, held or releasing completes with std::errc::operation_in_progress; a name
// whose fence key cannot share its slot with std::errc::invalid_argument. A waiting acquire
// ends with the connection's error only when the connection gives up: the session resends an
// acquire across reconnects by itself (it is idempotent), as its retry policy says.
//
// The operations and the lock's state are basic_lock's (lock/basic_lock.hpp), shared with
// redlock.
//
// Ownership: the connection (and `wake`) must outlive the lock, and the lock every co_await on
// it; closing the connection ends any background release. Everything runs on the connection's
// shard's thread. Not movable.
// Cost: an acquire/extend/release cycle allocates nothing once the connection's buffers have
// grown (the token is made in place, the scripts are EVALSHA calls).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "uredis/client/connection.hpp"
#include "uredis/lock/basic_lock.hpp"
#include "uredis/lock/machine.hpp"
#include "uredis/lock/scripts.hpp"
#include "uredis/result.hpp"
#include "uredis/util/inline_function.hpp"

namespace uredis::lock {

class wakeups;

class distributed_lock : public basic_lock {
 public:
  /// A lock named `name` on `conn`. `wake` (optional) wakes a waiting acquire on a release.
  distributed_lock(connection& conn, std::string name, lock_options options = {},
                   wakeups* wake = nullptr);

  /// Asks the server whether anyone holds the lock (EXISTS name).
  void locked(util::inline_function<void(result<bool>), 32> done);
  /// Asks the server how long the lock's key has left (PTTL name), whoever holds it: nullopt
  /// when nobody does, milliseconds::max() for a lock without ttl.
  using remaining_callback =
      util::inline_function<void(result<std::optional<std::chrono::milliseconds>>), 32>;
  void remaining_ttl(remaining_callback done);

  /// The fencing counter's key (scripts.hpp: fence_key).
  std::string fence_key() const { return lock::fence_key(name()); }

 private:
  connection* conn_;
};

}  // namespace uredis::lock

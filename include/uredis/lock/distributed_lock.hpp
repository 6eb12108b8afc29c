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
// Ownership: the connection (and `wake`) must outlive the lock; closing the connection ends
// any background release. Everything runs on the connection's shard's thread. Not movable.
// Cost: an acquire/extend/release cycle allocates nothing once the connection's buffers have
// grown (the token is made in place, the scripts are EVALSHA calls).

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "uredis/client/connection.hpp"
#include "uredis/lock/machine.hpp"
#include "uredis/result.hpp"
#include "uredis/util/inline_function.hpp"

namespace uredis::lock {

class wakeups;

using acquire_callback = util::inline_function<void(result<bool>), 32>;
using done_callback = util::inline_function<void(result<void>), 32>;
using lost_callback = util::inline_function<void(std::error_code), 32>;

namespace detail {
class lock_core;

/// `co_await` on one lock operation: starts it when suspended, resumes with its result.
/// Destroyed before the result (the coroutine was destroyed): the lock forgets the caller and
/// finishes on its own (an acquire is cancelled, and a win released).
template <class T, class Op>
class [[nodiscard]] op_awaiter {
 public:
  explicit op_awaiter(Op op) noexcept : op_(std::move(op)) {}
  op_awaiter(const op_awaiter&) = delete;
  op_awaiter& operator=(const op_awaiter&) = delete;
  ~op_awaiter() {
    if (started_ && !outcome_) op_.forget();
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> awaiting) {
    awaiting_ = awaiting;
    starting_ = started_ = true;
    op_.start([this](result<T> r) {
      outcome_.emplace(std::move(r));
      if (!starting_) awaiting_.resume();
    });
    starting_ = false;
    return !outcome_.has_value();
  }
  result<T> await_resume() { return std::move(*outcome_); }

 private:
  Op op_;
  std::coroutine_handle<> awaiting_;
  std::optional<result<T>> outcome_;
  bool starting_ = false;
  bool started_ = false;
};
}  // namespace detail

class distributed_lock {
 public:
  /// A lock named `name` on `conn`. `wake` (optional) wakes a waiting acquire on a release.
  distributed_lock(connection& conn, std::string name, lock_options options = {},
                   wakeups* wake = nullptr);
  /// Stops waiting, and releases the lock if held (in the background); no callback runs.
  ~distributed_lock();
  distributed_lock(const distributed_lock&) = delete;
  distributed_lock& operator=(const distributed_lock&) = delete;

  /// Acquires, waiting up to `wait` (no_wait: one try; wait_forever). `done(true)` when held,
  /// `done(false)` when not in time or cancel_acquire() was called, or an error.
  void acquire(std::chrono::milliseconds wait, acquire_callback done);
  /// Stops a waiting acquire: it completes with false.
  void cancel_acquire();
  /// Releases: `done` with success, or errc::lock_not_owned when the key was not ours.
  void release(done_callback done);
  /// Extends the held lock by `ms`, or to `ms` when `replace_ttl` (redis-py's extend).
  void extend(std::chrono::milliseconds ms, bool replace_ttl, done_callback done);
  /// Extends the held lock to its full ttl again (redis-py's reacquire).
  void reacquire(done_callback done);
  /// Runs `f(reason)` each time a held lock is lost (see above).
  void on_lost(lost_callback f);

  // The coroutine API: `co_await l.acquire(wait)` -> result<bool>; the others -> result<void>.
  auto acquire(std::chrono::milliseconds wait) { return awaiter<bool>(acquire_op{this, wait}); }
  auto release() { return awaiter<void>(release_op{this}); }
  auto extend(std::chrono::milliseconds ms, bool replace_ttl) {
    return awaiter<void>(extend_op{this, ms, replace_ttl});
  }
  auto reacquire() { return extend(options().ttl, true); }

  /// Asks the server whether anyone holds the lock (EXISTS name).
  void locked(util::inline_function<void(result<bool>), 32> done);
  /// Asks the server how long the lock's key has left (PTTL name), whoever holds it: nullopt
  /// when nobody does, milliseconds::max() for a lock without ttl.
  using remaining_callback =
      util::inline_function<void(result<std::optional<std::chrono::milliseconds>>), 32>;
  void remaining_ttl(remaining_callback done);

  lock_state state() const noexcept;
  /// Held by this owner, by its own account (valid_until() has not passed).
  bool owned() const noexcept { return state() == lock_state::held; }
  /// The fencing token of the current (or last) acquisition; 0 before the first.
  std::uint64_t fencing_token() const noexcept;
  /// The token the key holds while this owner has it.
  std::string_view token() const noexcept;
  /// Until when the lock is surely held (time_point::max() with no ttl).
  util::clock::time_point valid_until() const noexcept;
  const std::string& name() const noexcept;
  /// The fencing counter's key.
  const std::string& fence_key() const noexcept;
  const lock_options& options() const noexcept;

 private:
  struct acquire_op {
    distributed_lock* lock;
    std::chrono::milliseconds wait;
    void start(acquire_callback done) { lock->acquire(wait, std::move(done)); }
    void forget() { lock->forget(true); }
  };
  struct release_op {
    distributed_lock* lock;
    void start(done_callback done) { lock->release(std::move(done)); }
    void forget() { lock->forget(false); }
  };
  struct extend_op {
    distributed_lock* lock;
    std::chrono::milliseconds ms;
    bool replace;
    void start(done_callback done) { lock->extend(ms, replace, std::move(done)); }
    void forget() { lock->forget(false); }
  };
  template <class T, class Op>
  static detail::op_awaiter<T, Op> awaiter(Op op) {
    return detail::op_awaiter<T, Op>(op);
  }

  // A coroutine waiting on the lock was destroyed: drop its callbacks (cancelling an acquire).
  void forget(bool acquiring) noexcept;

  detail::lock_core* core_;  // outlives this while it has work in flight
};

}  // namespace uredis::lock

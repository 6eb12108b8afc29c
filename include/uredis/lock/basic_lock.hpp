#pragma once
// basic_lock: what every lock handle offers — distributed_lock (one server) and redlock (N
// masters) — over a core that does the work: the callback API, the coroutine API and the
// lock's state. The handle owns its core until the handle is destroyed; from then on the core
// finishes what it has in flight (a release, a try to give back) and frees itself.
//
//   l.acquire(wait, [](uredis::result<bool> got) { ... });      // callbacks
//   uredis::result<bool> got = co_await l.acquire(wait);         // coroutines
//
// A coroutine destroyed while it awaits an operation does not leave it behind: the lock
// forgets the caller and finishes on its own (an acquire is cancelled, and a win released).

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "uredis/lock/machine.hpp"
#include "uredis/result.hpp"
#include "uredis/util/clock.hpp"
#include "uredis/util/inline_function.hpp"

namespace uredis::lock {

using acquire_callback = util::inline_function<void(result<bool>), 32>;
using done_callback = util::inline_function<void(result<void>), 32>;
using lost_callback = util::inline_function<void(std::error_code), 32>;

namespace detail {

/// What a handle drives: the single-server core and the Redlock core each implement it (in
/// src/lock/). A virtual call costs nothing beside the round trips every operation makes.
class lock_core {
 public:
  virtual void acquire(std::chrono::milliseconds wait, acquire_callback done) = 0;
  virtual void cancel_acquire() = 0;
  virtual void release(done_callback done) = 0;
  virtual void extend(std::chrono::milliseconds ms, bool replace_ttl, done_callback done) = 0;
  virtual void on_lost(lost_callback f) = 0;
  /// A coroutine awaiting the lock was destroyed: drop its callbacks (cancelling an acquire).
  virtual void forget(bool acquiring) noexcept = 0;
  /// The handle is gone: no callback runs any more, nothing stays held, and the core frees
  /// itself once its work in flight is over.
  virtual void detach() noexcept = 0;

  virtual lock_state state() const noexcept = 0;
  virtual std::uint64_t fencing_token() const noexcept = 0;
  virtual std::string_view token() const noexcept = 0;
  virtual util::clock::time_point valid_until() const noexcept = 0;
  /// The clock the lock's validity is measured on (its reactor's).
  virtual util::clock::time_point now() const noexcept = 0;
  virtual const std::string& name() const noexcept = 0;
  virtual const lock_options& options() const noexcept = 0;

 protected:
  ~lock_core() = default;  // a core deletes itself (detach)
};

/// `co_await` on one lock operation: starts it when suspended, resumes with its result.
template <class T, class Op>
class [[nodiscard]] op_awaiter {
 public:
  explicit op_awaiter(Op op) noexcept : op_(std::move(op)) {}
  op_awaiter(const op_awaiter&) = delete;
  op_awaiter& operator=(const op_awaiter&) = delete;
  ~op_awaiter() {
    if (started_ && !outcome_) op_.core->forget(Op::acquiring);
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

class basic_lock {
 public:
  basic_lock(const basic_lock&) = delete;
  basic_lock& operator=(const basic_lock&) = delete;

  /// Acquires, trying until `wait` is over (no_wait: one try; wait_forever). `done(true)` when
  /// held, `done(false)` when not in time or cancel_acquire() was called, or an error.
  void acquire(std::chrono::milliseconds wait, acquire_callback done) {
    core_->acquire(wait, std::move(done));
  }
  /// Stops a waiting acquire: it completes with false.
  void cancel_acquire() { core_->cancel_acquire(); }
  /// Releases: `done` with success, or errc::lock_not_owned when the key was not ours.
  void release(done_callback done) { core_->release(std::move(done)); }
  /// Extends the held lock by `ms`, or to `ms` when `replace_ttl` (redis-py's extend).
  void extend(std::chrono::milliseconds ms, bool replace_ttl, done_callback done) {
    core_->extend(ms, replace_ttl, std::move(done));
  }
  /// Extends the held lock to its full ttl again (redis-py's reacquire).
  void reacquire(done_callback done) { extend(options().ttl, true, std::move(done)); }
  /// Runs `f(reason)` each time a held lock is lost; event::lock_lost is emitted too.
  void on_lost(lost_callback f) { core_->on_lost(std::move(f)); }

  // The coroutine API: `co_await l.acquire(wait)` -> result<bool>; the others -> result<void>.
  auto acquire(std::chrono::milliseconds wait) {
    return detail::op_awaiter<bool, acquire_op>(acquire_op{core_, wait});
  }
  auto release() { return detail::op_awaiter<void, release_op>(release_op{core_}); }
  auto extend(std::chrono::milliseconds ms, bool replace_ttl) {
    return detail::op_awaiter<void, extend_op>(extend_op{core_, ms, replace_ttl});
  }
  auto reacquire() { return extend(options().ttl, true); }

  lock_state state() const noexcept { return core_->state(); }
  /// Held by this owner, by its own account: held, and valid_until() has not passed (also
  /// when the reactor has not run since, so its timer has not declared the lock lost yet).
  bool owned() const noexcept {
    return state() == lock_state::held && core_->now() < valid_until();
  }
  /// The fencing token of the current (or last) acquisition; 0 before the first.
  std::uint64_t fencing_token() const noexcept { return core_->fencing_token(); }
  /// The token the key holds while this owner has it.
  std::string_view token() const noexcept { return core_->token(); }
  /// Until when the lock is surely held (time_point::max() with no ttl).
  util::clock::time_point valid_until() const noexcept { return core_->valid_until(); }
  const std::string& name() const noexcept { return core_->name(); }
  const lock_options& options() const noexcept { return core_->options(); }

 protected:
  explicit basic_lock(detail::lock_core* core) noexcept : core_(core) {}
  /// Stops waiting, and releases the lock if held (in the background); no callback runs.
  ~basic_lock() { core_->detach(); }

 private:
  struct acquire_op {
    static constexpr bool acquiring = true;
    detail::lock_core* core;
    std::chrono::milliseconds wait;
    void start(acquire_callback done) { core->acquire(wait, std::move(done)); }
  };
  struct release_op {
    static constexpr bool acquiring = false;
    detail::lock_core* core;
    void start(done_callback done) { core->release(std::move(done)); }
  };
  struct extend_op {
    static constexpr bool acquiring = false;
    detail::lock_core* core;
    std::chrono::milliseconds ms;
    bool replace;
    void start(done_callback done) { core->extend(ms, replace, std::move(done)); }
  };

  detail::lock_core* core_;  // outlives this while it has work in flight
};

}  // namespace uredis::lock

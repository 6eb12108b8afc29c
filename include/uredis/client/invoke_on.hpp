#pragma once
// invoke_on: runs a function on another shard of a runtime and brings its result back.
//
//   // on a shard, in a coroutine: hop to shard 1, run there, resume here with the result
//   result<std::int64_t> n = co_await uredis::invoke_on(rt, 1, [&] { return count_there(); });
//   result<std::optional<std::string>> v =
//       co_await uredis::invoke_on(rt, 1, [&]() -> task<result<std::optional<std::string>>> {
//         co_return co_await shard_client().get("k");    // a coroutine runs there to its end
//       });
//   // on the thread that owns the runtime (main): block until the shard has answered
//   result<std::int64_t> m = uredis::invoke_on(rt, 0, [] { return std::int64_t{7}; }).get();
//
// `fn` is called on shard `shard`'s thread, with no arguments. It may return a value, nothing,
// a result<T>, or a task (task<T>, task<result<T>>, task<>), which then runs on that shard until
// it finishes. What comes back is always a result: result<T> for any of T, result<T> or task of
// either (a result is not wrapped twice), result<void> for nothing. Its error is
// std::errc::invalid_argument for a shard the runtime does not have, and
// errc::runtime_stopped when the runtime no longer takes work (its last phase of shutdown); an
// exception escaping `fn` is rethrown from the co_await (or get()) instead.
//
// The hops: the invocation itself is the message. It lives in the awaiting coroutine's frame (or
// get()'s caller's stack), and what crosses to the other shard is a pointer to it, posted
// through the runtime's mailboxes; the answer comes back the same way and resumes the caller on
// its own shard, from that shard's loop. Nothing is allocated (the coroutine that runs `fn` on
// the target shard takes its frame from that thread's frame pool, task.hpp), and nothing is
// copied but `fn` itself, moved into the invocation.
//
// Back-pressure: a mailbox queue holds 256 tasks per sender (reactor/mailbox.hpp). When the one
// to the target is full, the caller stays suspended and its shard goes on with its other work:
// the post is retried on a 1 ms timer until the target has drained its queue. The answer's hop
// back does the same on the target shard. get() sleeps between tries (50 µs, doubling up to
// 1 ms). Nobody spins.
//
// When the target is the caller's own shard, `fn` runs at once, inline (its task, if any, is
// started at once and resumes the caller when it finishes).
//
// Rules:
//   - co_await it on a shard of `rt`; get() only on the thread that owns `rt` (the one that may
//     call runtime::submit_to() from outside: never a shard, never two threads at once).
//   - An invocation is used once (both spellings take it as an rvalue): await it, or get() it,
//     in the expression that created it.
//   - `fn` (and what it captures by reference) must be safe to use on the target shard; the
//     caller is suspended (or blocked) until `fn` has finished, so references to the caller's
//     locals stay valid.
//   - A task that `fn` starts must finish before its shard stops. One waiting on that shard's
//     connections does: shutdown closes them first (their commands complete with an error).
//     Once the runtime is in its last phase, the hop back is refused: a caller still waiting
//     then is never resumed (its shard is stopping too).

#include <algorithm>
#include <cassert>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
#include <type_traits>
#include <utility>

#include "uredis/client/task.hpp"
#include "uredis/error.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/reactor/runtime.hpp"
#include "uredis/reactor/timer.hpp"
#include "uredis/result.hpp"

namespace uredis {

namespace detail {

template <class T>
struct awaited_value {
  using type = T;
};
template <class T>
struct awaited_value<task<T>> {
  using type = T;
};
template <class T>
struct unwrapped_result {
  using type = T;
};
template <class T>
struct unwrapped_result<result<T>> {
  using type = T;
};

template <class F>
using invoked_t = std::invoke_result_t<F&>;
template <class F>
inline constexpr bool invokes_task =
    !std::is_same_v<typename awaited_value<invoked_t<F>>::type, invoked_t<F>>;
// What fn's task (or fn itself) gives, and the T of the result<T> the caller gets.
template <class F>
using fn_value_t = typename awaited_value<invoked_t<F>>::type;
template <class F>
using invoke_value_t = typename unwrapped_result<fn_value_t<F>>::type;

}  // namespace detail

template <class F>
class [[nodiscard]] invocation {
  static_assert(std::is_invocable_v<F&>,
                "uredis::invoke_on: fn must be callable with no arguments");

 public:
  using value_type = detail::invoke_value_t<F>;
  using result_type = result<value_type>;

  invocation(runtime& rt, unsigned shard, F fn) noexcept(std::is_nothrow_move_constructible_v<F>)
      : rt_(&rt), target_(shard), fn_(std::move(fn)) {}
  invocation(const invocation&) = delete;
  invocation& operator=(const invocation&) = delete;

  /// On a shard of the runtime: suspends until `fn` has run on the target shard.
  auto operator co_await() && noexcept {
    struct awaiter {
      invocation* self;
      bool await_ready() const noexcept { return false; }
      bool await_suspend(std::coroutine_handle<> caller) { return self->start(caller); }
      result_type await_resume() { return self->take(); }
    };
    return awaiter{this};
  }

  /// On the thread that owns the runtime: blocks until `fn` has run on the target shard.
  result_type get() && {
    assert(!rt_->on_shard() && "uredis::invoke_on(...).get() blocks its shard: co_await it");
    if (target_ >= rt_->shard_count())
      return result_type(std::make_error_code(std::errc::invalid_argument));
    blocking_wait wait;
    waiter_ = &wait;
    auto pause = std::chrono::microseconds(50);
    while (!rt_->submit_to(target_, runtime::task_fn([this] { run(this); }))) {
      if (!rt_->accepting()) return result_type(make_error_code(errc::runtime_stopped));
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(1000));
    }
    std::unique_lock lock(wait.mutex);
    wait.done_signal.wait(lock, [&] { return wait.done; });
    return take();
  }

 private:
  enum class phase : unsigned char { starting, suspended, done };

  // get()'s side of the hop back: notified under the lock, so the waiter cannot return (and
  // free this) before the notifying shard has let go of it.
  struct blocking_wait {
    std::mutex mutex;
    std::condition_variable done_signal;
    bool done = false;
  };

  bool start(std::coroutine_handle<> caller) {
    assert(rt_->on_shard() && "uredis::invoke_on: co_await it on a shard of its runtime");
    caller_ = caller;
    caller_shard_ = runtime::current_shard();
    if (target_ >= rt_->shard_count()) {
      outcome_.emplace(std::make_error_code(std::errc::invalid_argument));
      return false;
    }
    if (target_ == caller_shard_) {
      run(this);
      if (phase_ == phase::done) return false;
      phase_ = phase::suspended;
      return true;
    }
    return post_forward();
  }

  // On the caller's shard. True: posted (the target now owns this), or a retry is armed;
  // false: refused for good, the outcome says why and the caller goes on.
  bool post_forward() {
    if (rt_->submit_to(target_, runtime::task_fn([this] { run(this); }))) return true;
    if (!rt_->accepting()) {
      outcome_.emplace(make_error_code(errc::runtime_stopped));
      return false;
    }
    retry_later([this] {
      if (!post_forward()) caller_.resume();
    });
    return true;
  }

  // On the target shard: runs fn (and its task) to the end, then answers.
  static detached run(invocation* self) {
    try {
      if constexpr (detail::invokes_task<F>) {
        if constexpr (std::is_void_v<detail::fn_value_t<F>>) {
          co_await self->fn_();
          self->outcome_.emplace();
        } else {
          self->outcome_.emplace(co_await self->fn_());
        }
      } else if constexpr (std::is_void_v<detail::fn_value_t<F>>) {
        self->fn_();
        self->outcome_.emplace();
      } else {
        self->outcome_.emplace(self->fn_());
      }
    } catch (...) {
      self->failure_ = std::current_exception();
    }
    self->answer();
  }

  void answer() {
    if (waiter_ != nullptr) {
      blocking_wait& wait = *waiter_;
      const std::lock_guard lock(wait.mutex);
      wait.done = true;
      wait.done_signal.notify_one();
      return;
    }
    if (target_ == caller_shard_) {  // ran inline: resume directly, unless still starting
      if (std::exchange(phase_, phase::done) == phase::suspended) caller_.resume();
      return;
    }
    post_back();
  }

  // On the target shard: resumes the caller on its own shard.
  void post_back() {
    if (rt_->submit_to(caller_shard_, runtime::task_fn([this] { caller_.resume(); }))) return;
    if (!rt_->accepting()) return;  // the caller's shard is stopping: see "Rules"
    retry_later([this] { post_back(); });
  }

  void retry_later(reactor::timer::callback_type again) {
    retry_.set_callback(std::move(again));
    reactor::reactor::current()->timers().arm_in(retry_, std::chrono::milliseconds(1));
  }

  result_type take() {
    if (failure_) std::rethrow_exception(failure_);
    return std::move(*outcome_);
  }

  runtime* rt_;
  unsigned target_;
  unsigned caller_shard_ = runtime::no_shard;
  F fn_;
  std::optional<result_type> outcome_;
  std::exception_ptr failure_;
  std::coroutine_handle<> caller_;
  blocking_wait* waiter_ = nullptr;
  // Used by one shard at a time: the caller's while the forward post waits for room, then the
  // target's while the answer does (the mailbox hand-over orders the two).
  reactor::timer retry_;
  phase phase_ = phase::starting;
};

/// Runs `fn` on shard `shard` of `rt`: `co_await` it on a shard, or `.get()` it on the thread
/// that owns the runtime (see the header comment).
template <class F>
invocation<std::decay_t<F>> invoke_on(runtime& rt, unsigned shard, F&& fn) {
  return invocation<std::decay_t<F>>(rt, shard, std::forward<F>(fn));
}

}  // namespace uredis

#pragma once
// task<T>: the coroutine type of uredis' coroutine API. A task is lazy (its body starts when it is
// first awaited), move-only, and owns its frame: destroying a task destroys the frame, whether the
// task never started, finished, or is suspended (which also destroys what that frame owns, the
// tasks it is awaiting included).
//
//   task<int> answer() { co_return 42; }
//   task<> caller() { int v = co_await answer(); ... }   // task<> is task<void>
//
// Completion uses symmetric transfer both ways: awaiting a task jumps into it, and a finishing
// task jumps back to its awaiter, so a chain of any depth, or a loop over tasks that finish
// without suspending, runs in constant stack. That needs the compiler to make the jump a tail
// call: Clang always does; GCC 12 does with -O2 and up, not at -O0/-O1 nor under AddressSanitizer,
// where each level of such a chain costs a stack frame, as nested calls would.
//
// Exceptions: the library never throws on the reactor path, but a task's body is user code. An
// exception escaping a task's body is stored in its frame and rethrown from the co_await that
// awaits it (and from sync_run()), so it travels up the chain as in plain calls. At the top, a
// detached coroutine (spawn()) has nobody to rethrow to: an exception escaping it calls
// std::terminate. The reactor that resumes a coroutine therefore never sees an exception.
//
// Frames: every coroutine here allocates its frame from a thread-local free list per size class
// (frame_pool below), so once a thread has run its coroutines once, creating them again
// allocates nothing. A frame freed on another thread than the one that allocated it joins the
// freeing thread's list; the lists are freed when their thread exits.
//
// Fire and forget: `detached` is the return type of an eager coroutine whose frame destroys
// itself when it finishes; spawn(task) runs a task that way. Whoever suspends a detached
// coroutine must resume it eventually (a connection does, with an error on close), or its frame
// is never freed. (As with any coroutine, a lambda's captures live in the lambda object, not in
// the frame: spawn(f()) with a temporary capturing lambda `f` must not use them after its first
// suspension.)
//
// For tests: sync_run(task, queue) starts a task on the calling thread and resumes the
// coroutines posted to a manual_queue (a stand-in for a reactor's ready queue) until the task is
// done, then returns its value.

#include <cassert>
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "uredis/util/ring_buffer.hpp"

namespace uredis {

namespace detail {

/// Free lists of coroutine frames, one per 64-byte size class up to 4 KiB, per thread. Larger
/// frames (a coroutine with a big local array) go straight to operator new.
///
///   heads[0] -> [64-byte block] -> [64-byte block] -> null
///   heads[1] -> [128-byte block] -> null                ...       heads[63]: 4 KiB blocks
///
/// A block on a list stores the next pointer in its first bytes. Blocks are only ever recycled,
/// never split or merged; the lists keep the high-water mark of each class until the thread exits
/// (or release() is called), which is what makes steady-state creation free.
class frame_pool {
 public:
  static constexpr std::size_t granularity = 64;  // one cache line per step
  static constexpr std::size_t classes = 64;      // so pooled frames are at most 4 KiB
  static constexpr std::size_t max_pooled = granularity * classes;

  static void* allocate(std::size_t size) {
    if (size > max_pooled || size == 0) return ::operator new(size);
    state& s = local;
    const std::size_t c = class_of(size);
    if (block* b = s.heads[c]) {
      s.heads[c] = b->next;
      --s.cached;
      return b;
    }
    return ::operator new(block_size(c));
  }

  static void deallocate(void* p, std::size_t size) noexcept {
    if (size > max_pooled || size == 0) return ::operator delete(p);
    state& s = local;
    if (s.closed) return ::operator delete(p);  // the thread is exiting: nothing to recycle for
    if (!s.reaper_armed) arm_reaper();
    const std::size_t c = class_of(size);
    s.heads[c] = ::new (p) block{s.heads[c]};
    ++s.cached;
  }

  /// Frames waiting on this thread's lists.
  static std::size_t cached() noexcept { return local.cached; }

  /// Frees every frame on this thread's lists.
  static void release() noexcept {
    state& s = local;
    for (block*& head : s.heads) {
      while (block* b = head) {
        head = b->next;
        ::operator delete(b);
      }
    }
    s.cached = 0;
  }

 private:
  struct block {
    block* next;
  };
  struct state {
    block* heads[classes];
    std::size_t cached;
    bool reaper_armed;
    bool closed;  // this thread's thread_local destructors have run
  };
  // Frees the lists at thread exit. Kept apart from `state`, which must stay trivially
  // destructible: a frame freed by a later thread_local destructor still reads `closed`.
  struct reaper {
    ~reaper() {
      release();
      local.closed = true;
    }
  };

  static constexpr std::size_t class_of(std::size_t size) noexcept {
    return (size - 1) / granularity;
  }
  static constexpr std::size_t block_size(std::size_t c) noexcept { return (c + 1) * granularity; }

  static void arm_reaper() noexcept {
    // The first use of a thread_local with a destructor registers that destructor for this
    // thread's exit (glibc takes the memory for it from malloc, not from operator new).
    static thread_local reaper r;
    (void)&r;
    local.reaper_armed = true;
  }

  static constinit inline thread_local state local{};
};

/// Every promise here allocates its frame from the frame pool. (With only the sized operator
/// delete declared, the compiler passes the frame's size back, which picks the size class.)
struct pooled_frame {
  static void* operator new(std::size_t size) { return frame_pool::allocate(size); }
  static void operator delete(void* p, std::size_t size) noexcept {
    frame_pool::deallocate(p, size);
  }
};

class task_promise_base : public pooled_frame {
 public:
  struct final_awaiter {
    bool await_ready() const noexcept { return false; }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) noexcept {
      const std::coroutine_handle<> next = self.promise().continuation_;
      return next ? next : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };

  std::suspend_always initial_suspend() const noexcept { return {}; }
  final_awaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { exception_ = std::current_exception(); }

  void set_continuation(std::coroutine_handle<> h) noexcept { continuation_ = h; }

 protected:
  void rethrow_if_failed() {
    if (exception_) std::rethrow_exception(std::exchange(exception_, nullptr));
  }

 private:
  std::coroutine_handle<> continuation_;
  std::exception_ptr exception_;
};

template <class T>
class task_promise;

struct task_access;

}  // namespace detail

template <class T = void>
class [[nodiscard]] task {
  static_assert(!std::is_reference_v<T>, "task<T&>: return a pointer or a std::reference_wrapper");

 public:
  using promise_type = detail::task_promise<T>;
  using value_type = T;

  /// No coroutine: valid() is false.
  task() noexcept = default;
  task(task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { destroy(); }

  /// Whether this task holds a coroutine.
  bool valid() const noexcept { return static_cast<bool>(handle_); }
  /// Whether the coroutine has finished (returned or thrown). Precondition: valid().
  bool done() const noexcept {
    assert(valid());
    return handle_.done();
  }

  /// Starts the task (or, if it has finished already, takes its result at once) and resumes the
  /// awaiter with its value when it finishes. A task is awaited once.
  auto operator co_await() && noexcept { return awaiter{handle_}; }
  auto operator co_await() & noexcept { return awaiter{handle_}; }

 private:
  friend promise_type;
  friend struct detail::task_access;

  using handle_type = std::coroutine_handle<promise_type>;

  struct awaiter {
    handle_type handle;

    bool await_ready() const noexcept {
      assert(handle && "co_await on an empty task");
      return handle.done();
    }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
      handle.promise().set_continuation(awaiting);
      return handle;  // symmetric transfer: start the task without growing the stack
    }
    T await_resume() { return handle.promise().result(); }
  };

  explicit task(handle_type h) noexcept : handle_(h) {}

  void destroy() noexcept {
    if (handle_) std::exchange(handle_, {}).destroy();
  }

  handle_type handle_;
};

namespace detail {

template <class T>
class task_promise : public task_promise_base {
 public:
  task<T> get_return_object() noexcept {
    return task<T>(std::coroutine_handle<task_promise>::from_promise(*this));
  }

  template <class U = T>
  requires std::convertible_to<U&&, T>
  void return_value(U&& value) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    value_.emplace(std::forward<U>(value));
  }

  /// The returned value, moved out; rethrows what the body threw.
  T result() {
    rethrow_if_failed();
    assert(value_.has_value() && "a task's result is taken once");
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
};

template <>
class task_promise<void> : public task_promise_base {
 public:
  task<void> get_return_object() noexcept {
    return task<void>(std::coroutine_handle<task_promise>::from_promise(*this));
  }
  void return_void() noexcept {}
  void result() { rethrow_if_failed(); }
};

/// What sync_run needs from a task beyond its public face.
struct task_access {
  template <class T>
  static auto handle(task<T>& t) noexcept {
    return t.handle_;
  }
};

}  // namespace detail

/// The return type of a fire-and-forget coroutine: it starts at once, runs until its first
/// suspension, and its frame destroys itself when the body finishes. An exception escaping the
/// body calls std::terminate (see the header comment).
class detached {
 public:
  struct promise_type : detail::pooled_frame {
    detached get_return_object() const noexcept { return {}; }
    std::suspend_never initial_suspend() const noexcept { return {}; }
    std::suspend_never final_suspend() const noexcept { return {}; }
    void return_void() const noexcept {}
    [[noreturn]] void unhandled_exception() const noexcept { std::terminate(); }
  };
};

/// Runs `t` to completion with nobody awaiting it: it starts now, on this thread, and its frames
/// are freed when it finishes. Its value, if any, is dropped.
template <class T>
detached spawn(task<T> t) {
  (void)co_await std::move(t);
}

/// A FIFO of coroutines ready to resume, drained by hand: what tests use in place of a reactor's
/// ready queue. Allocates only when it grows past its high-water mark.
class manual_queue {
 public:
  /// Queues `h` to be resumed by a later run_one().
  void post(std::coroutine_handle<> h) { ready_.push_back(h); }

  /// co_await queue.yield(): suspends the awaiting coroutine and queues it.
  auto yield() noexcept {
    struct awaiter {
      manual_queue* queue;
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) { queue->post(h); }
      void await_resume() const noexcept {}
    };
    return awaiter{this};
  }

  /// Resumes the oldest queued coroutine; false when none is queued.
  bool run_one() {
    if (ready_.empty()) return false;
    const std::coroutine_handle<> h = ready_.front();
    ready_.pop_front();
    h.resume();
    return true;
  }

  /// Resumes queued coroutines until none is left; returns how many were resumed.
  std::size_t run() {
    std::size_t n = 0;
    while (run_one())
      ++n;
    return n;
  }

  std::size_t size() const noexcept { return ready_.size(); }
  bool empty() const noexcept { return ready_.empty(); }

 private:
  util::ring_buffer<std::coroutine_handle<>> ready_;
};

/// Test driver: starts `t` and resumes what `queue` holds until `t` is done; returns its value
/// or rethrows its exception. Throws std::logic_error when `t` is suspended and the queue is
/// empty, since then nothing could ever resume it (a hang in a test becomes a failure).
template <class T>
T sync_run(task<T> t, manual_queue& queue) {
  assert(t.valid());
  const auto h = detail::task_access::handle(t);
  h.resume();
  while (!h.done()) {
    if (!queue.run_one())
      throw std::logic_error("sync_run: the task is suspended and nothing is queued to resume");
  }
  return h.promise().result();
}

/// sync_run with a private queue, for tasks that never wait on one.
template <class T>
T sync_run(task<T> t) {
  manual_queue queue;
  return sync_run(std::move(t), queue);
}

}  // namespace uredis

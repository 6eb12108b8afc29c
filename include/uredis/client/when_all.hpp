#pragma once
// when_all: awaits several awaitables at once (commands, tasks, anything co_await takes) and
// resumes the caller when every one has finished, with all their results.
//
//   auto [a, b, n] = co_await uredis::when_all(c.get("a"), c.get("b"), c.incr("n"));
//   // a, b: result<optional<string>>; n: result<int64_t>
//
//   std::vector<uredis::task<int>> jobs = ...;
//   std::vector<int> values = co_await uredis::when_all(jobs);
//
// Each awaitable is started in argument order (element order for a vector) before the caller
// suspends, so commands on one connection go out together in one send, in that order, exactly as
// if each had been awaited by its own coroutine in the same loop turn. A result that is void
// (a task<>) becomes std::monostate in the tuple. An exception escaping one of them is
// rethrown from the co_await once every one has finished (the first, if several threw).
//
// Lifetime: when_all holds its arguments by reference, the way a command's awaitable views its
// arguments: await it in the expression that calls it (its awaiter can only be awaited as an
// rvalue). The results live in the awaiter until they are moved out.
//
// Allocation: each awaitable runs inside a small coroutine whose frame comes from the thread's
// frame pool (task.hpp), so the tuple form allocates nothing once the pool is warm; the vector
// form allocates its vectors.

#include <array>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "uredis/client/task.hpp"

namespace uredis {

namespace detail {

// The awaiter `co_await a` uses: what a's operator co_await gives (taken as an rvalue when it
// can be, since an awaitable used once offers only that: a task, an invoke_on), or `a` itself
// when it is an awaiter already (a command's exec_awaiter, which must not move or be copied).
template <class A>
decltype(auto) awaiter_of(A& a) {
  if constexpr (requires { std::move(a).operator co_await(); })
    return std::move(a).operator co_await();
  else if constexpr (requires { a.operator co_await(); })
    return a.operator co_await();
  else
    return (a);
}
template <class A>
using await_result_t = decltype(awaiter_of(std::declval<A&>()).await_resume());

template <class A>
concept awaitable = requires(A& a) {
  awaiter_of(a).await_ready();
  awaiter_of(a).await_resume();
};

// void results are kept as std::monostate, so every result has a slot.
template <class T>
using when_all_value_t = std::conditional_t<std::is_void_v<T>, std::monostate, std::decay_t<T>>;

// Shared by the children of one when_all: how many have yet to finish (plus one held by the
// caller until it has started them all), whom to resume, and the first exception.
struct when_all_counter {
  std::size_t remaining = 0;
  std::coroutine_handle<> caller;
  std::exception_ptr failure;
};

// The coroutine that runs one awaitable: started by hand, it stops at its end and, if it was the
// last, jumps straight back to the caller (symmetric transfer: no stack growth). The when_all
// awaiter owns its frame.
class when_all_child {
 public:
  struct promise_type : pooled_frame {
    when_all_counter* counter = nullptr;

    when_all_child get_return_object() noexcept {
      return when_all_child{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }
    auto final_suspend() const noexcept {
      struct last_one_resumes {
        bool await_ready() const noexcept { return false; }
        std::coroutine_handle<> await_suspend(
            std::coroutine_handle<promise_type> self) const noexcept {
          when_all_counter& c = *self.promise().counter;
          if (--c.remaining == 0) return c.caller;
          return std::noop_coroutine();
        }
        void await_resume() const noexcept {}
      };
      return last_one_resumes{};
    }
    void return_void() const noexcept {}
    void unhandled_exception() const noexcept {
      if (!counter->failure) counter->failure = std::current_exception();
    }
  };

  when_all_child() noexcept = default;
  when_all_child(when_all_child&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  when_all_child& operator=(when_all_child&& other) noexcept {
    if (this != &other) {
      if (handle_) handle_.destroy();
      handle_ = std::exchange(other.handle_, {});
    }
    return *this;
  }
  ~when_all_child() {
    if (handle_) handle_.destroy();
  }

  void start(when_all_counter& counter) {
    handle_.promise().counter = &counter;
    handle_.resume();
  }

 private:
  explicit when_all_child(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
  std::coroutine_handle<promise_type> handle_;
};

// Awaits `awaitable` as co_await would in the caller: as an rvalue when it offers operator
// co_await on one, else as the named lvalue (GCC 12 copies an awaiter reached through an
// xvalue or a function call, and a command's awaiter cannot be copied).
template <class A>
inline constexpr bool awaited_as_rvalue = requires(A& a) {
  std::move(a).operator co_await();
};

template <class A, class Slot>
when_all_child run_into(A& awaitable, Slot& slot) {
  if constexpr (std::is_void_v<await_result_t<A>>) {
    if constexpr (awaited_as_rvalue<A>)
      co_await std::move(awaitable);
    else
      co_await awaitable;
    slot.emplace();
  } else if constexpr (awaited_as_rvalue<A>) {
    slot.emplace(co_await std::move(awaitable));
  } else {
    slot.emplace(co_await awaitable);
  }
}

}  // namespace detail

/// The awaiter of when_all(a, b, ...): a std::tuple of every result, in argument order.
template <class... Awaitables>
class [[nodiscard]] when_all_awaiter {
 public:
  using value_type = std::tuple<
      detail::when_all_value_t<detail::await_result_t<std::remove_reference_t<Awaitables>>>...>;

  explicit when_all_awaiter(Awaitables&&... awaitables) noexcept
      : awaitables_(std::forward<Awaitables>(awaitables)...) {}
  when_all_awaiter(const when_all_awaiter&) = delete;
  when_all_awaiter& operator=(const when_all_awaiter&) = delete;

  auto operator co_await() && noexcept {
    struct awaiter {
      when_all_awaiter* self;
      bool await_ready() const noexcept { return sizeof...(Awaitables) == 0; }
      bool await_suspend(std::coroutine_handle<> caller) { return self->start(caller); }
      value_type await_resume() { return self->take(std::index_sequence_for<Awaitables...>{}); }
    };
    return awaiter{this};
  }

 private:
  // Starts every child; false when they all finished meanwhile (the caller goes on at once).
  bool start(std::coroutine_handle<> caller) {
    counter_ = {sizeof...(Awaitables) + 1, caller, nullptr};
    start_each(std::index_sequence_for<Awaitables...>{});
    return --counter_.remaining != 0;
  }

  template <std::size_t... I>
  void start_each(std::index_sequence<I...>) {
    // A comma fold runs left to right: the commands are encoded in argument order.
    ((children_[I] = detail::run_into(std::get<I>(awaitables_), std::get<I>(results_)),
      children_[I].start(counter_)),
     ...);
  }

  template <std::size_t... I>
  value_type take(std::index_sequence<I...>) {
    if (counter_.failure) std::rethrow_exception(counter_.failure);
    return value_type{std::move(*std::get<I>(results_))...};
  }

  std::tuple<Awaitables&&...> awaitables_;
  std::tuple<std::optional<
      detail::when_all_value_t<detail::await_result_t<std::remove_reference_t<Awaitables>>>>...>
      results_;
  std::array<detail::when_all_child, sizeof...(Awaitables)> children_;
  detail::when_all_counter counter_;
};

/// `co_await when_all(a, b, ...)` -> std::tuple of each one's result (see the header comment).
template <detail::awaitable... Awaitables>
when_all_awaiter<Awaitables...> when_all(Awaitables&&... awaitables) noexcept {
  return when_all_awaiter<Awaitables...>(std::forward<Awaitables>(awaitables)...);
}

/// The awaiter of when_all(tasks): a std::vector of every task's result, in element order.
template <class T>
class [[nodiscard]] when_all_range_awaiter {
 public:
  using value_type = std::vector<detail::when_all_value_t<T>>;

  explicit when_all_range_awaiter(std::span<task<T>> tasks) noexcept : tasks_(tasks) {}
  when_all_range_awaiter(const when_all_range_awaiter&) = delete;
  when_all_range_awaiter& operator=(const when_all_range_awaiter&) = delete;

  auto operator co_await() && noexcept {
    struct awaiter {
      when_all_range_awaiter* self;
      bool await_ready() const noexcept { return self->tasks_.empty(); }
      bool await_suspend(std::coroutine_handle<> caller) { return self->start(caller); }
      value_type await_resume() { return self->take(); }
    };
    return awaiter{this};
  }

 private:
  bool start(std::coroutine_handle<> caller) {
    results_.resize(tasks_.size());
    children_.reserve(tasks_.size());
    counter_ = {tasks_.size() + 1, caller, nullptr};
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      children_.push_back(detail::run_into(tasks_[i], results_[i]));
      children_.back().start(counter_);
    }
    return --counter_.remaining != 0;
  }

  value_type take() {
    if (counter_.failure) std::rethrow_exception(counter_.failure);
    value_type values;
    values.reserve(results_.size());
    for (auto& r : results_)
      values.push_back(std::move(*r));
    return values;
  }

  std::span<task<T>> tasks_;
  std::vector<std::optional<detail::when_all_value_t<T>>> results_;
  std::vector<detail::when_all_child> children_;
  detail::when_all_counter counter_;
};

/// `co_await when_all(tasks)` -> std::vector of each task's result, for a number of tasks known
/// at run time (a std::vector<task<T>>, or any contiguous range of them).
template <class T>
when_all_range_awaiter<T> when_all(std::span<task<T>> tasks) noexcept {
  return when_all_range_awaiter<T>(tasks);
}
template <class T>
when_all_range_awaiter<T> when_all(std::vector<task<T>>& tasks) noexcept {
  return when_all_range_awaiter<T>(std::span<task<T>>(tasks));
}

}  // namespace uredis

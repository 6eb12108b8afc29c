// task<T>, detached/spawn, manual_queue and sync_run: values and void, laziness, exceptions,
// destruction at every stage, a 10,000-deep chain on a small stack (symmetric transfer), and
// frame reuse with zero allocations once warm.

#include "uredis/client/task.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "allocation_counter.hpp"

namespace uredis {
namespace {

using dev::allocation_scope;

static_assert(!std::is_copy_constructible_v<task<int>>);
static_assert(!std::is_copy_assignable_v<task<int>>);
static_assert(std::is_nothrow_move_constructible_v<task<int>>);
static_assert(std::is_nothrow_move_assignable_v<task<>>);
static_assert(std::is_same_v<task<>, task<void>>);

// ---- values ---------------------------------------------------------------------------------

task<int> forty_two() {
  co_return 42;
}

task<std::string> greet(std::string name) {
  co_return "hello " + name;
}

task<int> add(int a, int b) {
  const int x = co_await forty_two();
  co_return x + a + b;
}

TEST(Task, returns_a_value) {
  EXPECT_EQ(sync_run(forty_two()), 42);
  EXPECT_EQ(sync_run(add(1, 2)), 45);
  EXPECT_EQ(sync_run(greet("redis")), "hello redis");
}

task<std::unique_ptr<int>> boxed(int v) {
  co_return std::make_unique<int>(v);
}

TEST(Task, returns_a_move_only_value) {
  const std::unique_ptr<int> p = sync_run(boxed(7));
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 7);
}

task<> set_flag(bool& flag) {
  flag = true;
  co_return;
}

task<> call_twice(int& calls) {
  bool a = false;
  bool b = false;
  co_await set_flag(a);
  co_await set_flag(b);
  calls += a && b ? 2 : 0;
}

TEST(Task, void_tasks) {
  int calls = 0;
  sync_run(call_twice(calls));
  EXPECT_EQ(calls, 2);
}

TEST(Task, is_lazy) {
  bool flag = false;
  task<> t = set_flag(flag);
  EXPECT_TRUE(t.valid());
  EXPECT_FALSE(t.done());
  EXPECT_FALSE(flag);  // nothing ran yet
  sync_run(std::move(t));
  EXPECT_TRUE(flag);
}

TEST(Task, awaiting_an_lvalue_task) {
  auto outer = []() -> task<int> {
    task<int> inner = forty_two();
    const int v = co_await inner;
    co_return v + (inner.done() ? 1 : 0);
  };
  EXPECT_EQ(sync_run(outer()), 43);
}

TEST(Task, move_assignment_destroys_the_old_frame) {
  task<int> a = forty_two();
  task<int> b = add(0, 1);
  a = std::move(b);
  EXPECT_FALSE(b.valid());  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  EXPECT_EQ(sync_run(std::move(a)), 43);
  task<int> empty;
  EXPECT_FALSE(empty.valid());
}

// ---- suspension through the manual queue ----------------------------------------------------

task<int> yield_then_return(manual_queue& q, int v, std::vector<int>& log) {
  log.push_back(v);
  co_await q.yield();
  log.push_back(v + 100);
  co_return v;
}

TEST(Task, resumes_from_the_queue) {
  manual_queue q;
  std::vector<int> log;
  auto outer = [&]() -> task<int> {
    const int a = co_await yield_then_return(q, 1, log);
    const int b = co_await yield_then_return(q, 2, log);
    co_return a + b;
  };
  EXPECT_EQ(sync_run(outer(), q), 3);
  EXPECT_EQ(log, (std::vector<int>{1, 101, 2, 102}));
  EXPECT_TRUE(q.empty());
}

task<> never_resumed(manual_queue& q) {
  struct forget {
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept {}
  };
  co_await q.yield();
  co_await forget{};  // suspends, and nobody will resume it
}

TEST(Task, sync_run_reports_a_task_nothing_can_resume) {
  manual_queue q;
  EXPECT_THROW(sync_run(never_resumed(q), q), std::logic_error);
}

// ---- exceptions -----------------------------------------------------------------------------

task<int> throws_after(manual_queue& q) {
  co_await q.yield();
  throw std::runtime_error("boom");
}

task<std::string> catches(manual_queue& q) {
  try {
    co_await throws_after(q);
  } catch (const std::runtime_error& e) {
    co_return std::string("caught ") + e.what();
  }
  co_return "not thrown";
}

TEST(Task, exceptions_reach_the_awaiter) {
  manual_queue q;
  EXPECT_EQ(sync_run(catches(q), q), "caught boom");
  EXPECT_THROW(sync_run(throws_after(q), q), std::runtime_error);
}

// ---- destruction ----------------------------------------------------------------------------

struct lifetime_probe {
  int* destroyed;
  explicit lifetime_probe(int& d) : destroyed(&d) {}
  lifetime_probe(lifetime_probe&& o) noexcept : destroyed(std::exchange(o.destroyed, nullptr)) {}
  lifetime_probe(const lifetime_probe&) = delete;
  lifetime_probe& operator=(const lifetime_probe&) = delete;
  lifetime_probe& operator=(lifetime_probe&&) = delete;
  ~lifetime_probe() {
    if (destroyed != nullptr) ++*destroyed;
  }
};

task<int> holds(lifetime_probe probe, bool& ran) {
  ran = true;
  co_return probe.destroyed != nullptr ? 1 : 0;
}

TEST(Task, destroying_an_unstarted_task_destroys_its_frame) {
  int destroyed = 0;
  bool ran = false;
  std::size_t cached = 0;
  {
    task<int> t = holds(lifetime_probe(destroyed), ran);
    // Let the task escape, or Clang may elide the frame's allocation (putting the frame on this
    // stack), which would leave the pool out of the picture.
    dev::do_not_optimize(&t);
    cached = detail::frame_pool::cached();
    EXPECT_EQ(destroyed, 0);  // the parameter lives in the frame
  }
  EXPECT_FALSE(ran);
  EXPECT_EQ(destroyed, 1);
  EXPECT_EQ(detail::frame_pool::cached(), cached + 1);  // the frame went back to the pool
}

task<> suspended_with(lifetime_probe probe, manual_queue& q) {
  co_await q.yield();
  (void)probe;
}

TEST(Task, destroying_a_suspended_chain_destroys_every_frame) {
  int destroyed = 0;
  manual_queue q;
  auto outer = [&]() -> task<> {
    lifetime_probe mine(destroyed);
    co_await suspended_with(lifetime_probe(destroyed), q);
  };
  {
    task<> t = outer();
    detail::task_access::handle(t).resume();  // started by hand: sync_run would finish it
    EXPECT_FALSE(t.done());
    EXPECT_EQ(q.size(), 1u);  // suspended inside the inner task
    EXPECT_EQ(destroyed, 0);
  }
  EXPECT_EQ(destroyed, 2);  // the outer local and the inner parameter
}

TEST(Task, destroying_a_finished_task) {
  int destroyed = 0;
  bool ran = false;
  task<int> t = holds(lifetime_probe(destroyed), ran);
  detail::task_access::handle(t).resume();
  EXPECT_TRUE(ran);
  ASSERT_TRUE(t.done());
  EXPECT_EQ(detail::task_access::handle(t).promise().result(), 1);
  EXPECT_EQ(destroyed, 0);  // a finished task keeps its frame until it is destroyed
  t = task<int>();
  EXPECT_EQ(destroyed, 1);
}

// ---- detached / spawn -----------------------------------------------------------------------

detached fire(manual_queue& q, int& stage) {
  stage = 1;
  co_await q.yield();
  stage = 2;
}

TEST(TaskDetached, starts_at_once_and_frees_itself) {
  manual_queue q;
  int stage = 0;
  fire(q, stage);
  const std::size_t cached = detail::frame_pool::cached();
  EXPECT_EQ(stage, 1);  // eager: ran to its first suspension
  EXPECT_EQ(q.size(), 1u);
  q.run();
  EXPECT_EQ(stage, 2);
  EXPECT_EQ(detail::frame_pool::cached(), cached + 1);  // its frame went back to the pool
}

TEST(TaskDetached, spawn_runs_a_task_to_the_end) {
  manual_queue q;
  std::vector<int> log;
  int destroyed = 0;
  spawn(yield_then_return(q, 5, log));
  spawn(suspended_with(lifetime_probe(destroyed), q));
  EXPECT_EQ(log, (std::vector<int>{5}));
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.run(), 2u);
  EXPECT_EQ(log, (std::vector<int>{5, 105}));
  EXPECT_EQ(destroyed, 1);  // the spawned task's frame, and its parameter, are gone
}

TEST(TaskDetached, spawn_of_a_task_that_finishes_at_once) {
  bool flag = false;
  spawn(set_flag(flag));
  EXPECT_TRUE(flag);
}

// ---- depth: symmetric transfer keeps the stack flat -----------------------------------------

task<std::int64_t> depth(int n) {
  if (n == 0) co_return 0;
  co_return 1 + co_await depth(n - 1);
}

task<std::int64_t> depth_yielding(int n, manual_queue& q) {
  if (n == 0) {
    // The deepest task resumes from the queue, and the chain unwinds from there.
    co_await q.yield();
    co_return 0;
  }
  co_return 1 + co_await depth_yielding(n - 1, q);
}

// Runs `fn` on a thread with a stack of `stack_size` bytes.
template <class F>
void run_on_small_stack(std::size_t stack_size, F fn) {
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, stack_size), 0);
  pthread_t thread;
  auto trampoline = [](void* arg) -> void* {
    (*static_cast<F*>(arg))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, trampoline, &fn), 0);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
  pthread_attr_destroy(&attr);
}

// The address of a local at the bottom of a chain of `n` awaits, to see how much stack the chain
// took.
task<std::uintptr_t> stack_at_depth(int n) {
  // (Not the address of a local: GCC keeps every local of a coroutine in its frame, on the heap.)
  if (n == 0) co_return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  co_return co_await stack_at_depth(n - 1);
}

// Symmetric transfer keeps the stack flat only when the compiler turns the resume into a tail
// call: Clang always does; GCC 12 only with -O2 or more (sibling-call optimization) and without
// AddressSanitizer. Under GCC without it, the deep tests are skipped with that reason; under
// Clang, or in the project's own builds (debugoptimized, release), they run.
bool flat_stack(std::string& why) {
  const auto top = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
  const std::uintptr_t bottom = sync_run(stack_at_depth(1000));
  const std::uintptr_t used = top - bottom;  // the stack grows down
  why = std::to_string(used) + " bytes of stack for 1000 levels";
  return used < 16 * 1024;  // a resume frame per level takes 32 bytes or more (GCC -O1)
}

#if defined(__clang__)
constexpr bool tail_calls_guaranteed = true;
#else
constexpr bool tail_calls_guaranteed = false;
#endif

#define REQUIRE_FLAT_STACK()                                                               \
  do {                                                                                     \
    std::string why;                                                                       \
    const bool flat = flat_stack(why);                                                     \
    if (!flat && !tail_calls_guaranteed)                                                   \
      GTEST_SKIP() << "this GCC build does not make the transfer a tail call (needs -O2, " \
                      "no ASan): "                                                         \
                   << why;                                                                 \
    ASSERT_TRUE(flat) << why;                                                              \
  } while (false)

// 10,000 nested awaits on a 256 KiB stack: without symmetric transfer every level would keep a
// resume() frame on the stack (tens of bytes each, and far more without optimization), and the
// thread would overflow (checked: it does, when await_suspend resumes instead of transferring).
constexpr int deep = 10'000;
constexpr std::size_t small_stack = 256 * 1024;

TEST(Task, deep_nesting_runs_in_constant_stack) {
  REQUIRE_FLAT_STACK();
  std::int64_t plain = -1;
  std::int64_t yielding = -1;
  run_on_small_stack(small_stack, [&] {
    plain = sync_run(depth(deep));
    manual_queue q;
    yielding = sync_run(depth_yielding(deep, q), q);
  });
  EXPECT_EQ(plain, deep);
  EXPECT_EQ(yielding, deep);
}

TEST(Task, deep_nesting_ten_times_deeper) {
  REQUIRE_FLAT_STACK();
  std::int64_t result = -1;
  run_on_small_stack(small_stack, [&] { result = sync_run(depth(10 * deep)); });
  EXPECT_EQ(result, 10 * deep);
}

// ---- frames come from the pool --------------------------------------------------------------

task<int> leaf(manual_queue& q, int v) {
  co_await q.yield();
  co_return v;
}

task<int> middle(manual_queue& q, int v) {
  const int a = co_await leaf(q, v);
  const int b = co_await leaf(q, v + 1);
  co_return a + b;
}

task<int> workload(manual_queue& q) {
  int sum = 0;
  for (int i = 0; i < 100; ++i)
    sum += co_await middle(q, i);
  co_return sum;
}

detached spawned_work(manual_queue& q, int& sum) {
  sum += co_await middle(q, 1);
}

// 100 * (2i + 1) summed over i < 100.
constexpr int workload_sum = 10'000;

TEST(TaskFramePool, steady_state_allocates_nothing) {
  manual_queue q;
  int spawned_sum = 0;
  // Warm-up: every frame size used below has been allocated once, the queue has grown.
  ASSERT_EQ(sync_run(workload(q), q), workload_sum);
  for (int i = 0; i < 10; ++i)
    spawned_work(q, spawned_sum);
  q.run();
  const std::size_t cached = detail::frame_pool::cached();
  ASSERT_GT(cached, 0u);

  allocation_scope scope;
  int total = 0;
  for (int round = 0; round < 100; ++round) {
    total += sync_run(workload(q), q);
    for (int i = 0; i < 10; ++i)
      spawned_work(q, spawned_sum);
    q.run();
  }
  const std::uint64_t allocations = scope.allocations();
  const std::uint64_t deallocations = scope.deallocations();
  EXPECT_EQ(total, 100 * workload_sum);
  EXPECT_EQ(spawned_sum, 101 * 10 * 3);
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(deallocations, 0u);
  EXPECT_EQ(detail::frame_pool::cached(), cached);  // every frame came back
}

TEST(TaskFramePool, a_cold_pool_allocates_and_release_frees) {
  detail::frame_pool::release();
  EXPECT_EQ(detail::frame_pool::cached(), 0u);
  {
    allocation_scope scope;
    EXPECT_EQ(sync_run(forty_two()), 42);
    EXPECT_EQ(scope.allocations(), 1u);    // the frame (sync_run's queue stays empty)
    EXPECT_EQ(scope.deallocations(), 0u);  // it went to the pool
  }
  EXPECT_EQ(detail::frame_pool::cached(), 1u);
  {
    allocation_scope scope;
    EXPECT_EQ(sync_run(forty_two()), 42);
    EXPECT_EQ(scope.allocations(), 0u);  // reused
  }
  {
    allocation_scope scope;
    detail::frame_pool::release();
    EXPECT_EQ(scope.deallocations(), 1u);
    EXPECT_EQ(detail::frame_pool::cached(), 0u);
  }
}

task<int> big_frame(manual_queue& q) {
  volatile char buffer[8192] = {};  // lives across the suspension below: in the frame
  buffer[10] = 1;
  co_await q.yield();
  co_return buffer[10] + 1;
}

TEST(TaskFramePool, frames_larger_than_the_classes_bypass_it) {
  manual_queue q;
  q.post(std::noop_coroutine());  // grow the queue before counting
  q.run();
  const std::size_t cached = detail::frame_pool::cached();
  allocation_scope scope;
  EXPECT_EQ(sync_run(big_frame(q), q), 2);
  EXPECT_EQ(scope.allocations(), 1u);
  EXPECT_EQ(scope.deallocations(), 1u);  // straight back to operator delete
  EXPECT_EQ(detail::frame_pool::cached(), cached);
}

TEST(TaskFramePool, size_classes) {
  // Blocks of one class are interchangeable: a 100-byte frame reuses a freed 128-byte block.
  detail::frame_pool::release();
  void* a = detail::frame_pool::allocate(120);
  detail::frame_pool::deallocate(a, 120);
  void* b = detail::frame_pool::allocate(65);
  EXPECT_EQ(a, b);
  void* c = detail::frame_pool::allocate(64);  // the class below: a fresh block
  EXPECT_NE(c, b);
  detail::frame_pool::deallocate(b, 65);
  detail::frame_pool::deallocate(c, 64);
  EXPECT_EQ(detail::frame_pool::cached(), 2u);
  detail::frame_pool::release();
}

TEST(TaskFramePool, other_threads_have_their_own_lists) {
  EXPECT_EQ(sync_run(forty_two()), 42);
  const std::size_t here = detail::frame_pool::cached();
  std::size_t there_before = 99;
  std::size_t there_after = 0;
  run_on_small_stack(small_stack, [&] {
    there_before = detail::frame_pool::cached();
    (void)sync_run(forty_two());
    there_after = detail::frame_pool::cached();
  });  // and the thread's exit frees its list (LeakSanitizer would see it otherwise)
  EXPECT_EQ(there_before, 0u);
  EXPECT_EQ(there_after, 1u);
  EXPECT_EQ(detail::frame_pool::cached(), here);
}

}  // namespace
}  // namespace uredis

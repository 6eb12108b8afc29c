// spsc_queue: FIFO semantics on one thread, the full and empty edges, index wraparound, move-only
// payloads, exact element lifetimes (unconsumed elements destroyed with the queue), the layout
// that keeps the two sides apart, and a two-thread stress of 10 million items checking order and
// loss. The stress is also meant to be run under ThreadSanitizer (see the report / README).

#include "uredis/util/spsc_queue.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "uredis/util/inline_function.hpp"

namespace uredis::util {
namespace {

// Counts constructions and destructions; every constructed instance must be destroyed once.
struct counted {
  static inline int constructed = 0;
  static inline int destroyed = 0;
  int value = 0;

  explicit counted(int v) noexcept : value(v) { ++constructed; }
  counted(const counted& o) noexcept : value(o.value) { ++constructed; }
  counted(counted&& o) noexcept : value(o.value) { ++constructed; }
  counted& operator=(const counted&) = default;
  counted& operator=(counted&&) = default;
  ~counted() { ++destroyed; }

  static int alive() { return constructed - destroyed; }
  static void reset() { constructed = destroyed = 0; }
};

TEST(SpscQueue, StartsEmpty) {
  spsc_queue<int, 4> q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.size(), 0u);
  EXPECT_EQ(q.try_pop(), std::nullopt);
  int out = 7;
  EXPECT_FALSE(q.try_pop(out));
  EXPECT_EQ(out, 7);  // untouched on failure
}

TEST(SpscQueue, FifoOrder) {
  spsc_queue<int, 8> q;
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(q.try_push(i));
  EXPECT_EQ(q.size(), 5u);
  EXPECT_FALSE(q.empty());
  for (int i = 0; i < 5; ++i) {
    std::optional<int> v = q.try_pop();
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(*v, i);
  }
  EXPECT_TRUE(q.empty());
}

TEST(SpscQueue, BothPopFormsShareTheOrder) {
  spsc_queue<std::string, 4> q;
  ASSERT_TRUE(q.try_push(std::string("a")));
  const std::string b = "b";
  ASSERT_TRUE(q.try_push(b));  // the copying overload
  ASSERT_TRUE(q.try_emplace(3u, 'c'));
  std::string out;
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(out, "a");
  EXPECT_EQ(q.try_pop(), "b");
  ASSERT_TRUE(q.try_pop(out));
  EXPECT_EQ(out, "ccc");
  EXPECT_FALSE(q.try_pop(out));
}

TEST(SpscQueue, FullEdge) {
  spsc_queue<int, 4> q;
  EXPECT_EQ(q.capacity, 4u);
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(q.try_push(i)) << i;
  EXPECT_EQ(q.size(), 4u);
  EXPECT_FALSE(q.try_push(99));
  EXPECT_FALSE(q.try_emplace(99));
  EXPECT_EQ(q.size(), 4u);
  // One pop makes exactly one slot.
  EXPECT_EQ(q.try_pop(), 0);
  EXPECT_TRUE(q.try_push(4));
  EXPECT_FALSE(q.try_push(5));
  for (int i = 1; i <= 4; ++i)
    EXPECT_EQ(q.try_pop(), i);
  EXPECT_EQ(q.try_pop(), std::nullopt);
}

TEST(SpscQueue, FailedPushLeavesTheValueWithTheCaller) {
  spsc_queue<std::unique_ptr<int>, 2> q;
  ASSERT_TRUE(q.try_push(std::make_unique<int>(1)));
  ASSERT_TRUE(q.try_push(std::make_unique<int>(2)));
  auto third = std::make_unique<int>(3);
  EXPECT_FALSE(q.try_push(std::move(third)));
  ASSERT_NE(third, nullptr);  // not moved from: the caller can retry
  EXPECT_EQ(*third, 3);
  EXPECT_EQ(*q.try_pop().value(), 1);
  EXPECT_TRUE(q.try_push(std::move(third)));
  EXPECT_EQ(third, nullptr);
  EXPECT_EQ(*q.try_pop().value(), 2);
  EXPECT_EQ(*q.try_pop().value(), 3);
}

TEST(SpscQueue, WrapsAroundManyTimes) {
  // Every fill level, at every offset of the ring: the indices run far past Capacity.
  spsc_queue<std::uint64_t, 8> q;
  std::uint64_t next_in = 0;
  std::uint64_t next_out = 0;
  for (int round = 0; round < 1000; ++round) {
    const int burst = 1 + round % 8;
    for (int i = 0; i < burst; ++i)
      ASSERT_TRUE(q.try_push(next_in++));
    ASSERT_EQ(q.size(), static_cast<std::size_t>(burst));
    for (int i = 0; i < burst; ++i) {
      std::uint64_t v = 0;
      ASSERT_TRUE(q.try_pop(v));
      ASSERT_EQ(v, next_out++);
    }
    ASSERT_TRUE(q.empty());
  }
  EXPECT_EQ(next_out, next_in);
  EXPECT_GT(next_in, 100u * 8u);
}

TEST(SpscQueue, InterleavedPushPopKeepsOrderAcrossTheWrap) {
  // Keep the queue between half and completely full while the indices wrap.
  spsc_queue<int, 4> q;
  int next_in = 0;
  int next_out = 0;
  while (q.try_push(next_in))
    ++next_in;
  ASSERT_EQ(next_in, 4);
  for (int i = 0; i < 100; ++i) {
    ASSERT_EQ(q.try_pop(), next_out++);
    ASSERT_TRUE(q.try_push(next_in++));
    ASSERT_FALSE(q.try_push(-1));
  }
  while (std::optional<int> v = q.try_pop())
    EXPECT_EQ(*v, next_out++);
  EXPECT_EQ(next_out, next_in);
}

TEST(SpscQueue, MoveOnlyInlineFunctionPayload) {
  using task = inline_function<int(), 64>;
  spsc_queue<task, 4> q;
  auto owned = std::make_unique<int>(41);
  ASSERT_TRUE(q.try_push(task([p = std::move(owned)] { return *p + 1; })));
  ASSERT_TRUE(q.try_push(task([] { return 7; })));
  std::optional<task> first = q.try_pop();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ((*first)(), 42);
  task second;
  ASSERT_TRUE(q.try_pop(second));
  EXPECT_EQ(second(), 7);
}

TEST(SpscQueue, EveryElementIsDestroyedOnce) {
  counted::reset();
  {
    spsc_queue<counted, 8> q;
    for (int i = 0; i < 6; ++i)
      ASSERT_TRUE(q.try_emplace(i));
    EXPECT_EQ(counted::alive(), 6);
    for (int i = 0; i < 2; ++i) {
      std::optional<counted> v = q.try_pop();
      ASSERT_TRUE(v.has_value());
      EXPECT_EQ(v->value, i);
    }
    // The popped ones are gone; their slots were destroyed, not just moved from.
    EXPECT_EQ(counted::alive(), 4);
    counted out(-1);
    ASSERT_TRUE(q.try_pop(out));
    EXPECT_EQ(out.value, 2);
    EXPECT_EQ(counted::alive(), 4);  // 3 queued + out
  }
  // The queue's destructor destroyed the 3 never popped.
  EXPECT_EQ(counted::alive(), 0);
  EXPECT_EQ(counted::constructed, counted::destroyed);
}

TEST(SpscQueue, DestroysUnconsumedElementsAfterWrapping) {
  counted::reset();
  {
    spsc_queue<counted, 4> q;
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(q.try_emplace(i));
      ASSERT_TRUE(q.try_pop().has_value());
    }
    // head and tail are now 10: the live slots straddle the end of the array.
    for (int i = 0; i < 4; ++i)
      ASSERT_TRUE(q.try_emplace(100 + i));
    EXPECT_EQ(counted::alive(), 4);
  }
  EXPECT_EQ(counted::alive(), 0);
}

TEST(SpscQueue, LayoutKeepsTheSidesOnSeparateLines) {
  using q = spsc_queue<char, 2>;
  static_assert(alignof(q) >= false_sharing_range);
  // Producer line, consumer line, and the slots each start a new false-sharing range.
  static_assert(sizeof(q) >= 3 * false_sharing_range);
  using big = spsc_queue<inline_function<void(), 64>, 256>;
  static_assert(sizeof(big) >= 256 * sizeof(inline_function<void(), 64>) + 2 * false_sharing_range);
  SUCCEED();
}

// Two threads, 10 million items through a small ring: the consumer checks that it gets exactly
// 0, 1, 2, ... with nothing lost, duplicated or reordered.
TEST(SpscQueue, TwoThreadStressKeepsOrderAndLosesNothing) {
  constexpr std::uint64_t items = 10'000'000;
  // Small, so both the full and the empty paths (and the cache refreshes) are exercised often.
  auto q = std::make_unique<spsc_queue<std::uint64_t, 1024>>();
  std::uint64_t producer_full = 0;
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < items; ++i) {
      while (!q->try_push(std::uint64_t{i})) {
        ++producer_full;
        std::this_thread::yield();  // 2 cores shared with other builds: do not spin hard
      }
    }
  });
  std::uint64_t expected = 0;
  std::uint64_t mismatches = 0;
  while (expected < items) {
    std::uint64_t v;
    if (!q->try_pop(v)) {
      std::this_thread::yield();
      continue;
    }
    if (v != expected) ++mismatches;
    expected = v + 1;
  }
  producer.join();
  EXPECT_EQ(mismatches, 0u);
  EXPECT_EQ(expected, items);
  EXPECT_TRUE(q->empty());
  EXPECT_EQ(q->try_pop(), std::nullopt);
}

// The same with a payload that owns memory, so a torn or duplicated element shows up as a wrong
// value, a leak, or a double free under the sanitizers.
TEST(SpscQueue, TwoThreadStressWithMoveOnlyPayload) {
  constexpr int items = 1'000'000;
  auto q = std::make_unique<spsc_queue<std::unique_ptr<int>, 64>>();
  std::thread producer([&] {
    for (int i = 0; i < items; ++i) {
      auto p = std::make_unique<int>(i);
      while (!q->try_push(std::move(p)))
        std::this_thread::yield();
    }
  });
  int expected = 0;
  int mismatches = 0;
  while (expected < items) {
    std::optional<std::unique_ptr<int>> v = q->try_pop();
    if (!v) {
      std::this_thread::yield();
      continue;
    }
    if (*v == nullptr || **v != expected) ++mismatches;
    ++expected;
  }
  producer.join();
  EXPECT_EQ(mismatches, 0);
  EXPECT_TRUE(q->empty());
}

}  // namespace
}  // namespace uredis::util

// ring_buffer: FIFO order through wraparound and growth, capacity rules, exact element
// lifetimes, move-only elements, and no allocation in steady state.

#include "uredis/util/ring_buffer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <iterator>
#include <memory>
#include <string>
#include <utility>

#include "uredis/util/random.hpp"

namespace uredis::util {
namespace {

// Counts constructions and destructions; every constructed instance must be destroyed once.
struct counted {
  static inline int constructed = 0;
  static inline int destroyed = 0;
  int value;

  explicit counted(int v) noexcept : value(v) { ++constructed; }
  counted(const counted& o) noexcept : value(o.value) { ++constructed; }
  counted(counted&& o) noexcept : value(o.value) { ++constructed; }
  counted& operator=(const counted&) = default;
  ~counted() { ++destroyed; }

  static int alive() { return constructed - destroyed; }
  static void reset() { constructed = destroyed = 0; }
};

TEST(RingBuffer, StartsEmptyWithoutMemory) {
  ring_buffer<int> rb;
  EXPECT_TRUE(rb.empty());
  EXPECT_EQ(rb.size(), 0u);
  EXPECT_EQ(rb.capacity(), 0u);
  EXPECT_EQ(rb.begin(), rb.end());
}

TEST(RingBuffer, FifoOrder) {
  ring_buffer<int> rb;
  for (int i = 0; i < 5; ++i)
    rb.push_back(i);
  EXPECT_EQ(rb.size(), 5u);
  EXPECT_EQ(rb.front(), 0);
  EXPECT_EQ(rb.back(), 4);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(rb[static_cast<std::size_t>(i)], i);
  }
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(rb.front(), i);
    rb.pop_front();
  }
  EXPECT_TRUE(rb.empty());
}

TEST(RingBuffer, ReserveRoundsUpToPowerOfTwo) {
  ring_buffer<int> rb;
  rb.reserve(5);
  EXPECT_EQ(rb.capacity(), 8u);
  rb.reserve(8);
  EXPECT_EQ(rb.capacity(), 8u);
  rb.reserve(3);  // never shrinks
  EXPECT_EQ(rb.capacity(), 8u);
  rb.reserve(1000);
  EXPECT_EQ(rb.capacity(), 1024u);
  ring_buffer<int> sized(100);
  EXPECT_EQ(sized.capacity(), 128u);
  EXPECT_TRUE(sized.empty());
}

TEST(RingBuffer, GrowsOnlyWhenFullAndByDoubling) {
  ring_buffer<int> rb(4);
  ASSERT_EQ(rb.capacity(), 4u);
  for (int i = 0; i < 4; ++i)
    rb.push_back(i);
  EXPECT_EQ(rb.capacity(), 4u);
  rb.push_back(4);
  EXPECT_EQ(rb.capacity(), 8u);
  for (int i = 5; i < 8; ++i)
    rb.push_back(i);
  EXPECT_EQ(rb.capacity(), 8u);
  rb.push_back(8);
  EXPECT_EQ(rb.capacity(), 16u);
}

TEST(RingBuffer, GrowthWhileWrappedKeepsOrder) {
  ring_buffer<int> rb(8);
  // Move the head to the middle so the contents wrap around the end of the array.
  for (int i = 0; i < 6; ++i)
    rb.push_back(-1);
  for (int i = 0; i < 6; ++i)
    rb.pop_front();
  for (int i = 0; i < 8; ++i)
    rb.push_back(i);  // occupies slots 6,7,0..5
  ASSERT_EQ(rb.capacity(), 8u);
  rb.push_back(8);  // grows while wrapped
  EXPECT_EQ(rb.capacity(), 16u);
  ASSERT_EQ(rb.size(), 9u);
  for (std::size_t i = 0; i < rb.size(); ++i)
    EXPECT_EQ(rb[i], static_cast<int>(i));
}

TEST(RingBuffer, MatchesDequeUnderRandomOperations) {
  ring_buffer<int> rb;
  std::deque<int> model;
  rng r(42);
  int next = 0;
  for (int step = 0; step < 20000; ++step) {
    if (model.empty() || r.below(100) < 55) {
      rb.push_back(next);
      model.push_back(next);
      ++next;
    } else if (r.below(10) == 0) {
      rb.pop_back();
      model.pop_back();
    } else {
      ASSERT_EQ(rb.front(), model.front());
      rb.pop_front();
      model.pop_front();
    }
    ASSERT_EQ(rb.size(), model.size());
    if (!model.empty()) {
      ASSERT_EQ(rb.front(), model.front());
      ASSERT_EQ(rb.back(), model.back());
      const std::size_t i = r.below(model.size());
      ASSERT_EQ(rb[i], model[i]);
    }
  }
  EXPECT_TRUE(std::equal(rb.begin(), rb.end(), model.begin(), model.end()));
}

TEST(RingBuffer, ElementLifetimes) {
  counted::reset();
  {
    ring_buffer<counted> rb(4);
    for (int i = 0; i < 3; ++i)
      rb.emplace_back(i);
    EXPECT_EQ(counted::alive(), 3);
    rb.pop_front();
    EXPECT_EQ(counted::alive(), 2);
    // Wrap, then grow: relocation must destroy every moved-from original.
    for (int i = 3; i < 20; ++i)
      rb.emplace_back(i);
    EXPECT_EQ(counted::alive(), 19);
    EXPECT_EQ(static_cast<int>(rb.size()), counted::alive());
    EXPECT_EQ(rb.front().value, 1);
    EXPECT_EQ(rb.back().value, 19);
    rb.clear();
    EXPECT_EQ(counted::alive(), 0);
    EXPECT_GT(rb.capacity(), 0u) << "clear keeps the memory";
    for (int i = 0; i < 5; ++i)
      rb.emplace_back(i);
  }  // destruction destroys the remaining five
  EXPECT_EQ(counted::alive(), 0);
  EXPECT_GT(counted::constructed, 0);
}

TEST(RingBuffer, PushOfOwnElementDuringGrowth) {
  // push_back(rb.front()) when full: the argument aliases an element that growth relocates.
  ring_buffer<std::string> rb(2);
  rb.push_back(std::string(40, 'a'));
  rb.push_back(std::string(40, 'b'));
  ASSERT_EQ(rb.size(), rb.capacity());
  rb.push_back(rb.front());
  ASSERT_EQ(rb.size(), 3u);
  EXPECT_EQ(rb[2], std::string(40, 'a'));
  EXPECT_EQ(rb[0], std::string(40, 'a'));
}

TEST(RingBuffer, MoveOnlyElements) {
  ring_buffer<std::unique_ptr<int>> rb;
  for (int i = 0; i < 50; ++i)
    rb.push_back(std::make_unique<int>(i));
  for (int i = 0; i < 50; ++i) {
    ASSERT_NE(rb.front(), nullptr);
    EXPECT_EQ(*rb.front(), i);
    std::unique_ptr<int> taken = std::move(rb.front());
    rb.pop_front();
    EXPECT_EQ(*taken, i);
  }
  static_assert(!std::is_copy_constructible_v<ring_buffer<std::unique_ptr<int>>>);
  static_assert(std::is_copy_constructible_v<ring_buffer<int>>);
}

TEST(RingBuffer, MoveAndCopy) {
  counted::reset();
  {
    ring_buffer<counted> a(8);
    for (int i = 0; i < 6; ++i)
      a.emplace_back(i);
    a.pop_front();
    a.pop_front();
    for (int i = 6; i < 9; ++i)
      a.emplace_back(i);  // wrapped: 2..8

    ring_buffer<counted> copy(a);
    ASSERT_EQ(copy.size(), a.size());
    for (std::size_t i = 0; i < a.size(); ++i)
      EXPECT_EQ(copy[i].value, a[i].value);

    ring_buffer<counted> moved(std::move(a));
    EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): specified to be empty
    EXPECT_EQ(a.capacity(), 0u);
    EXPECT_EQ(moved.front().value, 2);
    EXPECT_EQ(moved.back().value, 8);

    copy = std::move(moved);
    EXPECT_EQ(copy.size(), 7u);
    EXPECT_EQ(counted::alive(), 7);

    ring_buffer<counted> assigned;
    assigned = copy;
    EXPECT_EQ(assigned.size(), 7u);
    EXPECT_EQ(counted::alive(), 14);
  }
  EXPECT_EQ(counted::alive(), 0);
}

TEST(RingBuffer, SteadyStateKeepsItsMemory) {
  ring_buffer<int> rb(16);
  const int* first_slot = &rb.emplace_back(0);
  rb.pop_front();
  // A million push/pop pairs with a bounded backlog: the same array throughout.
  for (int i = 0; i < 1'000'000; ++i) {
    rb.push_back(i);
    if (rb.size() > 10) rb.pop_front();
  }
  EXPECT_EQ(rb.capacity(), 16u);
  // Find any slot: the addresses must lie inside the original array.
  const int* elem = &rb.front();
  EXPECT_GE(elem, first_slot);
  EXPECT_LT(elem, first_slot + 16);
}

TEST(RingBuffer, IteratorIsRandomAccess) {
  ring_buffer<int> rb;
  for (int i = 0; i < 10; ++i)
    rb.push_back(i);
  static_assert(std::random_access_iterator<ring_buffer<int>::iterator>);
  static_assert(std::random_access_iterator<ring_buffer<int>::const_iterator>);
  auto it = rb.begin() + 3;
  EXPECT_EQ(*it, 3);
  EXPECT_EQ(it[2], 5);
  EXPECT_EQ(rb.end() - rb.begin(), 10);
  for (int& x : rb)
    x *= 2;
  const ring_buffer<int>& c = rb;
  EXPECT_EQ(*std::prev(c.end()), 18);
}

}  // namespace
}  // namespace uredis::util

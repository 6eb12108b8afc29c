// inline_function: invocation, moves, exact destructor counts, move-only captures, reassignment,
// the can_store trait, and the size of the object.
//
// An oversized or over-aligned callable is a compile error (static_assert in the constructor),
// which a gtest cannot observe; the can_store trait states the same rule and is tested here.

#include "uredis/util/inline_function.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace uredis::util {
namespace {

// Counts live instances, so a test can check every copy/move target is destroyed exactly once.
struct tracked {
  static inline int alive = 0;
  static inline int destroyed = 0;
  int value = 0;

  explicit tracked(int v) noexcept : value(v) { ++alive; }
  tracked(const tracked& o) noexcept : value(o.value) { ++alive; }
  tracked(tracked&& o) noexcept : value(o.value) { ++alive; }
  tracked& operator=(const tracked&) = delete;
  ~tracked() {
    --alive;
    ++destroyed;
  }

  static void reset_counts() {
    alive = 0;
    destroyed = 0;
  }
};

class InlineFunction : public ::testing::Test {
 protected:
  void SetUp() override { tracked::reset_counts(); }
  void TearDown() override { EXPECT_EQ(tracked::alive, 0) << "a captured object leaked"; }
};

int add(int a, int b) {
  return a + b;
}

TEST_F(InlineFunction, DefaultAndNullAreEmpty) {
  inline_function<void()> a;
  inline_function<void()> b = nullptr;
  EXPECT_FALSE(a);
  EXPECT_FALSE(b);
  EXPECT_TRUE(a == nullptr);
}

TEST_F(InlineFunction, InvokesAndReturns) {
  inline_function<int(int, int)> f = [](int a, int b) { return a * b; };
  ASSERT_TRUE(f);
  EXPECT_FALSE(f == nullptr);
  EXPECT_EQ(f(6, 7), 42);

  inline_function<int(int, int)> g = &add;
  EXPECT_EQ(g(2, 3), 5);
}

TEST_F(InlineFunction, NullFunctionPointerGivesEmpty) {
  int (*p)(int, int) = nullptr;
  inline_function<int(int, int)> f = p;
  EXPECT_FALSE(f);
}

TEST_F(InlineFunction, ConvertsResultAndDiscardsForVoid) {
  inline_function<long(int)> widen = [](int x) { return x; };
  EXPECT_EQ(widen(-3), -3L);

  int calls = 0;
  inline_function<void(int)> discard = [&calls](int x) {
    ++calls;
    return x * 2;  // the result is dropped for a void signature
  };
  discard(1);
  EXPECT_EQ(calls, 1);
}

TEST_F(InlineFunction, PassesReferencesAndMoveOnlyArguments) {
  inline_function<void(int&)> bump = [](int& x) { ++x; };
  int n = 1;
  bump(n);
  EXPECT_EQ(n, 2);

  inline_function<int(std::unique_ptr<int>)> consume = [](std::unique_ptr<int> p) { return *p; };
  EXPECT_EQ(consume(std::make_unique<int>(9)), 9);

  // An rvalue-reference parameter must reach the callable without a copy.
  std::string moved_to;
  inline_function<void(std::string &&)> sink = [&](std::string&& s) { moved_to = std::move(s); };
  std::string big(100, 'x');
  sink(std::move(big));
  EXPECT_EQ(moved_to, std::string(100, 'x'));
}

TEST_F(InlineFunction, MutableStateSurvivesCalls) {
  inline_function<int()> counter = [n = 0]() mutable { return ++n; };
  EXPECT_EQ(counter(), 1);
  EXPECT_EQ(counter(), 2);
  inline_function<int()> moved = std::move(counter);
  EXPECT_EQ(moved(), 3);  // the state moved with it
}

TEST_F(InlineFunction, MoveLeavesSourceEmpty) {
  inline_function<int()> a = [t = tracked(5)] { return t.value; };
  inline_function<int()> b = std::move(a);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): the moved-from state is specified
  ASSERT_TRUE(b);
  EXPECT_EQ(b(), 5);

  inline_function<int()> c;
  c = std::move(b);
  EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(c(), 5);
  EXPECT_EQ(tracked::alive, 1);
}

TEST_F(InlineFunction, CapturedObjectsAreDestroyedExactlyOnce) {
  {
    tracked original(1);
    inline_function<int()> f = [t = original] { return t.value; };
    EXPECT_EQ(tracked::alive, 2);  // the original and the captured copy
    inline_function<int()> g = std::move(f);
    inline_function<int()> h = std::move(g);
    EXPECT_EQ(tracked::alive, 2) << "a move must not leave a second live capture";
    EXPECT_EQ(h(), 1);
  }
  EXPECT_EQ(tracked::alive, 0);
}

TEST_F(InlineFunction, ResetAndNullAssignmentDestroyTheCapture) {
  inline_function<void()> f = [t = tracked(1)] { (void)t; };
  EXPECT_EQ(tracked::alive, 1);
  f.reset();
  EXPECT_FALSE(f);
  EXPECT_EQ(tracked::alive, 0);
  f.reset();  // resetting an empty function is harmless

  f = [t = tracked(2)] { (void)t; };
  EXPECT_EQ(tracked::alive, 1);
  f = nullptr;
  EXPECT_EQ(tracked::alive, 0);
  EXPECT_FALSE(f);
}

TEST_F(InlineFunction, ReassignDestroysThePreviousCallable) {
  inline_function<int()> f = [t = tracked(1)] { return t.value; };
  const int destroyed_before = tracked::destroyed;
  f = [t = tracked(2)] { return t.value * 10; };
  EXPECT_EQ(f(), 20);
  EXPECT_EQ(tracked::alive, 1);
  // The old capture died, plus the temporaries of building the new lambda.
  EXPECT_GE(tracked::destroyed, destroyed_before + 1);

  inline_function<int()> other = [t = tracked(3)] { return t.value; };
  f = std::move(other);
  EXPECT_EQ(f(), 3);
  EXPECT_EQ(tracked::alive, 1);
}

TEST_F(InlineFunction, SelfMoveAssignmentKeepsTheCallable) {
  inline_function<int()> f = [t = tracked(4)] { return t.value; };
  auto& alias = f;
  f = std::move(alias);
  ASSERT_TRUE(f);
  EXPECT_EQ(f(), 4);
  EXPECT_EQ(tracked::alive, 1);
}

TEST_F(InlineFunction, MoveOnlyCaptures) {
  auto p = std::make_unique<int>(17);
  inline_function<int()> f = [p = std::move(p)] { return *p; };
  inline_function<int()> g = std::move(f);
  EXPECT_EQ(g(), 17);

  // The callable may hand its move-only state out.
  inline_function<std::unique_ptr<int>()> give = [p = std::make_unique<int>(8)]() mutable {
    return std::move(p);
  };
  auto out = give();
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(*out, 8);
  EXPECT_EQ(give(), nullptr);
}

TEST_F(InlineFunction, Swap) {
  inline_function<int()> a = [t = tracked(1)] { return t.value; };
  inline_function<int()> b = [] { return 2; };
  swap(a, b);
  EXPECT_EQ(a(), 2);
  EXPECT_EQ(b(), 1);
  inline_function<int()> empty;
  a.swap(empty);
  EXPECT_FALSE(a);
  EXPECT_EQ(empty(), 2);
  EXPECT_EQ(tracked::alive, 1);
}

TEST_F(InlineFunction, UsesExactlyTheAdvertisedCapacity) {
  // A capture of exactly Capacity bytes fits; the storage is all usable.
  std::array<char, 48> bytes{};
  bytes[47] = 'z';
  inline_function<char(), 48> f = [bytes] { return bytes[47]; };
  EXPECT_EQ(f(), 'z');
}

TEST_F(InlineFunction, CanStoreTrait) {
  using fn = inline_function<void(int), 32>;
  auto small = [p = static_cast<void*>(nullptr)](int) { (void)p; };
  auto exact = [a = std::array<char, 32>{}](int) { (void)a; };
  auto large = [a = std::array<char, 33>{}](int) { (void)a; };
  struct alignas(64) over_aligned {
    void operator()(int) const {}
  };
  struct throwing_move {
    throwing_move() = default;
    throwing_move(throwing_move&&) noexcept(false) {}
    void operator()(int) const {}
  };
  auto wrong_signature = [](const std::string&) {};

  static_assert(fn::can_store<decltype(small)>);
  static_assert(fn::can_store<decltype(exact)>);
  static_assert(!fn::can_store<decltype(large)>, "too big");
  static_assert(!fn::can_store<over_aligned>, "over-aligned");
  static_assert(!fn::can_store<throwing_move>, "throwing move");
  static_assert(!fn::can_store<decltype(wrong_signature)>, "not invocable as void(int)");
  static_assert(fn::can_store<void (*)(int)>);
  static_assert(inline_function<void(int), 40>::can_store<decltype(large)>);

  // Overload resolution sees only the invocability constraint, so a wrongly typed callable
  // is not even a candidate (and cannot silently pick a different overload).
  static_assert(!std::is_constructible_v<fn, decltype(wrong_signature)>);
  static_assert(std::is_constructible_v<fn, decltype(small)>);
  SUCCEED();
}

TEST_F(InlineFunction, IsMoveOnlyAndNothrowMovable) {
  using fn = inline_function<void()>;
  static_assert(!std::is_copy_constructible_v<fn>);
  static_assert(!std::is_copy_assignable_v<fn>);
  static_assert(std::is_nothrow_move_constructible_v<fn>);
  static_assert(std::is_nothrow_move_assignable_v<fn>);
  SUCCEED();
}

TEST_F(InlineFunction, SizeIsStoragePlusOnePointer) {
  // Hot structs hold these by value: the object is the storage plus the ops pointer, padded to
  // the storage alignment, and nothing else.
  static_assert(alignof(std::max_align_t) == 16, "the sizes below assume x86-64 / aarch64");
  static_assert(sizeof(inline_function<void()>) == 48);
  static_assert(sizeof(inline_function<void(), 24>) == 32);
  static_assert(sizeof(inline_function<void(), 40>) == 48);
  static_assert(sizeof(inline_function<void(), 56>) == 64);
  SUCCEED();
}

TEST(InlineFunctionDeathTest, InvokingEmptyAsserts) {
#ifdef NDEBUG
  GTEST_SKIP() << "assertions are compiled out";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  inline_function<void()> f;
  EXPECT_DEATH(f(), "empty inline_function");
#endif
}

}  // namespace
}  // namespace uredis::util

// intrusive_list: order of push/pop/insert/erase, auto-unlink on destruction, several hooks per
// element, moving a list, and erasing while iterating.

#include "uredis/util/intrusive_list.hpp"

#include <gtest/gtest.h>

#include <iterator>
#include <memory>
#include <type_traits>
#include <vector>

namespace uredis::util {
namespace {

// The hook is deliberately not the first member, so the hook -> element mapping is exercised
// with a nonzero offset.
struct op {
  explicit op(int v) : value(v) {}
  int value;
  double padding = 0;
  list_hook hook;
  list_hook timer_hook;
};

using op_list = intrusive_list<op, &op::hook>;
using timer_list = intrusive_list<op, &op::timer_hook>;

std::vector<int> values(const op_list& list) {
  std::vector<int> out;
  for (const op& o : list)
    out.push_back(o.value);
  return out;
}

TEST(IntrusiveList, StartsEmpty) {
  op_list list;
  EXPECT_TRUE(list.empty());
  EXPECT_EQ(list.begin(), list.end());
}

TEST(IntrusiveList, PushBackAndFrontKeepOrder) {
  op a(1), b(2), c(3);
  op_list list;
  list.push_back(b);
  list.push_front(a);
  list.push_back(c);
  EXPECT_FALSE(list.empty());
  EXPECT_EQ(values(list), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(&list.front(), &a);
  EXPECT_EQ(&list.back(), &c);
  EXPECT_TRUE(a.hook.is_linked());
  EXPECT_FALSE(a.timer_hook.is_linked());
}

TEST(IntrusiveList, PopFrontAndBack) {
  op a(1), b(2), c(3);
  op_list list;
  list.push_back(a);
  list.push_back(b);
  list.push_back(c);
  list.pop_front();
  EXPECT_FALSE(a.hook.is_linked());
  EXPECT_EQ(values(list), (std::vector<int>{2, 3}));
  list.pop_back();
  EXPECT_FALSE(c.hook.is_linked());
  EXPECT_EQ(values(list), (std::vector<int>{2}));
  list.pop_front();
  EXPECT_TRUE(list.empty());
}

TEST(IntrusiveList, EraseFromAnyPosition) {
  op a(1), b(2), c(3);
  op_list list;
  list.push_back(a);
  list.push_back(b);
  list.push_back(c);
  list.erase(b);
  EXPECT_FALSE(b.hook.is_linked());
  EXPECT_EQ(values(list), (std::vector<int>{1, 3}));
  list.erase(c);
  list.erase(a);
  EXPECT_TRUE(list.empty());
  // An erased element can be linked again.
  list.push_back(b);
  EXPECT_EQ(values(list), (std::vector<int>{2}));
}

TEST(IntrusiveList, InsertBeforePosition) {
  op a(1), b(2), c(3), d(4);
  op_list list;
  list.push_back(a);
  list.push_back(c);
  auto it = list.insert(list.iterator_to(c), b);
  EXPECT_EQ(&*it, &b);
  list.insert(list.end(), d);
  EXPECT_EQ(values(list), (std::vector<int>{1, 2, 3, 4}));
}

TEST(IntrusiveList, DestroyedElementUnlinksItself) {
  op a(1), c(3);
  op_list list;
  list.push_back(a);
  {
    op b(2);
    list.push_back(b);
    list.push_back(c);
    EXPECT_EQ(values(list), (std::vector<int>{1, 2, 3}));
  }  // b dies while linked: an in-flight operation going away
  EXPECT_EQ(values(list), (std::vector<int>{1, 3}));
  {
    auto only = std::make_unique<op>(9);
    op_list single;
    single.push_back(*only);
    only.reset();
    EXPECT_TRUE(single.empty());
  }
}

TEST(IntrusiveList, HookUnlinkWithoutTheList) {
  op a(1), b(2);
  op_list list;
  list.push_back(a);
  list.push_back(b);
  a.hook.unlink();
  EXPECT_EQ(values(list), (std::vector<int>{2}));
  a.hook.unlink();  // unlinking twice is harmless
  EXPECT_EQ(values(list), (std::vector<int>{2}));
}

TEST(IntrusiveList, DestroyedListUnlinksButKeepsElements) {
  op a(1), b(2);
  {
    op_list list;
    list.push_back(a);
    list.push_back(b);
  }
  EXPECT_FALSE(a.hook.is_linked());
  EXPECT_FALSE(b.hook.is_linked());
  EXPECT_EQ(a.value, 1);  // the list owned nothing; the elements are intact
}

TEST(IntrusiveList, ClearUnlinksAll) {
  op a(1), b(2);
  op_list list;
  list.push_back(a);
  list.push_back(b);
  list.clear();
  EXPECT_TRUE(list.empty());
  EXPECT_FALSE(a.hook.is_linked());
  EXPECT_FALSE(b.hook.is_linked());
}

TEST(IntrusiveList, ElementOnTwoListsThroughTwoHooks) {
  op a(1), b(2);
  op_list pending;
  timer_list timers;
  pending.push_back(a);
  pending.push_back(b);
  timers.push_back(b);
  timers.push_back(a);
  pending.erase(a);
  EXPECT_EQ(values(pending), (std::vector<int>{2}));
  EXPECT_EQ(&timers.front(), &b);
  EXPECT_EQ(&timers.back(), &a);
  EXPECT_EQ(std::distance(timers.begin(), timers.end()), 2);
}

TEST(IntrusiveList, EraseWhileIterating) {
  std::vector<std::unique_ptr<op>> ops;
  op_list list;
  for (int i = 0; i < 10; ++i) {
    ops.push_back(std::make_unique<op>(i));
    list.push_back(*ops.back());
  }
  for (auto it = list.begin(); it != list.end();) {
    it = it->value % 2 == 0 ? list.erase(it) : std::next(it);
  }
  EXPECT_EQ(values(list), (std::vector<int>{1, 3, 5, 7, 9}));
}

TEST(IntrusiveList, BidirectionalIteration) {
  op a(1), b(2), c(3);
  op_list list;
  list.push_back(a);
  list.push_back(b);
  list.push_back(c);
  std::vector<int> reversed;
  for (auto it = list.end(); it != list.begin();)
    reversed.push_back((--it)->value);
  EXPECT_EQ(reversed, (std::vector<int>{3, 2, 1}));
  static_assert(std::bidirectional_iterator<op_list::iterator>);
  static_assert(std::bidirectional_iterator<op_list::const_iterator>);
  op_list::const_iterator cit = list.begin();  // iterator converts to const_iterator
  EXPECT_EQ(cit->value, 1);
}

TEST(IntrusiveList, MoveTransfersElements) {
  op a(1), b(2);
  op_list first;
  first.push_back(a);
  first.push_back(b);
  op_list second(std::move(first));
  EXPECT_TRUE(first.empty());  // NOLINT(bugprone-use-after-move): specified to be empty
  EXPECT_EQ(values(second), (std::vector<int>{1, 2}));

  op c(3);
  op_list third;
  third.push_back(c);
  third = std::move(second);
  EXPECT_FALSE(c.hook.is_linked()) << "the assigned-to list's old elements are unlinked";
  EXPECT_EQ(values(third), (std::vector<int>{1, 2}));
  // The moved chain points at the new sentinel: unlinking and pushing still work.
  third.erase(a);
  third.push_front(c);
  EXPECT_EQ(values(third), (std::vector<int>{3, 2}));

  op_list empty_source;
  op_list target(std::move(empty_source));
  EXPECT_TRUE(target.empty());
}

TEST(IntrusiveList, HooksAreNotCopyable) {
  static_assert(!std::is_copy_constructible_v<list_hook>);
  static_assert(!std::is_copy_assignable_v<list_hook>);
  static_assert(!std::is_move_constructible_v<list_hook>);
  static_assert(!std::is_copy_constructible_v<op_list>);
  static_assert(sizeof(list_hook) == 2 * sizeof(void*), "a hook is two pointers");
  SUCCEED();
}

TEST(IntrusiveListDeathTest, LinkingAnotherListsElementAsserts) {
#ifdef NDEBUG
  GTEST_SKIP() << "assertions are compiled out";
#else
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  op a(1);
  op_list list;
  list.push_back(a);
  EXPECT_DEATH(list.push_back(a), "already on a list");
#endif
}

}  // namespace
}  // namespace uredis::util

// slot_table: the id bit layout, stale-id detection across reuse and generation wrap, take()
// freeing before the value runs, growth keeping ids valid, and value lifetimes.

#include "uredis/util/slot_table.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "uredis/util/inline_function.hpp"
#include "uredis/util/random.hpp"

namespace uredis::util {
namespace {

struct counted {
  static inline int alive = 0;
  int value;
  explicit counted(int v) noexcept : value(v) { ++alive; }
  counted(counted&& o) noexcept : value(o.value) { ++alive; }
  counted(const counted&) = delete;
  ~counted() { --alive; }
};

TEST(SlotTableSlotId, LayoutAndHelpers) {
  static_assert(slot_index_mask == 0x0000'0000'FFFF'FFFFull);
  static_assert(slot_generation_mask == 0x00FF'FFFF'0000'0000ull);
  static_assert(slot_tag_mask == 0xFF00'0000'0000'0000ull);
  static_assert(encode_slot_id(0x1234'5678, 0xAB'CDEF) == 0x00AB'CDEF'1234'5678ull);
  static_assert(encode_slot_id(1, slot_generation_limit + 5) == encode_slot_id(1, 5),
                "generations wrap within 24 bits and never reach the tag");
  constexpr std::uint64_t id = encode_slot_id(7, 99);
  static_assert(decode_slot_index(id) == 7);
  static_assert(decode_slot_generation(id) == 99);
  constexpr std::uint64_t user_data = with_tag(id, 0xC3);
  static_assert(user_data == (0xC3ull << 56 | id));
  static_assert(decode_tag(user_data) == 0xC3);
  static_assert(strip_tag(user_data) == id);
  static_assert(decode_slot_index(user_data) == 7 && decode_slot_generation(user_data) == 99);
  static_assert(with_tag(user_data, 0x01) == (0x01ull << 56 | id), "re-tagging replaces");
  SUCCEED();
}

TEST(SlotTable, InsertFindTake) {
  slot_table<std::string> t;
  const auto a = t.insert(std::string("alpha"));
  const auto b = t.insert(std::string("beta"));
  EXPECT_NE(a, b);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(a & slot_tag_mask, 0u) << "the table never sets tag bits";
  ASSERT_NE(t.find(a), nullptr);
  EXPECT_EQ(*t.find(a), "alpha");
  EXPECT_EQ(*t.find(b), "beta");
  EXPECT_TRUE(t.contains(b));

  std::optional<std::string> v = t.take(a);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, "alpha");
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.find(a), nullptr);
  EXPECT_FALSE(t.take(a).has_value()) << "a second take of the same id finds nothing";
}

TEST(SlotTable, FindIgnoresTheTag) {
  slot_table<int> t;
  const auto id = t.insert(5);
  for (unsigned tag : {0u, 1u, 0x7Fu, 0xFFu}) {
    const auto user_data = with_tag(id, static_cast<std::uint8_t>(tag));
    ASSERT_NE(t.find(user_data), nullptr);
    EXPECT_EQ(*t.find(user_data), 5);
  }
  EXPECT_TRUE(t.erase(with_tag(id, 9)));
  EXPECT_TRUE(t.empty());
}

TEST(SlotTable, StaleIdAfterReuseOfTheSameSlot) {
  slot_table<int> t(4);
  const auto old_id = t.insert(1);
  ASSERT_TRUE(t.erase(old_id));
  const auto new_id = t.insert(2);  // reuses the freed slot (last freed, first reused)
  EXPECT_EQ(decode_slot_index(new_id), decode_slot_index(old_id));
  EXPECT_NE(new_id, old_id);
  EXPECT_EQ(t.find(old_id), nullptr) << "a late completion must not see the new value";
  EXPECT_FALSE(t.erase(old_id));
  EXPECT_FALSE(t.take(old_id).has_value());
  ASSERT_NE(t.find(new_id), nullptr);
  EXPECT_EQ(*t.find(new_id), 2);
}

TEST(SlotTable, UnknownIdsAreRejected) {
  slot_table<int> t(8);
  EXPECT_EQ(t.find(0), nullptr);  // never issued
  const auto id = t.insert(3);
  EXPECT_EQ(t.find(encode_slot_id(decode_slot_index(id) + 1, 0)), nullptr);  // never used
  EXPECT_EQ(t.find(encode_slot_id(1'000'000, 0)), nullptr);                  // out of range
  EXPECT_EQ(t.find(encode_slot_id(decode_slot_index(id), decode_slot_generation(id) + 1)),
            nullptr);  // a future generation of a live slot
  t.erase(id);
  // The generation a freed slot will use next must not match while the slot is free.
  EXPECT_EQ(t.find(encode_slot_id(decode_slot_index(id), decode_slot_generation(id) + 1)), nullptr);
}

TEST(SlotTable, GenerationDistinctForTwoToThe24Reuses) {
  // One slot reused 2^24 times: every id differs from the first until the counter wraps,
  // exactly at 2^24 frees, and then (documented) repeats.
  slot_table<std::uint32_t> t(1);
  const auto first = t.insert(0);
  std::uint64_t id = first;
  for (std::uint32_t n = 1; n < slot_generation_limit; ++n) {
    t.erase(id);
    id = t.insert(n);
    if (id == first) FAIL() << "id repeated after only " << n << " reuses";
    ASSERT_EQ(decode_slot_index(id), decode_slot_index(first));
  }
  EXPECT_EQ(t.find(first), nullptr);
  t.erase(id);
  id = t.insert(0);
  EXPECT_EQ(id, first) << "after exactly 2^24 reuses the 24-bit generation wraps";
}

TEST(SlotTable, TakeFreesTheSlotBeforeTheValueRuns) {
  // The completion inserts a follow-up operation while running; with a one-slot table that
  // only works if take() freed the slot first.
  slot_table<inline_function<void()>> t(1);
  std::uint64_t follow_up = 0;
  const auto id = t.insert([&t, &follow_up] { follow_up = t.insert([] {}); });
  EXPECT_EQ(t.capacity(), 1u);
  auto fn = t.take(id);
  ASSERT_TRUE(fn.has_value());
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.find(id), nullptr) << "the id is stale before the value runs";
  (*fn)();
  EXPECT_EQ(t.capacity(), 1u) << "the follow-up reused the freed slot";
  EXPECT_NE(t.find(follow_up), nullptr);
  EXPECT_NE(follow_up, id);
}

TEST(SlotTable, GrowsOnlyWhenFullAndKeepsIds) {
  slot_table<int> t(4);
  EXPECT_EQ(t.capacity(), 4u);
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < 4; ++i)
    ids.push_back(t.insert(int{i}));
  EXPECT_EQ(t.capacity(), 4u);
  t.erase(ids[1]);
  ids[1] = t.insert(100);  // reuses; still no growth
  EXPECT_EQ(t.capacity(), 4u);
  for (int i = 4; i < 100; ++i)
    ids.push_back(t.insert(int{i}));
  EXPECT_GE(t.capacity(), 100u);
  EXPECT_EQ(t.size(), 100u);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ASSERT_NE(t.find(ids[i]), nullptr) << i;
    EXPECT_EQ(*t.find(ids[i]), i == 1 ? 100 : static_cast<int>(i));
  }
}

TEST(SlotTable, ReserveAvoidsGrowth) {
  slot_table<int> t;
  EXPECT_EQ(t.capacity(), 0u);
  t.reserve(1000);
  EXPECT_EQ(t.capacity(), 1000u);
  for (int round = 0; round < 50; ++round) {
    std::vector<std::uint64_t> ids;
    for (int i = 0; i < 1000; ++i)
      ids.push_back(t.insert(int{i}));
    for (auto id : ids)
      t.erase(id);
  }
  EXPECT_EQ(t.capacity(), 1000u);
  EXPECT_TRUE(t.empty());
}

TEST(SlotTable, MatchesModelUnderRandomOperations) {
  // Live ids must always resolve to their value; every id ever freed must stay stale.
  slot_table<std::uint64_t> t;
  std::vector<std::uint64_t> live;
  std::set<std::uint64_t> dead;
  rng r(7);
  for (int step = 0; step < 20000; ++step) {
    if (live.empty() || r.below(100) < 55) {
      const std::uint64_t value = r();
      const auto id = t.insert(std::uint64_t{value});
      ASSERT_EQ(dead.count(id), 0u) << "an id was reissued";
      ASSERT_EQ(*t.find(id), value);
      live.push_back(id);
      *t.find(id) = id;  // store the id itself, to check against later
    } else {
      const std::size_t i = r.below(live.size());
      const auto id = live[i];
      live[i] = live.back();
      live.pop_back();
      if (r.below(2) == 0) {
        auto v = t.take(id);
        ASSERT_TRUE(v.has_value());
        ASSERT_EQ(*v, id);
      } else {
        ASSERT_TRUE(t.erase(id));
      }
      dead.insert(id);
    }
    ASSERT_EQ(t.size(), live.size());
  }
  for (auto id : live)
    ASSERT_EQ(*t.find(id), id);
  for (auto id : dead)
    ASSERT_EQ(t.find(id), nullptr);
  std::size_t visited = 0;
  t.for_each([&](std::uint64_t id, std::uint64_t& value) {
    EXPECT_EQ(id, value);
    ++visited;
  });
  EXPECT_EQ(visited, live.size());
}

TEST(SlotTable, ValueLifetimes) {
  counted::alive = 0;
  {
    slot_table<counted> t(2);
    const auto a = t.emplace(1);
    const auto b = t.emplace(2);
    t.emplace(3);  // grows: relocation destroys the originals
    EXPECT_EQ(counted::alive, 3);
    t.erase(a);
    EXPECT_EQ(counted::alive, 2);
    {
      auto v = t.take(b);
      ASSERT_TRUE(v.has_value());
      EXPECT_EQ(v->value, 2);
      EXPECT_EQ(counted::alive, 2) << "the moved-out value is alive, the slot's copy is not";
    }
    EXPECT_EQ(counted::alive, 1);
    const auto d = t.emplace(4);
    t.clear();
    EXPECT_EQ(counted::alive, 0);
    EXPECT_TRUE(t.empty());
    EXPECT_EQ(t.find(d), nullptr) << "clear makes every id stale";
    t.emplace(5);
  }
  EXPECT_EQ(counted::alive, 0);
}

TEST(SlotTable, MoveOnlyValuesAndMoveOfTheTable) {
  slot_table<std::unique_ptr<int>> t;
  const auto id = t.insert(std::make_unique<int>(3));
  slot_table<std::unique_ptr<int>> moved(std::move(t));
  EXPECT_TRUE(t.empty());  // NOLINT(bugprone-use-after-move): specified to be empty
  EXPECT_EQ(t.find(id), nullptr);
  ASSERT_NE(moved.find(id), nullptr);
  EXPECT_EQ(**moved.find(id), 3);
  auto p = moved.take(id);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(**p, 3);
}

TEST(SlotTable, SlotOfACallbackIsOneCacheLine) {
  // The intended use: completions stored inline. State word, free link and a 48-byte
  // inline_function (16-byte aligned) fill exactly 64 bytes.
  slot_table<inline_function<void(int)>> t(2);
  const auto a = t.insert([](int) {});
  const auto b = t.insert([](int) {});
  const auto* pa = reinterpret_cast<const char*>(t.find(a));
  const auto* pb = reinterpret_cast<const char*>(t.find(b));
  EXPECT_EQ(pb - pa, 64);
}

}  // namespace
}  // namespace uredis::util

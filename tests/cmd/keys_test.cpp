// The keys every descriptor lists (descriptor.hpp), and what keys_of.hpp makes of them: first
// key, hash slot, one slot or several; all at compile time where the keys allow it, and without
// allocating.

#include "uredis/cmd/keys_of.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "allocation_counter.hpp"
#include "uredis/cmd/all.hpp"
#include "uredis/util/key_slot.hpp"

namespace uredis::cmd {

// So that a failing comparison prints the key and the slots.
void PrintTo(const key_text& key, std::ostream* os) {
  *os << '"' << key.view() << '"';
}
void PrintTo(const slot_check& check, std::ostream* os) {
  *os << "{outcome " << static_cast<int>(check.result) << ", slot " << check.slot << '}';
}

namespace {

using namespace std::chrono_literals;
using util::key_slot;
using outcome = slot_check::outcome;

// ---- every descriptor states its keys -------------------------------------------------------

// A descriptor that does not say is no descriptor (exec() refuses it), nor is one that says both.
struct silent {
  using response = std::int64_t;
  void encode(resp::encoder& e) const { e.command("DBSIZE"); }
};
struct says_both {
  std::string_view key;
  using response = std::int64_t;
  void encode(resp::encoder& e) const { e.command("GET", key); }
  void for_each_key(auto&& f) const { f(key); }
  static constexpr bool keyless = true;
};
struct says_keyless_false {
  using response = std::int64_t;
  void encode(resp::encoder& e) const { e.command("DBSIZE"); }
  static constexpr bool keyless = false;
};
static_assert(!descriptor<silent> && !states_its_keys<silent>);
static_assert(!descriptor<says_both> && keyed<says_both> && keyless<says_both>);
static_assert(!descriptor<says_keyless_false> && !keyless<says_keyless_false>);

// Every descriptor uredis has, in one place: a new one goes here, and the list says which way it
// states its keys. (descriptor<> alone already requires exactly one; this pins which.)
template <class... D>
constexpr bool all_keyed() {
  return ((descriptor<D> && keyed<D> && !keyless<D>)&&...);
}
template <class... D>
constexpr bool all_keyless() {
  return ((descriptor<D> && keyless<D> && !keyed<D>)&&...);
}

static_assert(all_keyed<get, set, set_get, getdel, getex, mget, mset, incr, incrby, decr, decrby,
                        append, strlen,                                          // strings.hpp
                        del, unlink, exists, expire, pexpire, ttl, pttl,         // keys.hpp
                        hget, hset, hdel, hgetall, hincrby,                      // hashes.hpp
                        lpush, rpush, lpop, lpop_count, blpop, brpop, rpop,      // lists.hpp
                        rpop_count, lrange, llen,                                //
                        sadd, srem, smembers, sismember,                         // sets.hpp
                        zadd, zadd_incr, zrange, zrange_withscores, zscore,      // sorted_sets.hpp
                        zincrby,                                                 //
                        eval<>, eval<std::int64_t>, evalsha<>, evalsha<double>,  // scripting.hpp
                        eval_ro<>, evalsha_ro<>, fcall<>, fcall_ro<std::int64_t>,  //
                        spublish                                                   // pubsub.hpp
                        >());
static_assert(all_keyless<ping, echo,                    // server.hpp
                          scan,                          // keys.hpp
                          publish,                       // pubsub.hpp
                          script_load,                   // scripting.hpp
                          raw<>, raw<std::int64_t>>());  // raw.hpp

// Stating keys adds no data member: descriptors stay the small values they were (they are
// copied into coroutine frames).
static_assert(sizeof(get) == sizeof(std::string_view));
static_assert(sizeof(del) == sizeof(arg_list));
static_assert(sizeof(eval<>) == sizeof(std::string_view) + 2 * sizeof(arg_list));
static_assert(sizeof(ping) == sizeof(std::optional<std::string_view>));

// ---- compile time ---------------------------------------------------------------------------

static_assert(slot_of(get{"{user1}:a"}) == key_slot("user1"));
static_assert(slot_of(hset{"{user1}:h", {"f", "v"}}) == key_slot("user1"));
static_assert(*first_key(incr{"counter"}) == "counter");
static_assert(check_slots(set{"k", "v"}) == slot_check{outcome::one_slot, key_slot("k")});
static_assert(check_slots(mget{"k"}) == slot_check{outcome::one_slot, key_slot("k")});
static_assert(check_slots(del{}) == slot_check{});
static_assert(!slot_of(ping{}) && !first_key(publish{"channel", "m"}));
// A shard channel is routed by its slot, as a key.
static_assert(slot_of(spublish{"{room1}:chat", "m"}) == key_slot("room1"));
static_assert(same_slot(scan{}));

// ---- helpers --------------------------------------------------------------------------------

template <class D>
std::vector<std::string> keys_of(const D& d) {
  std::vector<std::string> keys;
  d.for_each_key([&keys](std::string_view key) { keys.emplace_back(key); });
  return keys;
}

// Everything keys_of.hpp answers for `d`, against `want` (its keys, in order).
template <class D>
void expect_keys(const D& d, std::initializer_list<std::string_view> want) {
  static_assert(keyed<D>);
  EXPECT_EQ(keys_of(d), std::vector<std::string>(want.begin(), want.end()));
  if (want.size() == 0) {
    EXPECT_EQ(first_key(d), std::nullopt);
    EXPECT_EQ(slot_of(d), std::nullopt);
    EXPECT_EQ(check_slots(d), slot_check{});
    EXPECT_TRUE(same_slot(d));
    return;
  }
  const std::uint16_t first = key_slot(*want.begin());
  bool one = true;
  for (const std::string_view key : want)
    one = one && key_slot(key) == first;
  EXPECT_EQ(first_key(d), *want.begin());
  EXPECT_EQ(slot_of(d), first);
  EXPECT_EQ(check_slots(d), (slot_check{one ? outcome::one_slot : outcome::cross_slot, first}));
  EXPECT_EQ(same_slot(d), one);
}

template <class D>
void expect_keyless(const D& d) {
  static_assert(keyless<D>);
  EXPECT_EQ(first_key(d), std::nullopt);
  EXPECT_EQ(slot_of(d), std::nullopt);
  EXPECT_EQ(check_slots(d), slot_check{});
  EXPECT_TRUE(same_slot(d));
}

// Slots of the plain keys used below, so the cross-slot cases are real ones.
static_assert(key_slot("a") != key_slot("b"));
static_assert(key_slot("k1") != key_slot("k2"));
static_assert(key_slot("{user1}:a") == key_slot("{user1}:b"));
static_assert(key_slot("{user1}:a") != key_slot("user1:a"));

// ---- every descriptor -----------------------------------------------------------------------

TEST(Keys, strings) {
  expect_keys(get{"k"}, {"k"});
  expect_keys(set{"k", "value", {.expiry = set_expiry::after(10s)}}, {"k"});
  expect_keys(set_get{"k", 42}, {"k"});  // the value is not a key, text or number
  expect_keys(getdel{"k"}, {"k"});
  expect_keys(getex{"k", getex_expiry::persist()}, {"k"});
  expect_keys(mget{"a"}, {"a"});
  expect_keys(mget{{"a", "b", "a"}}, {"a", "b", "a"});  // as many as given, in order
  expect_keys(mget{{"{user1}:a", "{user1}:b"}}, {"{user1}:a", "{user1}:b"});
  expect_keys(mset{{"k", "v"}}, {"k"});
  expect_keys(mset{{{"k1", "v1"}, {"k2", 2}}}, {"k1", "k2"});  // the values are not keys
  expect_keys(mset{{{"{t}1", "x"}, {"{t}2", "y"}}}, {"{t}1", "{t}2"});
  const std::map<std::string, int> pairs = {{"m1", 1}, {"m2", 2}};
  expect_keys(mset{pairs}, {"m1", "m2"});
  expect_keys(incr{"k"}, {"k"});
  expect_keys(incrby{"k", 5}, {"k"});
  expect_keys(decr{"k"}, {"k"});
  expect_keys(decrby{"k", 5}, {"k"});
  expect_keys(append{"k", "tail"}, {"k"});
  expect_keys(strlen{"k"}, {"k"});
}

TEST(Keys, generic_key_commands) {
  const std::vector<std::string> some = {"x", "{x}y", "{x}z"};
  expect_keys(del{"a"}, {"a"});
  expect_keys(del{{"a", "b"}}, {"a", "b"});
  expect_keys(del{some}, {"x", "{x}y", "{x}z"});  // all hash "x"
  expect_keys(del{}, {});
  expect_keys(unlink{"a"}, {"a"});
  expect_keys(unlink{some}, {"x", "{x}y", "{x}z"});
  expect_keys(unlink{{"k1", "k2"}}, {"k1", "k2"});
  expect_keys(exists{{"a", "a"}}, {"a", "a"});
  expect_keys(exists{{"{user1}:a", "user1:a"}}, {"{user1}:a", "user1:a"});
  expect_keys(expire{"k", 10s, update_condition::nx}, {"k"});
  expect_keys(pexpire{"k", 1500ms}, {"k"});
  expect_keys(ttl{"k"}, {"k"});
  expect_keys(pttl{"k"}, {"k"});
  expect_keyless(scan{.cursor = 7, .match = "user:*", .count = 100, .type = "string"});
}

TEST(Keys, hashes) {
  expect_keys(hget{"h", "field"}, {"h"});
  expect_keys(hset{"h", {{"f", "v"}, {"g", 2}}}, {"h"});  // fields are not keys
  expect_keys(hdel{"h", {"f", "g"}}, {"h"});
  expect_keys(hgetall{"{user1}:h"}, {"{user1}:h"});
  expect_keys(hincrby{"h", "f", 3}, {"h"});
}

TEST(Keys, lists) {
  expect_keys(lpush{"l", {"a", "b"}}, {"l"});  // values are not keys
  expect_keys(rpush{"l", "a"}, {"l"});
  expect_keys(lpop{"l"}, {"l"});
  expect_keys(lpop_count{"l", 3}, {"l"});
  expect_keys(blpop{"l", 1s}, {"l"});
  expect_keys(brpop{"l", 0ms}, {"l"});
  expect_keys(rpop{"l"}, {"l"});
  expect_keys(rpop_count{"l", 2}, {"l"});
  expect_keys(lrange{"l", 0, -1}, {"l"});
  expect_keys(llen{"l"}, {"l"});
}

TEST(Keys, sets_and_sorted_sets) {
  expect_keys(sadd{"s", {"m1", "m2"}}, {"s"});  // members are not keys
  expect_keys(srem{"s", "m"}, {"s"});
  expect_keys(smembers{"s"}, {"s"});
  expect_keys(sismember{"s", "m"}, {"s"});
  expect_keys(zadd{"z", {{1, "a"}, {2, "b"}}, {.changed = true}}, {"z"});
  expect_keys(zadd_incr{"z", 2.5, "a"}, {"z"});
  expect_keys(zrange{"z", 0, -1}, {"z"});
  expect_keys(zrange_withscores{"z", "-inf", "+inf", {.by = zrange_by::score}}, {"z"});
  expect_keys(zscore{"z", "a"}, {"z"});
  expect_keys(zincrby{"z", 1, "a"}, {"z"});
}

TEST(Keys, scripting_keys_are_the_keys_list_only) {
  expect_keys(eval{"return 1"}, {});
  expect_keys(eval{"s", "k"}, {"k"});
  expect_keys(eval{"s", {"k1", "k2"}, {"a1", "a2"}}, {"k1", "k2"});  // args are not keys
  expect_keys(eval<std::int64_t>{"s", {}, {"not-a-key"}}, {});
  expect_keys(eval{"s", {"{user1}:a", "{user1}:b"}, {"x"}}, {"{user1}:a", "{user1}:b"});
  const std::vector<std::string_view> keys = {"a", "b"};
  expect_keys(evalsha{"0123456789abcdef0123456789abcdef01234567", keys, {1, 2}}, {"a", "b"});
  expect_keys(evalsha<double>{"sha", {}, {"x"}}, {});
  expect_keyless(script_load{"return KEYS[1]"});
  // The read-only forms and functions state their keys the same way.
  expect_keys(eval_ro{"s", {"k1", "k2"}, {"a1"}}, {"k1", "k2"});
  expect_keys(evalsha_ro{"sha", {}, {"x"}}, {});
  expect_keys(fcall{"f", {"{t}a", "{t}b"}, {"arg"}}, {"{t}a", "{t}b"});
  expect_keys(fcall_ro<std::int64_t>{"f", "k", {"not-a-key"}}, {"k"});
}

TEST(Keys, keyless_commands) {
  expect_keyless(ping{});
  expect_keyless(ping{"hello"});
  expect_keyless(echo{"key-looking"});
  expect_keyless(publish{"news", "message"});  // a channel is not a key
  expect_keyless(raw{"GET", "k"});             // raw: which words are keys is not known
  expect_keyless(raw<std::int64_t>{"DEL", "a", "b"});
}

// ---- slots ----------------------------------------------------------------------------------

TEST(Keys, hash_tags_decide_the_slot) {
  EXPECT_EQ(slot_of(get{"{user1}:a"}), key_slot("user1"));
  EXPECT_EQ(slot_of(get{"{user1}:a"}), slot_of(hgetall{"{user1}:profile"}));
  EXPECT_NE(slot_of(get{"{user1}:a"}), slot_of(get{"user1:a"}));
  EXPECT_EQ(slot_of(get{"foo{}{bar}"}), key_slot("foo{}{bar}"));  // an empty tag: whole key
  EXPECT_EQ(slot_of(get{"foo{{bar}}zap"}), key_slot("{bar"));
  EXPECT_TRUE(same_slot(mget{{"{user1}:a", "{user1}:b", "{user1}"}}));
  EXPECT_FALSE(same_slot(mget{{"{user1}:a", "user1:b"}}));
  EXPECT_EQ(slot_of(eval{"s", {"{t}1", "{t}2"}, {"a", "b"}}), key_slot("t"));
}

TEST(Keys, cross_slot_reports_the_first_keys_slot) {
  EXPECT_EQ(check_slots(del{{"a", "a", "b"}}), (slot_check{outcome::cross_slot, key_slot("a")}));
  EXPECT_EQ(check_slots(del{{"a", "a"}}), (slot_check{outcome::one_slot, key_slot("a")}));
  // A single key is always in one slot, whatever its bytes.
  EXPECT_TRUE(same_slot(del{""}));
  EXPECT_EQ(slot_of(del{""}), key_slot(""));
}

// A key given as a number is the text the encoder sends: its slot is that text's.
TEST(Keys, number_keys_are_their_wire_text) {
  expect_keys(del{42}, {"42"});
  expect_keys(mget{{1, "a", 2.5}}, {"1", "a", "2.5"});
  const std::vector<std::int64_t> ids = {-7, 18};
  expect_keys(exists{ids}, {"-7", "18"});
  expect_keys(mset{{{1, "one"}, {2, "two"}}}, {"1", "2"});
  expect_keys(eval{"s", {std::uint64_t{18446744073709551615u}}}, {"18446744073709551615"});
  EXPECT_EQ(slot_of(del{42}), key_slot("42"));
  // The key's text outlives the call that formatted it, the longest number included.
  const auto longest = first_key(del{-2.2250738585072014e-308});
  ASSERT_TRUE(longest.has_value());
  EXPECT_EQ(longest->view(), "-2.2250738585072014e-308");
  EXPECT_EQ(longest->view().size(), key_text::inline_capacity);
  EXPECT_EQ(first_key(del{std::numeric_limits<std::int64_t>::min()}), "-9223372036854775808");
}

TEST(Keys, key_text_copies_short_keys_and_views_long_ones) {
  const std::string long_key(100, 'k');
  const auto viewed = first_key(get{long_key});
  ASSERT_TRUE(viewed.has_value());
  EXPECT_EQ(viewed->view().data(), long_key.data());
  const std::string short_key = "short";
  const auto copied = first_key(get{short_key});
  ASSERT_TRUE(copied.has_value());
  EXPECT_EQ(copied->view(), "short");
  EXPECT_NE(copied->view().data(), short_key.data());
  EXPECT_EQ(first_key(get{""}), "");  // an empty key is a key
}

// ---- allocation -----------------------------------------------------------------------------

TEST(Keys, allocate_nothing) {
  const std::vector<std::string> keys = {"{user1}:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                                         "{user1}:b"};
  const std::map<std::string, std::string> pairs = {{"k1", "v1"}, {"k2", "v2"}};
  const std::vector<std::int64_t> ids = {1, 2, 3};
  dev::allocation_scope scope;
  std::uint64_t sum = 0;
  const auto add = [&sum](std::string_view key) { sum += key.size(); };
  get{"k"}.for_each_key(add);
  mget{keys}.for_each_key(add);
  del{{"a", "b", 3}}.for_each_key(add);
  exists{ids}.for_each_key(add);
  mset{pairs}.for_each_key(add);
  eval{"s", keys, {"a"}}.for_each_key(add);
  sum += first_key(mget{keys})->view().size();
  sum += first_key(del{ids})->view().size();
  sum += *slot_of(mget{keys});
  sum += *slot_of(mset{pairs});
  sum += check_slots(del{{"a", "b", 3.5}}).slot;
  sum += check_slots(evalsha{"sha", keys, {}}).slot;
  sum += same_slot(exists{ids}) ? 1 : 0;
  sum += same_slot(raw{"DEL", keys}) ? 1 : 0;
  dev::do_not_optimize(sum);
  const std::uint64_t allocations = scope.allocations();
  EXPECT_EQ(allocations, 0u);
  EXPECT_GT(sum, 0u);
}

}  // namespace
}  // namespace uredis::cmd

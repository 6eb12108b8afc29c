// cache::store with byte strings and a manual clock: hits, single flight, the invalidation
// rules of both deliveries, flushes, expiry from the key's PTTL, the byte bound with CLOCK
// eviction, the decoded value of a lone bulk string, and a hit that allocates nothing.

#include "uredis/cache/store.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "allocation_counter.hpp"

namespace uredis::cache {
namespace {

using namespace std::chrono_literals;
using kind = store::found_kind;

std::string get(std::string_view key) {
  return "*2\r\n$3\r\nGET\r\n$" + std::to_string(key.size()) + "\r\n" + std::string(key) + "\r\n";
}

class Store : public ::testing::Test {
 protected:
  store_options options(delivery d = delivery::in_band) {
    store_options o;
    o.delivery = d;
    return o;
  }

  store::found find(store& s, std::string_view key) {
    const std::string command = get(key);
    const std::array<std::string_view, 1> keys{key};
    return s.find(command, keys, clock.now());
  }

  // A miss for `key` filled with `reply` (the key has no expiry).
  void cache(store& s, std::string_view key, std::string_view reply, std::int64_t pttl = -1) {
    const store::found f = find(s, key);
    ASSERT_EQ(f.kind, kind::miss);
    ASSERT_TRUE(s.fill(f.pending, reply, pttl, clock.now()));
  }

  util::manual_clock clock{util::clock::time_point(1h)};
};

TEST_F(Store, a_miss_then_its_reply_is_a_hit) {
  store s{options()};
  const store::found first = find(s, "k");
  EXPECT_EQ(first.kind, kind::miss);
  ASSERT_NE(first.pending, nullptr);
  EXPECT_TRUE(s.fill(first.pending, "$1\r\nv\r\n", -1, clock.now()));
  const store::found again = find(s, "k");
  EXPECT_EQ(again.kind, kind::hit);
  EXPECT_EQ(again.reply, "$1\r\nv\r\n");
  EXPECT_EQ(s.stats().hits, 1u);
  EXPECT_EQ(s.stats().misses, 1u);
  EXPECT_EQ(s.stats().entries, 1u);
}

TEST_F(Store, concurrent_misses_for_one_command_send_one_read) {
  store s{options()};
  const store::found first = find(s, "k");
  const store::found second = find(s, "k");
  const store::found third = find(s, "k");
  EXPECT_EQ(first.kind, kind::miss);
  EXPECT_EQ(second.kind, kind::pending);
  EXPECT_EQ(third.kind, kind::pending);
  EXPECT_EQ(second.pending, first.pending) << "they wait for the same read";
  EXPECT_EQ(s.stats().waits, 2u);
  EXPECT_TRUE(s.fill(first.pending, ":1\r\n", -1, clock.now()));
  EXPECT_EQ(find(s, "k").kind, kind::hit);
}

TEST_F(Store, a_failed_read_is_forgotten_and_the_next_one_is_a_miss) {
  store s{options()};
  const store::found f = find(s, "k");
  s.cancel(f.pending);
  EXPECT_EQ(s.stats().entries, 0u);
  EXPECT_EQ(find(s, "k").kind, kind::miss);
}

TEST_F(Store, commands_are_keyed_whole) {
  store s{options()};
  cache(s, "a", "$1\r\n1\r\n");
  const std::string strlen_a = "*2\r\n$6\r\nSTRLEN\r\n$1\r\na\r\n";
  const std::array<std::string_view, 1> keys{"a"};
  EXPECT_EQ(s.find(strlen_a, keys, clock.now()).kind, kind::miss);
  EXPECT_EQ(find(s, "a").kind, kind::hit);
}

TEST_F(Store, an_invalidation_drops_every_command_that_read_the_key) {
  store s{options()};
  cache(s, "a", "$1\r\n1\r\n");
  cache(s, "b", "$1\r\n2\r\n");
  const std::string mget = "*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nc\r\n";
  const std::array<std::string_view, 2> keys{"a", "c"};
  const store::found m = s.find(mget, keys, clock.now());
  ASSERT_TRUE(s.fill(m.pending, "*2\r\n$1\r\n1\r\n_\r\n", -1, clock.now()));
  EXPECT_EQ(s.invalidate("a"), 2u);
  EXPECT_EQ(find(s, "a").kind, kind::miss);
  EXPECT_EQ(s.find(mget, keys, clock.now()).kind, kind::miss);
  EXPECT_EQ(find(s, "b").kind, kind::hit) << "another key stays";
  EXPECT_EQ(s.invalidate("nobody-read-this"), 0u);
}

TEST_F(Store, in_band_an_invalidation_before_the_pending_reply_is_about_an_older_value) {
  store s{options(delivery::in_band)};
  const store::found f = find(s, "k");
  s.invalidate("k");  // arrived before the read's reply: written before the read ran
  EXPECT_TRUE(s.fill(f.pending, "$3\r\nnew\r\n", -1, clock.now()));
  EXPECT_EQ(find(s, "k").reply, "$3\r\nnew\r\n");
}

TEST_F(Store, redirected_an_invalidation_overtaking_the_reply_keeps_it_from_being_stored) {
  store s{options(delivery::redirected)};
  const store::found f = find(s, "k");
  EXPECT_EQ(find(s, "k").kind, kind::pending);
  s.invalidate("k");  // may have overtaken the reply: the reply may be older than the write
  EXPECT_FALSE(s.fill(f.pending, "$3\r\nold\r\n", -1, clock.now()));
  EXPECT_EQ(s.stats().not_stored, 1u);
  EXPECT_EQ(find(s, "k").kind, kind::miss);
}

TEST_F(Store, redirected_a_read_after_an_invalidation_never_joins_the_stale_one) {
  // The invalidation is processed: a read issued from then on must not get the reply of one
  // sent before it, which may hold the value from before the write.
  for (const bool by_flush : {false, true}) {
    SCOPED_TRACE(by_flush ? "flush" : "invalidate");
    store s{options(delivery::redirected)};
    const store::found before = find(s, "k");
    if (by_flush) {
      s.flush();
    } else {
      s.invalidate("k");
    }
    const store::found after = find(s, "k");
    EXPECT_EQ(after.kind, kind::miss) << "joined a read older than the invalidation";
    EXPECT_NE(after.pending, before.pending);
    EXPECT_FALSE(s.fill(before.pending, "$3\r\nold\r\n", -1, clock.now()));
    EXPECT_TRUE(s.fill(after.pending, "$3\r\nnew\r\n", -1, clock.now()));
    EXPECT_EQ(find(s, "k").reply, "$3\r\nnew\r\n");
  }
}

TEST_F(Store, written_everything_drops_what_is_stored_and_detaches_reads_in_flight) {
  store s{options(delivery::in_band)};  // even in band: the reply may be from before
  cache(s, "a", ":1\r\n");
  const store::found before = find(s, "b");
  s.written_everything();
  EXPECT_EQ(find(s, "a").kind, kind::miss);
  const store::found after = find(s, "b");
  EXPECT_NE(after.pending, before.pending) << "a read after it joined one from before";
  EXPECT_FALSE(s.fill(before.pending, ":2\r\n", -1, clock.now()));
  EXPECT_TRUE(s.fill(after.pending, ":3\r\n", -1, clock.now()));
}

TEST_F(Store, a_flush_drops_everything_stored) {
  store s{options()};
  cache(s, "a", ":1\r\n");
  cache(s, "b", ":2\r\n");
  const store::found pending = find(s, "c");
  s.flush();
  EXPECT_EQ(s.stats().flushes, 1u);
  EXPECT_EQ(s.stats().entries, 1u) << "the read in flight stays";
  EXPECT_EQ(find(s, "a").kind, kind::miss);
  EXPECT_TRUE(s.fill(pending.pending, ":3\r\n", -1, clock.now())) << "in band: not stale";
}

TEST_F(Store, redirected_a_flush_makes_reads_in_flight_stale) {
  store s{options(delivery::redirected)};
  const store::found pending = find(s, "c");
  s.flush();
  EXPECT_FALSE(s.fill(pending.pending, ":3\r\n", -1, clock.now()));
}

TEST_F(Store, a_write_drops_stored_entries_and_detaches_reads_in_flight) {
  store s{options()};
  cache(s, "a", "$1\r\n1\r\n");
  const store::found before = find(s, "b");  // a read of b sent before the write
  s.written("a");
  s.written("b");
  EXPECT_EQ(s.stats().entries, 1u) << "a is gone; b's read in flight is kept for its waiters";
  const store::found after = find(s, "b");
  EXPECT_EQ(after.kind, kind::miss) << "a read after the write never waits for one before it";
  EXPECT_NE(after.pending, before.pending);
  EXPECT_FALSE(s.fill(before.pending, "$3\r\nold\r\n", -1, clock.now())) << "older than the write";
  EXPECT_TRUE(s.fill(after.pending, "$3\r\nnew\r\n", -1, clock.now()));
  const store::found hit = find(s, "b");
  EXPECT_EQ(hit.kind, kind::hit);
  EXPECT_EQ(hit.reply, "$3\r\nnew\r\n");
}

TEST_F(Store, a_detached_read_can_fail_and_a_store_with_one_can_go) {
  store s{options()};
  const store::found failed = find(s, "k");
  s.written("k");
  s.cancel(failed.pending);
  EXPECT_EQ(s.stats().entries, 0u);
  auto owner = std::make_unique<store>(options());
  const std::string command = get("k");
  const std::array<std::string_view, 1> keys{"k"};
  (void)owner->find(command, keys, clock.now());
  owner->written("k");
  owner.reset();  // frees the detached read too (ASan would see a leak)
}

TEST_F(Store, lookup_lists_no_keys_until_a_miss_begins_a_read) {
  store s{options()};
  const std::string command = get("k");
  const store::found miss = s.lookup(command, clock.now());
  EXPECT_EQ(miss.kind, kind::miss);
  EXPECT_EQ(miss.pending, nullptr);
  EXPECT_EQ(s.stats().entries, 0u);
  const std::array<std::string_view, 1> keys{"k"};
  store::entry* e = s.begin_read(command, keys, clock.now() - 10ms);
  EXPECT_EQ(store::sent(e), clock.now() - 10ms);
  EXPECT_EQ(store::key_count(e), 1u);
  EXPECT_EQ(s.lookup(command, clock.now()).kind, kind::pending);
  s.cancel(e);
}

TEST_F(Store, an_entry_expires_with_its_key) {
  store s{options()};
  const auto sent = clock.now();
  const store::found f = find(s, "k");
  clock.advance(1ms);  // the reply's delay does not extend the entry
  ASSERT_TRUE(s.fill(f.pending, "$1\r\nv\r\n", 50, sent));
  clock.set(sent + 49ms);
  EXPECT_EQ(find(s, "k").kind, kind::hit);
  clock.set(sent + 50ms);
  EXPECT_EQ(find(s, "k").kind, kind::miss) << "served after the key expired";
  EXPECT_EQ(s.stats().expirations, 1u);
}

TEST_F(Store, max_ttl_caps_every_entry) {
  store_options o = options();
  o.max_ttl = 100ms;
  store s{o};
  cache(s, "forever", "$1\r\nv\r\n", -1);
  cache(s, "long", "$1\r\nv\r\n", 10'000);
  clock.advance(100ms);
  EXPECT_EQ(find(s, "forever").kind, kind::miss);
  EXPECT_EQ(find(s, "long").kind, kind::miss);
}

TEST_F(Store, a_missing_key_is_cached_only_with_a_max_ttl) {
  store plain{options()};
  const store::found f = find(plain, "none");
  EXPECT_FALSE(plain.fill(f.pending, "_\r\n", -2, clock.now()));
  EXPECT_EQ(find(plain, "none").kind, kind::miss);

  store_options o = options();
  o.max_ttl = 30ms;
  store capped{o};
  cache(capped, "none", "_\r\n", -2);
  EXPECT_EQ(find(capped, "none").kind, kind::hit);
  clock.advance(30ms);
  EXPECT_EQ(find(capped, "none").kind, kind::miss);
}

TEST_F(Store, a_reply_larger_than_max_value_bytes_is_never_stored) {
  store_options o = options();
  o.max_value_bytes = 16;
  store s{o};
  const store::found f = find(s, "big");
  EXPECT_FALSE(s.fill(f.pending, "$20\r\n01234567890123456789\r\n", -1, clock.now()));
  EXPECT_EQ(find(s, "big").kind, kind::miss);
}

TEST_F(Store, the_byte_bound_holds_and_recently_hit_entries_survive) {
  store_options o = options();
  o.max_bytes = 10 * (store::entry_overhead + 64);
  store s{o};
  const std::string value = "$16\r\n0123456789abcdef\r\n";
  for (int i = 0; i < 100; ++i) {
    cache(s, "key" + std::to_string(i), value);
    ASSERT_LE(s.stats().bytes, o.max_bytes);
    if (i >= 1) {  // key0 is read after every insert: CLOCK keeps it
      EXPECT_EQ(find(s, "key0").kind, kind::hit) << "after " << i;
    }
  }
  EXPECT_GT(s.stats().evictions, 80u);
  EXPECT_EQ(s.stats().entries + s.stats().evictions, 100u);
}

TEST_F(Store, pending_reads_are_never_evicted) {
  store_options o = options();
  o.max_bytes = 2 * (store::entry_overhead + 64);
  store s{o};
  const store::found in_flight = find(s, "slow");
  for (int i = 0; i < 20; ++i)
    cache(s, "key" + std::to_string(i), ":1\r\n");
  EXPECT_EQ(find(s, "slow").kind, kind::pending);
  EXPECT_TRUE(s.fill(in_flight.pending, ":2\r\n", -1, clock.now()));
}

TEST_F(Store, a_key_read_twice_by_one_command_is_invalidated_once) {
  store s{options()};
  const std::string mget = "*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\na\r\n";
  const std::array<std::string_view, 2> keys{"a", "a"};
  const store::found f = s.find(mget, keys, clock.now());
  ASSERT_TRUE(s.fill(f.pending, "*2\r\n:1\r\n:1\r\n", -1, clock.now()));
  EXPECT_EQ(s.invalidate("a"), 1u);
  EXPECT_EQ(s.stats().entries, 0u);
}

TEST_F(Store, a_hit_allocates_nothing) {
  store s{options()};
  cache(s, "k", "$5\r\nvalue\r\n");
  const std::string command = get("k");
  const std::array<std::string_view, 1> keys{"k"};
  const dev::allocation_scope scope;
  std::size_t bytes = 0;
  for (int i = 0; i < 1000; ++i) {
    const store::found f = s.find(command, keys, clock.now());
    bytes += f.reply.size();
  }
  dev::do_not_optimize(bytes);
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(bytes, 11'000u);
}

TEST_F(Store, fill_decodes_a_lone_bulk_string_or_null_for_the_hits) {
  store s{options()};
  cache(s, "bulk", "$5\r\nhello\r\n");
  cache(s, "empty", "$0\r\n\r\n");
  cache(s, "null", "_\r\n");
  cache(s, "array", "*1\r\n$1\r\nx\r\n");
  cache(s, "integer", ":5\r\n");
  const store::found bulk = find(s, "bulk");
  ASSERT_EQ(bulk.kind, kind::hit);
  EXPECT_EQ(bulk.shape, reply_shape::bulk_string);
  EXPECT_EQ(bulk.value, "hello");
  const store::found empty = find(s, "empty");
  EXPECT_EQ(empty.shape, reply_shape::bulk_string);
  EXPECT_EQ(empty.value, "");
  EXPECT_EQ(find(s, "null").shape, reply_shape::null);
  EXPECT_EQ(find(s, "array").shape, reply_shape::other);
  EXPECT_EQ(find(s, "integer").shape, reply_shape::other);
}

TEST_F(Store, lone_value_refuses_what_is_not_one_whole_bulk_string_or_null) {
  std::string_view value;
  EXPECT_EQ(lone_value("$3\r\nabc\r\n", value), reply_shape::bulk_string);
  EXPECT_EQ(value, "abc");
  EXPECT_EQ(lone_value("$3\r\nab\r\n", value), reply_shape::other) << "short";
  EXPECT_EQ(lone_value("$3\r\nabcd\r\n", value), reply_shape::other) << "long";
  EXPECT_EQ(lone_value("$\r\n\r\n", value), reply_shape::other) << "no length";
  EXPECT_EQ(lone_value("$-1\r\n", value), reply_shape::other);
  EXPECT_EQ(lone_value("$99999999999999999999\r\n", value), reply_shape::other) << "overflow";
  EXPECT_EQ(lone_value("_\r\n", value), reply_shape::null);
  EXPECT_EQ(lone_value("_\r\nx", value), reply_shape::other);
  EXPECT_EQ(lone_value("", value), reply_shape::other);
}

TEST_F(Store, fresh_answers_only_a_ready_unexpired_entry_and_counts_only_that) {
  store s{options()};
  const std::string k = get("k");
  EXPECT_EQ(s.fresh(k, clock), nullptr) << "missing";
  const store::found miss = find(s, "k");
  ASSERT_EQ(miss.kind, kind::miss);
  EXPECT_EQ(s.fresh(k, clock), nullptr) << "pending";
  ASSERT_TRUE(s.fill(miss.pending, "$1\r\nv\r\n", 100, clock.now()));
  const store_stats before = s.stats();
  const store::entry* e = s.fresh(k, clock);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(store::shape(e), reply_shape::bulk_string);
  EXPECT_EQ(store::value(e), "v");
  EXPECT_EQ(store::reply(e), "$1\r\nv\r\n");
  EXPECT_EQ(s.stats().hits, before.hits + 1);
  clock.advance(100ms);
  EXPECT_EQ(s.fresh(k, clock), nullptr) << "expired with its key";
  EXPECT_EQ(s.stats().hits, before.hits + 1);
  EXPECT_EQ(s.stats().misses, before.misses);
  EXPECT_EQ(s.stats().entries, 1u) << "lookup(), not fresh(), drops the expired entry";
  EXPECT_EQ(s.lookup(k, clock).kind, kind::miss);
  EXPECT_EQ(s.stats().expirations, 1u);
  EXPECT_EQ(s.stats().entries, 0u);
}

}  // namespace
}  // namespace uredis::cache

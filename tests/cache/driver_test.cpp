// driver: the client-side cache on a real connection — hits, single flight, the wrapped read's
// TTL, invalidations from another client in every mode, read your writes, the flush on a lost
// socket, errors, the allocations of a hit, and the lone-key path (lone_key_read.hpp) beside
// the general one.

#include "uredis/cache/driver.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../../tools/common/allocation_counter.hpp"
#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/fault_proxy.hpp"
#include "../support/redis_server.hpp"
#include "uredis/cache/lone_key_read.hpp"
#include "uredis/client/blocking_client.hpp"
#include "uredis/client/client.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/client/task.hpp"
#include "uredis/cmd/all.hpp"
#include "uredis/event/dispatcher.hpp"

namespace uredis::cache {
namespace {

using namespace std::chrono_literals;

class Driver : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new test::redis_server(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void SetUp() override { server_->command({"FLUSHALL"}); }

  connection_config cached(tracking_mode mode = tracking_mode::optin) const {
    connection_config c = test::config_for(*server_);
    c.cache.max_bytes = 1 << 20;
    c.cache.mode = mode;
    return c;
  }
  void connect(connection& c) {
    std::optional<result<void>> done;
    c.connect([&](const result<void>& o) { done = o; });
    loop->run_until([&] { return done.has_value(); });
    ASSERT_TRUE(*done) << done->error().message();
  }
  // GET through the cache; `served` says whether it completed without a round trip.
  std::optional<std::string> get(connection& c, std::string_view key, bool* served = nullptr) {
    std::optional<result<std::optional<std::string>>> got;
    c.exec(cmd::get{key}, [&](result<std::optional<std::string>> r) { got = std::move(r); });
    if (served != nullptr) *served = got.has_value();
    loop->run_until([&] { return got.has_value(); });
    EXPECT_TRUE(*got) << got->error().message();
    return *got ? **got : std::nullopt;
  }
  // Runs until the cache has processed an invalidation after the server's write (one round trip
  // on the cached connection: the push comes before the PING's reply).
  void sync(connection& c) {
    bool done = false;
    c.exec(cmd::ping{}, [&](result<std::string>) { done = true; });
    loop->run_until([&] { return done; });
  }

  static test::redis_server* server_;
  std::unique_ptr<reactor::reactor> loop = test::make_reactor();
};

test::redis_server* Driver::server_ = nullptr;

TEST_F(Driver, a_second_read_is_a_hit_served_before_exec_returns) {
  server_->command({"SET", "k", "v1"});
  connection c{*loop, cached()};
  connect(c);
  ASSERT_NE(c.cache(), nullptr);
  bool served = true;
  EXPECT_EQ(get(c, "k", &served), "v1");
  EXPECT_FALSE(served);
  EXPECT_EQ(get(c, "k", &served), "v1");
  EXPECT_TRUE(served);
  EXPECT_EQ(c.cache()->stats().hits, 1u);
  EXPECT_EQ(c.cache()->stats().misses, 1u);
  EXPECT_EQ(c.cache()->stats().entries, 1u);
}

TEST_F(Driver, another_clients_write_invalidates_in_every_mode) {
  for (const tracking_mode mode :
       {tracking_mode::optin, tracking_mode::tracked, tracking_mode::bcast}) {
    SCOPED_TRACE(static_cast<int>(mode));
    server_->command({"SET", "k", "v1"});
    connection c{*loop, cached(mode)};
    connect(c);
    EXPECT_EQ(get(c, "k"), "v1");
    EXPECT_EQ(get(c, "k"), "v1");
    server_->command({"SET", "k", "v2"});
    sync(c);
    bool served = true;
    EXPECT_EQ(get(c, "k", &served), "v2");
    EXPECT_FALSE(served);
    EXPECT_GE(c.cache()->stats().invalidations, 1u);
    server_->command({"DEL", "k"});
    sync(c);
    EXPECT_EQ(get(c, "k"), std::nullopt);
  }
}

TEST_F(Driver, concurrent_misses_send_one_read) {
  server_->command({"SET", "k", "v"});
  connection c{*loop, cached()};
  connect(c);
  int answered = 0;
  for (int i = 0; i < 10; ++i)
    c.exec(cmd::get{"k"}, [&](result<std::optional<std::string>> r) {
      EXPECT_EQ(r.value(), "v");
      ++answered;
    });
  loop->run_until([&] { return answered == 10; });
  EXPECT_EQ(c.cache()->stats().misses, 1u);
  EXPECT_EQ(c.cache()->stats().waits, 9u);
}

TEST_F(Driver, own_write_drops_the_entry_before_its_reply) {
  server_->command({"SET", "k", "v1"});
  connection c{*loop, cached()};
  connect(c);
  EXPECT_EQ(get(c, "k"), "v1");
  std::optional<std::string> after;
  c.exec(cmd::set{"k", "v2"}, [&](result<cmd::applied>) {
    // Inside the write's callback, before the server's push is read.
    c.exec(cmd::get{"k"}, [&](result<std::optional<std::string>> r) { after = r.value(); });
  });
  loop->run_until([&] { return after.has_value(); });
  EXPECT_EQ(after, "v2");
}

TEST_F(Driver, a_read_joined_after_a_write_is_not_answered_by_the_older_read) {
  server_->command({"SET", "k", "v1"});
  connection c{*loop, cached()};
  connect(c);
  std::vector<std::string> seen;
  auto record = [&](result<std::optional<std::string>> r) { seen.push_back(r.value().value()); };
  c.exec(cmd::get{"k"}, record);  // in flight, v1
  c.exec(cmd::set{"k", "v2"}, [](result<cmd::applied>) {});
  c.exec(cmd::get{"k"}, record);  // must not wait for the first read
  loop->run_until([&] { return seen.size() == 2; });
  EXPECT_EQ(seen, (std::vector<std::string>{"v1", "v2"}));
}

TEST_F(Driver, a_write_in_a_batch_or_a_raw_command_drops_its_keys_too) {
  server_->command({"SET", "a", "1"});
  server_->command({"SET", "b", "1"});
  connection c{*loop, cached()};
  connect(c);
  EXPECT_EQ(get(c, "a"), "1");
  EXPECT_EQ(get(c, "b"), "1");
  std::optional<std::string> a_after, b_after;
  struct after_batch {
    connection* c;
    std::optional<std::string>* got;
    static void read_a(void* self) {
      auto* s = static_cast<after_batch*>(self);
      s->c->exec(cmd::get{"a"},
                 [got = s->got](result<std::optional<std::string>> r) { *got = r.value(); });
    }
  } then{&c, &a_after};
  uredis::batch<> writes;
  writes.push(cmd::set{"a", "2"});
  writes.send(c, {}, {&after_batch::read_a, &then});
  c.exec(cmd::raw{"SET", "b", "2"}, [&](result<resp::reply>) {
    c.exec(cmd::get{"b"}, [&](result<std::optional<std::string>> r) { b_after = r.value(); });
  });
  loop->run_until([&] { return a_after.has_value() && b_after.has_value(); });
  EXPECT_EQ(a_after, "2");
  EXPECT_EQ(b_after, "2");
}

TEST_F(Driver, the_entry_expires_with_its_key) {
  server_->command({"SET", "k", "v", "PX", "50"});
  connection c{*loop, cached()};
  connect(c);
  EXPECT_EQ(get(c, "k"), "v");
  test::run_for(*loop, 80ms);
  bool served = true;
  EXPECT_EQ(get(c, "k", &served), std::nullopt);
  EXPECT_FALSE(served);
}

TEST_F(Driver, a_missing_key_is_cached_only_with_max_ttl) {
  connection plain{*loop, cached()};
  connect(plain);
  EXPECT_EQ(get(plain, "absent"), std::nullopt);
  bool served = true;
  EXPECT_EQ(get(plain, "absent", &served), std::nullopt);
  EXPECT_FALSE(served);

  connection_config capped = cached();
  capped.cache.max_ttl = 10s;
  connection c{*loop, capped};
  connect(c);
  EXPECT_EQ(get(c, "absent"), std::nullopt);
  EXPECT_EQ(get(c, "absent", &served), std::nullopt);
  EXPECT_TRUE(served);
  server_->command({"SET", "absent", "now"});
  sync(c);
  EXPECT_EQ(get(c, "absent"), "now");
}

TEST_F(Driver, an_error_reply_is_not_cached_and_reaches_every_waiter) {
  server_->command({"LPUSH", "list", "x"});
  connection c{*loop, cached()};
  connect(c);
  int errors = 0;
  for (int i = 0; i < 3; ++i)
    c.exec(cmd::get{"list"}, [&](result<std::optional<std::string>> r) {
      EXPECT_TRUE(r.has_server_error());
      errors += r.has_server_error();
    });
  loop->run_until([&] { return errors == 3; });
  EXPECT_EQ(c.cache()->stats().entries, 0u);
  server_->command({"DEL", "list"});
  server_->command({"SET", "list", "now a string"});
  EXPECT_EQ(get(c, "list"), "now a string");
}

TEST_F(Driver, a_server_flush_empties_the_cache) {
  server_->command({"SET", "a", "1"});
  server_->command({"SET", "b", "2"});
  connection c{*loop, cached()};
  connect(c);
  get(c, "a");
  get(c, "b");
  EXPECT_EQ(c.cache()->stats().entries, 2u);
  std::vector<event::cache_flushed> flushes;
  event::listener<event::cache_flushed> on_flush{
      loop->events(), [&](const event::cache_flushed& e) { flushes.push_back(e); }};
  server_->command({"FLUSHALL"});
  sync(c);
  EXPECT_EQ(c.cache()->stats().entries, 0u);
  ASSERT_EQ(flushes.size(), 1u);
  EXPECT_EQ(flushes[0].reason, event::cache_flush_reason::server);
  EXPECT_EQ(get(c, "a"), std::nullopt);
}

TEST_F(Driver, a_lost_socket_flushes_before_anything_is_served_again) {
  server_->command({"SET", "k", "before"});
  connection c{*loop, cached()};
  connect(c);
  EXPECT_EQ(get(c, "k"), "before");
  server_->command({"CLIENT", "KILL", "TYPE", "normal"});
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return !c.ready(); }, 2000ms));
  // While the socket is down the write happens, and its push can never arrive.
  server_->command({"SET", "k", "after"});
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return c.ready(); }, 5000ms));
  EXPECT_EQ(get(c, "k"), "after");
  EXPECT_GE(c.cache()->stats().flushes, 1u);
}

TEST_F(Driver, the_coroutine_api_is_served_without_suspending) {
  server_->command({"SET", "k", "v"});
  client cl{*loop, cached()};
  connect(cl.connection());
  std::vector<std::string> got;
  auto reader = [&]() -> task<> {
    for (int i = 0; i < 3; ++i) {
      auto v = co_await cl.get("k");
      got.push_back(v.value().value_or("-"));
    }
  };
  spawn(reader());
  loop->run_until([&] { return got.size() == 3; });
  EXPECT_EQ(got, (std::vector<std::string>(3, "v")));
  EXPECT_EQ(cl.connection().cache()->stats().hits, 2u);
}

TEST_F(Driver, skip_and_always_choose_per_call) {
  server_->command({"SET", "k", "v"});
  connection c{*loop, cached()};
  connect(c);
  std::optional<std::string> v;
  for (int i = 0; i < 2; ++i) {
    bool done = false;
    c.exec(cmd::get{"k"},
           [&](result<std::optional<std::string>> r) {
             v = r.value();
             done = true;
           },
           {.cache = proto::cache_use::skip});
    loop->run_until([&] { return done; });
  }
  EXPECT_EQ(c.cache()->stats().misses, 0u);
  for (int i = 0; i < 2; ++i) {
    bool done = false;
    c.exec(cmd::pttl{"k"}, [&](result<std::int64_t>) { done = true; },
           {.cache = proto::cache_use::always});
    loop->run_until([&] { return done; });
  }
  EXPECT_EQ(c.cache()->stats().misses, 1u);
  EXPECT_EQ(c.cache()->stats().hits, 1u);
}

TEST_F(Driver, resp2_invalidations_arrive_on_the_channel_the_cache_opens) {
  server_->command({"SET", "k", "v1"});
  connection_config config = cached();
  config.protocol = proto::resp_version::resp2;
  connection c{*loop, config};
  connect(c);
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return c.cache()->serving(); }, 5000ms))
      << "tracking redirected to the channel";
  EXPECT_EQ(get(c, "k"), "v1");
  bool served = false;
  EXPECT_EQ(get(c, "k", &served), "v1");
  EXPECT_TRUE(served);
  server_->command({"SET", "k", "v2"});
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return c.cache()->stats().invalidations >= 1; }, 5000ms));
  EXPECT_EQ(get(c, "k", &served), "v2");
  EXPECT_FALSE(served);
  server_->command({"FLUSHALL"});
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return c.cache()->stats().entries == 0; }, 5000ms));
}

TEST_F(Driver, resp2_a_lost_channel_flushes_and_tracking_follows_its_new_id) {
  server_->command({"SET", "k", "v1"});
  connection_config config = cached();
  config.protocol = proto::resp_version::resp2;
  connection c{*loop, config};
  connect(c);
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return c.cache()->serving(); }, 5000ms));
  EXPECT_EQ(get(c, "k"), "v1");
  EXPECT_EQ(c.cache()->stats().entries, 1u);
  server_->command({"CLIENT", "KILL", "TYPE", "pubsub"});
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return c.cache()->stats().entries == 0 && !c.cache()->serving(); }, 5000ms))
      << "flushed and off while the channel is down";
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return c.cache()->serving(); }, 5000ms))
      << "back once tracking points at the channel's new client id";
  EXPECT_EQ(get(c, "k"), "v1");
  server_->command({"SET", "k", "v3"});
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return c.cache()->stats().entries == 0; }, 5000ms))
      << "invalidations reach the new channel";
  EXPECT_EQ(get(c, "k"), "v3");
}

TEST_F(Driver, resp2_a_channel_gone_silent_stops_the_cache_serving) {
  // A middlebox drops the channel's connection without a word: no end of stream, nothing sent
  // ever again. RESP2 says nothing about a redirect going nowhere, so the channel must notice.
  test::fault_proxy proxy{"127.0.0.1", server_->port()};
  connection_config config = cached();
  config.host = proxy.host();
  config.port = proxy.port();
  config.protocol = proto::resp_version::resp2;
  connection c{*loop, config};
  connect(c);
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return c.cache()->serving(); }, 5000ms));
  proxy.set_black_hole(true);
  EXPECT_TRUE(test::run_until(
      *loop, [&] { return !c.cache()->serving(); }, 5000ms))
      << "still serving with no invalidation able to arrive";
  proxy.clear();
}

TEST_F(Driver, each_invalidation_is_an_event_naming_its_key) {
  server_->command({"SET", "k", "v"});
  connection c{*loop, cached()};
  connect(c);
  get(c, "k");
  std::vector<std::pair<std::string, std::uint64_t>> seen;
  event::listener<event::cache_invalidated> on_invalidated{
      loop->events(),
      [&](const event::cache_invalidated& e) { seen.emplace_back(std::string(e.key), e.entries); }};
  server_->command({"SET", "k", "w"});
  sync(c);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].first, "k");
  EXPECT_EQ(seen[0].second, 1u);
}

TEST_F(Driver, a_blocking_client_takes_in_arrived_invalidations_before_answering) {
  server_->command({"SET", "k", "v1"});
  blocking_client b{"redis://127.0.0.1:" + std::to_string(server_->port()) +
                    "?cache_max_bytes=1048576"};
  ASSERT_NE(b.connection().cache(), nullptr);
  EXPECT_EQ(b.get("k"), "v1");
  EXPECT_EQ(b.get("k"), "v1");
  EXPECT_EQ(b.connection().cache()->stats().hits, 1u);
  server_->command({"SET", "k", "v2"});
  // The push is in the blocking client's socket by now; nothing has run its reactor since.
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(b.get("k"), "v2");
  EXPECT_EQ(b.connection().cache()->stats().hits, 1u);
}

TEST_F(Driver, a_callback_too_large_for_the_slot_is_cached_too) {
  server_->command({"SET", "k", "v"});
  connection c{*loop, cached()};
  connect(c);
  std::array<char, 48> ballast{};  // with it the callback fills proto::pending's slot
  std::vector<std::string> got;
  for (int i = 0; i < 2; ++i) {
    c.exec(cmd::get{"k"}, [&got, ballast](result<std::optional<std::string>> r) {
      got.push_back(r.value().value_or("-") + std::to_string(ballast[0]));
    });
    loop->run_until([&] { return got.size() == static_cast<std::size_t>(i + 1); });
  }
  EXPECT_EQ(got, (std::vector<std::string>{"v0", "v0"}));
  EXPECT_EQ(c.cache()->stats().misses, 1u);
  EXPECT_EQ(c.cache()->stats().hits, 1u);
}

TEST_F(Driver, a_hit_allocates_nothing) {
  server_->command({"SET", "k", "short"});
  connection c{*loop, cached()};
  connect(c);
  EXPECT_EQ(get(c, "k"), "short");
  EXPECT_EQ(get(c, "k"), "short");
  int hits = 0;
  dev::allocation_scope scope;
  for (int i = 0; i < 1000; ++i)
    c.exec(cmd::get{"k"}, [&](result<std::optional<std::string>> r) { hits += r && *r; });
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(hits, 1000);
}

// GET written through the encoder, as any descriptor the cache does not know by type: its reads
// take the general path (encode, allow-list), cmd::get's the lone-key one (lone_key_read.hpp).
struct encoded_get {
  std::string_view key;
  using response = std::optional<std::string>;
  void encode(resp::encoder& e) const { e.command("GET", key); }
  constexpr void for_each_key(auto&& f) const { f(key); }
};

TEST_F(Driver, a_read_stored_by_either_path_is_a_hit_of_the_other) {
  server_->command({"SET", "a", "va"});
  server_->command({"SET", "b", "vb"});
  connection c{*loop, cached()};
  connect(c);
  const auto exec_encoded = [&](std::string_view key, bool& served) {
    std::optional<result<std::optional<std::string>>> got;
    c.exec(encoded_get{key}, [&](result<std::optional<std::string>> r) { got = std::move(r); });
    served = got.has_value();
    loop->run_until([&] { return got.has_value(); });
    return got->value();
  };
  bool served = true;
  EXPECT_EQ(exec_encoded("a", served), "va");  // stored by the general path
  EXPECT_FALSE(served);
  EXPECT_EQ(get(c, "a", &served), "va");
  EXPECT_TRUE(served) << "the lone-key path finds the general path's entry";
  EXPECT_EQ(get(c, "b", &served), "vb");  // stored by the lone-key path's miss
  EXPECT_FALSE(served);
  EXPECT_EQ(exec_encoded("b", served), "vb");
  EXPECT_TRUE(served) << "the general path finds the lone-key path's entry";
  EXPECT_EQ(c.cache()->stats().misses, 2u);
  EXPECT_EQ(c.cache()->stats().hits, 2u);
  EXPECT_EQ(c.cache()->stats().entries, 2u) << "one entry per command, whichever path";
}

TEST_F(Driver, lone_key_reads_of_every_reply_shape_and_key_length_are_hits) {
  const std::string long_key(lone_key_request::capacity, 'k');  // too long for the stack
  server_->command({"SET", "s", "abc"});
  server_->command({"SET", long_key, "long"});
  server_->command({"RPUSH", "l", "x", "y"});
  server_->command({"HSET", "h", "f", "v"});
  server_->command({"SADD", "m", "x"});
  connection c{*loop, cached()};
  connect(c);
  const auto twice = [&](const auto& command, auto expected) {
    for (int i = 0; i < 2; ++i) {
      std::optional<decltype(expected)> got;
      c.exec(command, [&](auto r) { got = r.value(); });
      EXPECT_EQ(got.has_value(), i == 1) << "the second read is a hit";
      loop->run_until([&] { return got.has_value(); });
      EXPECT_EQ(*got, expected);
    }
  };
  twice(cmd::get{"s"}, std::optional<std::string>("abc"));
  twice(cmd::get{long_key}, std::optional<std::string>("long"));
  twice(cmd::strlen{"s"}, std::int64_t{3});
  twice(cmd::llen{"l"}, std::int64_t{2});
  twice(cmd::hgetall{"h"}, std::unordered_map<std::string, std::string>{{"f", "v"}});
  twice(cmd::smembers{"m"}, std::vector<std::string>{"x"});
}

TEST_F(Driver, coroutines_get_hits_and_the_reply_of_a_read_in_flight) {
  server_->command({"SET", "k", "v"});
  connection_config config = cached();
  config.cache.max_ttl = 10s;  // so that the missing key is cached too
  client cl{*loop, config};
  connect(cl.connection());
  std::vector<std::optional<std::string>> got;
  auto reader = [&](std::string_view key) -> task<> {
    auto v = co_await cl.get(key);
    got.push_back(v.value());
  };
  spawn(reader("k"));  // the miss: suspends
  spawn(reader("k"));  // waits for it: resumed with the same reply
  spawn(reader("missing"));
  loop->run_until([&] { return got.size() == 3; });
  spawn(reader("k"));  // hits: no suspension
  spawn(reader("missing"));
  EXPECT_EQ(got.size(), 5u);
  EXPECT_EQ(got,
            (std::vector<std::optional<std::string>>{"v", "v", std::nullopt, "v", std::nullopt}));
  EXPECT_EQ(cl.connection().cache()->stats().waits, 1u);
  EXPECT_EQ(cl.connection().cache()->stats().hits, 2u);
}

// The coroutine's awaiter answers a lone-key hit in await_ready (cache::driver::serve_hit):
// every reply shape (a lone bulk string, an integer, a map read through the parser) comes back
// without suspending and equal to the uncached read, a key too long for the stack still hits
// through take(), and exec_options::cache = skip still goes to the server.
TEST_F(Driver, coroutine_hits_of_every_reply_shape_equal_the_uncached_read) {
  const std::string long_key(lone_key_request::capacity, 'k');
  server_->command({"SET", "s", "abc"});
  server_->command({"SET", long_key, "long"});
  server_->command({"RPUSH", "l", "x", "y"});
  server_->command({"HSET", "h", "f", "v"});
  server_->command({"SADD", "m", "x"});
  client cl{*loop, cached()};
  connect(cl.connection());
  const auto twice = [&](const auto& command, auto expected, bool cached = true) {
    using response = decltype(expected);
    const std::uint64_t hits = cl.connection().cache()->stats().hits;
    std::optional<result<response>> uncached;
    std::vector<result<response>> got;
    auto reader = [&]() -> task<> {
      uncached.emplace(co_await cl.exec(command, {.cache = proto::cache_use::skip}));
      for (int i = 0; i < 2; ++i)
        got.push_back(co_await cl.exec(command));
    };
    spawn(reader());
    loop->run_until([&] { return !got.empty(); });
    // The miss's reply resumed the coroutine, whose second read needed no round trip.
    EXPECT_EQ(got.size(), cached ? 2u : 1u);
    loop->run_until([&] { return got.size() == 2; });
    EXPECT_EQ(cl.connection().cache()->stats().hits, hits + (cached ? 1 : 0));
    ASSERT_TRUE(*uncached);
    EXPECT_EQ(**uncached, expected);
    for (const result<response>& r : got) {
      ASSERT_TRUE(r) << r.error().message();
      EXPECT_EQ(*r, expected);
    }
  };
  twice(cmd::get{"s"}, std::optional<std::string>("abc"));
  twice(cmd::get{long_key}, std::optional<std::string>("long"));
  twice(cmd::get{"missing"}, std::optional<std::string>(), false);  // no max_ttl: not cached
  twice(cmd::strlen{"s"}, std::int64_t{3});
  twice(cmd::llen{"l"}, std::int64_t{2});
  twice(cmd::hgetall{"h"}, std::unordered_map<std::string, std::string>{{"f", "v"}});
  twice(cmd::smembers{"m"}, std::vector<std::string>{"x"});
  EXPECT_EQ(cl.connection().cache()->stats().hits, 6u);
}

TEST_F(Driver, a_coroutine_hit_allocates_nothing) {
  server_->command({"SET", "k", "short"});
  client cl{*loop, cached()};
  connect(cl.connection());
  std::size_t allocations = 1;
  int hits = 0;
  bool finished = false;
  auto reader = [&]() -> task<> {
    (void)co_await cl.get("k");  // the miss
    dev::allocation_scope scope;
    for (int i = 0; i < 1000; ++i) {
      auto v = co_await cl.get("k");
      hits += v && *v == "short";
    }
    allocations = scope.allocations();
    finished = true;
  };
  spawn(reader());
  loop->run_until([&] { return finished; });
  EXPECT_EQ(allocations, 0u);
  EXPECT_EQ(hits, 1000);
  EXPECT_EQ(cl.connection().cache()->stats().hits, 1000u);
}

}  // namespace
}  // namespace uredis::cache

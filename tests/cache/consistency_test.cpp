// consistency: what a user of the client-side cache may rely on, against real redis-server
// processes — another client's writes seen after one push delivery (every mode, both
// protocols), concurrent readers against a fast writer (directly and through a proxy that cuts
// the cached connection), a server restarted with other data, keys that expire, the memory
// bound, the server's bounded tracking table, and what a miss allocates.
//
// "After the push is processed" is one round trip (a PING) on the cached connection after the
// other client's write has returned: Redis writes the invalidation into the cached
// connection's stream when the write runs, so it arrives before the PING's reply.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "../../tools/common/allocation_counter.hpp"
#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/fault_proxy.hpp"
#include "../support/redis_server.hpp"
#include "uredis/cache/driver.hpp"
#include "uredis/client/client.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/client/task.hpp"
#include "uredis/client/transaction.hpp"
#include "uredis/cmd/all.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/event/events.hpp"

namespace uredis::cache {
namespace {

using namespace std::chrono_literals;

// One server for the whole program (the restart test starts its own).
test::redis_server& shared_server() {
  static test::redis_server server;
  return server;
}

// The value of a one-reply RESP2 bulk string as redis_server::command returns it; nullopt for
// the null bulk string.
std::optional<std::string> bulk_value(const std::string& raw) {
  if (raw.rfind("$-1", 0) == 0) return std::nullopt;
  EXPECT_EQ(raw.rfind("$", 0), 0u) << raw;
  const std::size_t begin = raw.find("\r\n");
  if (begin == std::string::npos || raw.size() < begin + 4) return "<unparsed " + raw + ">";
  return raw.substr(begin + 2, raw.size() - begin - 4);
}

// The server's value of `key`, read outside the library.
std::optional<std::string> server_get(const test::redis_server& server, std::string_view key) {
  return bulk_value(server.command({"GET", key}));
}

// A reconnecting policy that does not give up during a test.
retry::retry_policy patient_retry() {
  return retry::retry_policy(retry::backoff::constant(5ms), 100000);
}

const char* mode_name(tracking_mode mode) {
  switch (mode) {
    case tracking_mode::optin:
      return "optin";
    case tracking_mode::tracked:
      return "tracked";
    case tracking_mode::bcast:
      return "bcast";
  }
  return "?";
}

// The helpers every suite here uses: a reactor, connecting, reading and syncing.
class cache_fixture {
 protected:
  static connection_config cached(const test::redis_server& server,
                                  tracking_mode mode = tracking_mode::optin,
                                  resp_version protocol = resp_version::resp3) {
    connection_config c = test::config_for(server);
    c.protocol = protocol;
    c.cache.max_bytes = 1 << 20;
    c.cache.mode = mode;
    return c;
  }
  void connect(connection& c) {
    std::optional<result<void>> done;
    c.connect([&](const result<void>& o) { done = o; });
    ASSERT_TRUE(test::run_until(
        *loop, [&] { return done.has_value(); }, 10s));
    ASSERT_TRUE(*done) << (done->has_error() ? done->error().message() : "server error");
  }
  // GET through the cache; `served` says whether it completed without a round trip.
  std::optional<std::string> get(connection& c, std::string_view key, bool* served = nullptr) {
    std::optional<result<std::optional<std::string>>> got;
    c.exec(cmd::get{key}, [&](result<std::optional<std::string>> r) { got = std::move(r); });
    if (served != nullptr) *served = got.has_value();
    EXPECT_TRUE(test::run_until(
        *loop, [&] { return got.has_value(); }, 10s))
        << "GET " << key << " never completed";
    if (!got) return "<no reply>";
    EXPECT_TRUE(*got) << key << ": "
                      << (got->has_error() ? got->error().message() : "server error");
    return *got ? **got : std::nullopt;
  }
  // One round trip on `c`: every push the server wrote before it has been processed.
  void sync(connection& c) {
    bool done = false;
    c.exec(cmd::ping{}, [&](result<std::string>) { done = true; });
    EXPECT_TRUE(test::run_until(
        *loop, [&] { return done; }, 10s))
        << "PING never completed";
  }

  std::unique_ptr<reactor::reactor> loop = test::make_reactor();
};

class Consistency : public ::testing::Test, protected cache_fixture {
 protected:
  static void SetUpTestSuite() { (void)shared_server(); }
  void SetUp() override { server().command({"FLUSHALL"}); }
  static test::redis_server& server() { return shared_server(); }
  void restart_with_other_data(bool hard);
};

// ---- 1. Another client's write, in every mode and protocol --------------------------------

// (mode, protocol). With RESP2 the invalidations come on the cache's own channel connection,
// in no order with the replies on the cached one: "after the push" there means once the cache
// has counted the invalidation (or flush), not after one round trip.
class ConsistencyInvalidation
    : public ::testing::TestWithParam<std::tuple<tracking_mode, resp_version>>,
      protected cache_fixture {
 protected:
  void SetUp() override { server().command({"FLUSHALL"}); }
  static test::redis_server& server() { return shared_server(); }
  tracking_mode mode() const { return std::get<0>(GetParam()); }
  bool resp3() const { return std::get<1>(GetParam()) == resp_version::resp3; }

  // A connection with `key` read twice: with RESP3 the second read is a hit (the entry is
  // there to go stale).
  void read_into_cache(connection& c, std::string_view key, std::string_view value) {
    if (c.state() == connection_state::idle) connect(c);
    ASSERT_NE(c.cache(), nullptr);
    // RESP2: tracking is on once the channel is up and the connection redirected to it.
    ASSERT_TRUE(test::run_until(
        *loop, [&] { return c.cache()->serving(); }, 10s));
    EXPECT_EQ(get(c, key), value);
    bool served = false;
    EXPECT_EQ(get(c, key, &served), value);
    EXPECT_TRUE(served) << "the second read of " << key << " was not a hit";
    dropped_before_ = dropped(c);
  }
  // Invalidations and flushes the cache has taken in.
  static std::uint64_t dropped(connection& c) {
    return c.cache()->stats().invalidations + c.cache()->stats().flushes;
  }
  // The other client's write has reached the cache: RESP3, one round trip; RESP2, once the
  // channel's message has been counted.
  void await_push(connection& c) {
    if (resp3()) return sync(c);
    EXPECT_TRUE(test::run_until(
        *loop, [&] { return dropped(c) > dropped_before_; }, 10s))
        << "no invalidation reached the RESP2 channel";
  }
  std::uint64_t dropped_before_ = 0;
  // After the other client's write and one round trip: `key` reads `expected`, from the
  // server (with RESP3: the entry was dropped, so the read was not served locally).
  void expect_after_push(connection& c, std::string_view key,
                         const std::optional<std::string>& expected) {
    await_push(c);
    bool served = true;
    EXPECT_EQ(get(c, key, &served), expected);
    EXPECT_FALSE(served) << key << " was served from the cache after the invalidation";
    // And again: whatever is cached now is the new state.
    EXPECT_EQ(get(c, key), expected);
    EXPECT_EQ(server_get(server(), key), expected);
  }
};

TEST_P(ConsistencyInvalidation, another_clients_set_is_seen_after_the_push) {
  server().command({"SET", "k", "v1"});
  connection c{*loop, cached(server(), mode(), std::get<1>(GetParam()))};
  read_into_cache(c, "k", "v1");
  server().command({"SET", "k", "v2"});
  expect_after_push(c, "k", "v2");
  EXPECT_GE(c.cache()->stats().invalidations, 1u);
}

TEST_P(ConsistencyInvalidation, another_clients_del_is_seen_after_the_push) {
  server().command({"SET", "k", "v1"});
  connection c{*loop, cached(server(), mode(), std::get<1>(GetParam()))};
  read_into_cache(c, "k", "v1");
  server().command({"DEL", "k"});
  expect_after_push(c, "k", std::nullopt);
}

// PEXPIRE (EXPIRE's millisecond form: the same server command path) with a short TTL: the key
// still reads its value after the push, then, past the TTL, reads nil.
TEST_P(ConsistencyInvalidation, another_clients_expire_is_seen_after_the_push_and_past_the_ttl) {
  server().command({"SET", "k", "v1"});
  connection c{*loop, cached(server(), mode(), std::get<1>(GetParam()))};
  read_into_cache(c, "k", "v1");
  const auto expire_sent = std::chrono::steady_clock::now();
  server().command({"PEXPIRE", "k", "100"});
  await_push(c);
  const std::optional<std::string> during = get(c, "k");  // cached again, with the key's TTL
  // (Unless a stalled machine took the 100 ms already.)
  if (std::chrono::steady_clock::now() - expire_sent < 90ms) {
    EXPECT_EQ(during, "v1");
  } else {
    EXPECT_TRUE(during == "v1" || during == std::nullopt);
  }
  // Past the TTL on any clock: run_for waits at least this long after PEXPIRE returned.
  test::run_for(*loop, 150ms);
  bool served = true;
  EXPECT_EQ(get(c, "k", &served), std::nullopt);
  EXPECT_FALSE(served);
  sync(c);
  EXPECT_EQ(get(c, "k"), std::nullopt);
}

TEST_P(ConsistencyInvalidation, another_clients_rename_of_the_cached_key_is_seen_after_the_push) {
  server().command({"SET", "k", "v1"});
  connection c{*loop, cached(server(), mode(), std::get<1>(GetParam()))};
  read_into_cache(c, "k", "v1");
  server().command({"RENAME", "k", "k2"});
  expect_after_push(c, "k", std::nullopt);
  EXPECT_EQ(get(c, "k2"), "v1");
}

TEST_P(ConsistencyInvalidation, another_clients_rename_onto_the_cached_key_is_seen_after_the_push) {
  server().command({"SET", "k", "v1"});
  server().command({"SET", "src", "v2"});
  connection c{*loop, cached(server(), mode(), std::get<1>(GetParam()))};
  read_into_cache(c, "k", "v1");
  server().command({"RENAME", "src", "k"});
  expect_after_push(c, "k", "v2");
  EXPECT_EQ(get(c, "src"), std::nullopt);
}

TEST_P(ConsistencyInvalidation, another_clients_flushall_is_seen_after_the_push) {
  server().command({"SET", "k", "v1"});
  server().command({"SET", "other", "o"});
  connection c{*loop, cached(server(), mode(), std::get<1>(GetParam()))};
  read_into_cache(c, "k", "v1");
  read_into_cache(c, "other", "o");
  server().command({"FLUSHALL"});
  expect_after_push(c, "k", std::nullopt);
  expect_after_push(c, "other", std::nullopt);
  EXPECT_GE(c.cache()->stats().flushes, 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Modes, ConsistencyInvalidation,
    ::testing::Combine(::testing::Values(tracking_mode::optin, tracking_mode::tracked,
                                         tracking_mode::bcast),
                       ::testing::Values(resp_version::resp3, resp_version::resp2)),
    [](const ::testing::TestParamInfo<ConsistencyInvalidation::ParamType>& info) {
      return std::string(mode_name(std::get<0>(info.param))) +
             (std::get<1>(info.param) == resp_version::resp3 ? "_resp3" : "_resp2");
    });

// ---- 2. Concurrent readers against a fast writer ------------------------------------------

// (mode, through a proxy that cuts the cached connection).
class ConsistencyRace : public ::testing::TestWithParam<std::tuple<tracking_mode, bool>>,
                        protected cache_fixture {
 protected:
  void SetUp() override { server().command({"FLUSHALL"}); }
  static test::redis_server& server() { return shared_server(); }
};

// 16 coroutines read 8 keys through the cache while 4 coroutines on another connection SET
// them, 20000 writes in all, each key's values increasing in the order the server runs them.
//   - Every value a reader sees for a key is at least the last one any reader saw for it (all
//     replies come in order on the one cached connection, and a push for a write comes before
//     the reply of any read that ran after it).
//   - No read issued after a PING on the cached connection has passed returns a value older
//     than one whose SET had returned before that PING was issued (the contract's "bounded by
//     one push delivery").
//   - Once the writers stop and a PING has passed on the cached connection, every key reads
//     the server's value.
// Through the proxy, the cached connection is cut three times mid-stream; reads failing with a
// connection error are fine.
TEST_P(ConsistencyRace, readers_never_go_back_and_end_on_the_servers_values) {
  constexpr int key_count = 8;
  constexpr int reader_count = 16;
  constexpr int writer_count = 4;
  constexpr std::int64_t rounds = 20000;
  const tracking_mode mode = std::get<0>(GetParam());
  const bool through_proxy = std::get<1>(GetParam());
  constexpr int cuts = 3;

  std::vector<std::string> keys;
  for (int i = 0; i < key_count; ++i) {
    keys.push_back("race:" + std::to_string(i));
    server().command({"SET", keys.back(), "0"});
  }

  std::optional<test::fault_proxy> proxy;
  connection_config config = cached(server(), mode);
  if (through_proxy) {
    proxy.emplace(server().host(), server().port());
    config.host = proxy->host();
    config.port = proxy->port();
  }
  config.retry = patient_retry();
  client readers{*loop, config};
  client writers{*loop, test::config_for(server())};
  connect(readers.connection());
  connect(writers.connection());
  ASSERT_TRUE(readers.connection().cache()->serving());

  // Per key: the highest value any reader has seen; the highest value whose SET has returned
  // to the writer; and the floor, the highest such value a PING on the cached connection
  // issued after that SET returned has since passed (its push has been processed).
  std::array<std::int64_t, key_count> last_seen{}, confirmed{}, floor{};
  std::int64_t reads = 0, nils = 0, connection_errors = 0, server_errors = 0;
  std::int64_t regressions = 0, stale = 0, floored = 0;
  std::string first_regression, first_stale;
  int readers_done = 0;
  bool stop = false;
  auto reader = [&](int id) -> task<> {
    for (std::uint64_t i = 0; !stop && connection_errors < 100000; ++i) {
      const std::size_t k =
          static_cast<std::size_t>((static_cast<std::uint64_t>(id) + i) % key_count);
      const std::int64_t floor_at_issue = floor[k];
      floored += floor_at_issue > 0;
      const result<std::optional<std::string>> r = co_await readers.get(keys[k]);
      if (!r) {
        if (r.has_error()) {
          ++connection_errors;
        } else {
          ++server_errors;
        }
      } else if (!r->has_value()) {
        ++nils;  // never: the keys always exist
      } else {
        ++reads;
        const std::int64_t v = std::stoll(**r);
        if (v < last_seen[k]) {
          if (regressions++ == 0)
            first_regression = keys[k] + " read " + std::to_string(v) + " after " +
                               std::to_string(last_seen[k]) + " (read #" + std::to_string(reads) +
                               ")";
        } else {
          last_seen[k] = v;
        }
        if (v < floor_at_issue && stale++ == 0)
          first_stale = keys[k] + " read " + std::to_string(v) + " though the push of " +
                        std::to_string(floor_at_issue) + " had been processed (read #" +
                        std::to_string(reads) + ")";
      }
      // A hit completes without suspending: a round trip now and then lets the loop turn, and
      // raises the floors to what was confirmed before it was issued.
      if (i % 8 == 7 || !r) {
        const std::array<std::int64_t, key_count> before_ping = confirmed;
        if (co_await readers.ping())
          for (std::size_t j = 0; j < key_count; ++j)
            floor[j] = std::max(floor[j], before_ping[j]);
      }
    }
    ++readers_done;
  };
  std::int64_t issued = 0, written = 0, write_errors = 0;
  int writers_done = 0;
  auto writer = [&]() -> task<> {
    while (issued < rounds) {
      const std::int64_t value = ++issued;  // issue order is the server's order
      const std::size_t k = static_cast<std::size_t>(value % key_count);
      const result<cmd::applied> r = co_await writers.set(keys[k], std::to_string(value));
      if (r) {
        confirmed[k] = std::max(confirmed[k], value);
      } else {
        ++write_errors;
      }
      ++written;
    }
    ++writers_done;
  };

  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < reader_count; ++i)
    spawn(reader(i));
  for (int i = 0; i < writer_count; ++i)
    spawn(writer());

  if (through_proxy) {
    const std::array<std::size_t, cuts> cut_at{377, 5003, 1};
    for (int i = 0; i < cuts; ++i) {
      ASSERT_TRUE(test::run_until(
          *loop, [&] { return written >= rounds * (i + 1) / (cuts + 2); }, 30s))
          << "the writers are stuck at " << written;
      const std::uint64_t before = readers.connection().reconnects();
      proxy->cut_after(cut_at[static_cast<std::size_t>(i)], test::direction::server_to_client,
                       i % 2 == 0 ? test::cut_mode::reset : test::cut_mode::close);
      ASSERT_TRUE(test::run_until(
          *loop,
          [&] {
            return readers.connection().reconnects() > before && readers.connection().ready();
          },
          30s))
          << "cut " << i << ": the cached connection did not come back";
    }
  }
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return writers_done == writer_count; }, 40s))
      << "the writers are stuck at " << written;
  stop = true;
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return readers_done == reader_count; }, 20s))
      << readers_done << " readers finished";
  const auto elapsed = std::chrono::steady_clock::now() - started;

  EXPECT_EQ(write_errors, 0);
  EXPECT_EQ(server_errors, 0);
  EXPECT_EQ(nils, 0);
  EXPECT_EQ(regressions, 0) << "a reader went back in time: " << first_regression;
  EXPECT_EQ(stale, 0) << "a read returned a value older than one push delivery allows: "
                      << first_stale;
  if (!through_proxy) {
    EXPECT_EQ(connection_errors, 0);
  }
  EXPECT_GT(reads, rounds);
  const store_stats& stats = readers.connection().cache()->stats();
  EXPECT_GT(stats.hits, 0u);
  EXPECT_GT(stats.invalidations + stats.flushes, 0u);
  if (through_proxy) {
    EXPECT_GE(readers.connection().reconnects(), static_cast<std::uint64_t>(cuts));
  }

  // The final state: after one round trip, every key reads the server's value.
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return readers.connection().ready(); }, 10s));
  sync(readers.connection());
  for (const std::string& key : keys) {
    const std::optional<std::string> expected = server_get(server(), key);
    EXPECT_EQ(get(readers.connection(), key), expected) << key;
    // A second read: a hit, if anything, must still be the server's value.
    EXPECT_EQ(get(readers.connection(), key), expected) << key;
  }
  std::printf(
      "[ race    ] %s%s: %lld reads (%llu hits, %llu invalidations, %llu flushes), "
      "%lld connection errors, %lld reads under a floor, %lld ms\n",
      mode_name(mode), through_proxy ? " through the proxy" : "", static_cast<long long>(reads),
      static_cast<unsigned long long>(stats.hits),
      static_cast<unsigned long long>(stats.invalidations),
      static_cast<unsigned long long>(stats.flushes), static_cast<long long>(connection_errors),
      static_cast<long long>(floored),
      static_cast<long long>(
          std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()));
}

INSTANTIATE_TEST_SUITE_P(Modes, ConsistencyRace,
                         ::testing::Combine(::testing::Values(tracking_mode::optin,
                                                              tracking_mode::tracked,
                                                              tracking_mode::bcast),
                                            ::testing::Bool()),
                         [](const ::testing::TestParamInfo<ConsistencyRace::ParamType>& info) {
                           return std::string(mode_name(std::get<0>(info.param))) +
                                  (std::get<1>(info.param) ? "_through_a_cutting_proxy"
                                                           : "_direct");
                         });

// ---- 3. A server restarted with other data --------------------------------------------------

// The server goes away (stop: SIGTERM; kill: SIGKILL) and comes back on the same port with
// other data. No read completed after the connection noticed the loss returns a value from
// before; once reconnected, reads return the new data.
void Consistency::restart_with_other_data(bool hard) {
  reactor::reactor& loop = *this->loop;
  test::redis_server server;
  server.command({"SET", "a", "before-a"});
  server.command({"SET", "b", "before-b"});
  server.command({"SET", "gone", "before-gone"});
  connection_config config = test::config_for(server);
  config.cache.max_bytes = 1 << 20;
  config.retry = patient_retry();
  connection c{loop, config};
  connect(c);
  if (HasFatalFailure()) return;

  // What the reads saw. Their callbacks capture a pointer to it and the key: a callback
  // filling the pipeline's slot would leave no room for the cache's pointers (driver.hpp)
  // and go uncached.
  struct seen {
    std::int64_t before = 0;
    int outstanding = 0;
    std::vector<std::string> log;
  } state;
  std::int64_t& before_seen = state.before;
  int& outstanding = state.outstanding;
  std::vector<std::string>& log = state.log;
  auto read = [&c, &state](std::string_view key) {
    ++state.outstanding;
    seen* s = &state;
    const char* name = key.data();  // the keys below are literals
    c.exec(cmd::get{key}, [s, name](result<std::optional<std::string>> r) {
      --s->outstanding;
      if (r && r->has_value() && (*r)->rfind("before", 0) == 0) {
        ++s->before;
        s->log.push_back(std::string(name) + " = " + **r);
      }
    });
  };
  const std::array<std::string_view, 3> keys{"a", "b", "gone"};
  for (int i = 0; i < 2; ++i)
    for (const std::string_view key : keys)
      read(key);
  EXPECT_TRUE(test::run_until(
      loop, [&] { return outstanding == 0; }, 10s));
  ASSERT_EQ(c.cache()->stats().entries, 3u);
  ASSERT_EQ(before_seen, 6);  // the reads before the restart
  before_seen = 0;
  log.clear();

  const std::uint64_t reconnects = c.reconnects();
  if (hard) {
    server.kill();
  } else {
    server.stop();
  }
  ASSERT_TRUE(test::run_until(
      loop, [&] { return !c.ready(); }, 10s))
      << "the connection did not notice the server was gone";
  // While the server is down: nothing is served from the cache (the reads wait for the
  // reconnect, or fail).
  for (const std::string_view key : keys)
    read(key);
  EXPECT_EQ(outstanding, 3) << "a read completed at once while the connection was down";
  server.start();
  server.command({"SET", "a", "after-a"});
  server.command({"SET", "b", "after-b"});
  ASSERT_TRUE(test::run_until(
      loop, [&] { return c.ready() && c.reconnects() > reconnects && outstanding == 0; }, 20s))
      << "no reconnect to the restarted server";
  sync(c);
  for (int i = 0; i < 3; ++i)
    for (const std::string_view key : keys)
      read(key);
  EXPECT_TRUE(test::run_until(
      loop, [&] { return outstanding == 0; }, 10s));
  EXPECT_EQ(before_seen, 0) << "served from before the restart: " << ::testing::PrintToString(log);
  EXPECT_GE(c.cache()->stats().flushes, 1u);

  std::optional<std::string> a, gone;
  c.exec(cmd::get{"a"},
         [&](result<std::optional<std::string>> r) { a = r ? r->value_or("nil") : "error"; });
  c.exec(cmd::get{"gone"},
         [&](result<std::optional<std::string>> r) { gone = r ? r->value_or("nil") : "error"; });
  EXPECT_TRUE(test::run_until(
      loop, [&] { return a && gone; }, 10s));
  EXPECT_EQ(a, "after-a");
  EXPECT_EQ(gone, "nil");
}

TEST_F(Consistency, a_server_stopped_and_restarted_with_other_data_serves_nothing_from_before) {
  restart_with_other_data(false);
}

TEST_F(Consistency, a_server_killed_and_restarted_with_other_data_serves_nothing_from_before) {
  restart_with_other_data(true);
}

// ---- 4. A key's TTL -------------------------------------------------------------------------

TEST_F(Consistency, bcast_with_prefixes_caches_only_the_keys_it_is_told_about) {
  // The server announces writes under "user:" only: a read of any other key, cached, would be
  // served stale for good.
  for (const resp_version protocol : {resp_version::resp3, resp_version::resp2}) {
    SCOPED_TRACE(protocol == resp_version::resp3 ? "RESP3" : "RESP2");
    server().command({"FLUSHALL"});
    connection_config config = cached(server(), tracking_mode::bcast, protocol);
    config.cache.prefixes = {"user:"};
    connection c{*loop, config};
    connect(c);
    ASSERT_TRUE(test::run_until(
        *loop, [&] { return c.cache()->serving(); }, 10s));
    server().command({"SET", "order:1", "old"});
    server().command({"SET", "user:1", "old"});
    EXPECT_EQ(get(c, "order:1"), "old");
    EXPECT_EQ(get(c, "user:1"), "old");
    bool served = false;
    EXPECT_EQ(get(c, "user:1", &served), "old");
    EXPECT_TRUE(served) << "a key under the prefix is cached";
    server().command({"SET", "order:1", "new"});
    sync(c);
    EXPECT_EQ(get(c, "order:1", &served), "new");
    EXPECT_FALSE(served) << "a key outside the prefixes was served from the cache";
  }
}

TEST_F(Consistency, its_own_flush_or_select_is_never_answered_from_before_it) {
  // A read issued right after the connection's own FLUSHALL (or SELECT of another database)
  // completes runs before the server's null invalidation arrives, if one comes at all.
  for (const std::string change :
       {"FLUSHALL", "FLUSHDB", "SELECT", "SWAPDB", "SELECT in MULTI", "FLUSHDB in MULTI"}) {
    SCOPED_TRACE(change);
    server().command({"FLUSHALL"});
    server().command({"SET", "k", "before"});
    connection c{*loop, cached(server())};
    connect(c);
    EXPECT_EQ(get(c, "k"), "before");
    bool served = false;
    EXPECT_EQ(get(c, "k", &served), "before");
    ASSERT_TRUE(served);
    std::vector<std::string> args{change.substr(0, change.find(' '))};
    if (args[0] == "SELECT") args.push_back("1");
    if (args[0] == "SWAPDB") args = {"SWAPDB", "0", "1"};
    std::optional<std::string> read_after;
    bool ended = false;
    // At once, from the completion: before any push that follows the reply is read.
    const auto read_k = [&] {
      c.exec(cmd::get{"k"}, [&](result<std::optional<std::string>> got) {
        read_after = got ? got->value_or("(nil)") : "<error>";
        ended = true;
      });
    };
    if (change.ends_with("in MULTI")) {
      c.exec(transaction{cmd::raw{args}, cmd::ping{}}, [&](auto r) {
        EXPECT_TRUE(r) << change;
        read_k();
      });
    } else {
      c.exec(cmd::raw{args}, [&](result<resp::reply> r) {
        EXPECT_TRUE(r) << change;
        read_k();
      });
    }
    ASSERT_TRUE(test::run_until(
        *loop, [&] { return ended; }, 10s));
    EXPECT_EQ(read_after, std::optional<std::string>("(nil)"))
        << "answered with the value from before " << change;
  }
}

TEST_F(Consistency, a_raw_reset_is_refused_and_tracking_stays_on) {
  // RESET would turn tracking off on the server while the cache went on serving: refused
  // unsent, alone or in a transaction, and the cache is still told of another client's write.
  server().command({"SET", "k", "v1"});
  connection c{*loop, cached(server())};
  connect(c);
  EXPECT_EQ(get(c, "k"), "v1");
  std::optional<result<resp::reply>> reset;
  c.exec(cmd::raw{"reset"}, [&](result<resp::reply> r) { reset.emplace(std::move(r)); });
  ASSERT_TRUE(reset.has_value()) << "refused at once, unsent";
  ASSERT_TRUE(reset->has_error());
  EXPECT_EQ(reset->error(), make_error_code(errc::reset_refused));
  bool in_transaction_done = false;
  c.exec(transaction{cmd::ping{}, cmd::raw{"RESET"}}, [&](auto r) {
    EXPECT_TRUE(r.has_error() && r.error() == errc::reset_refused);
    in_transaction_done = true;
  });
  EXPECT_TRUE(in_transaction_done);
  bool served = false;
  EXPECT_EQ(get(c, "k", &served), "v1");
  EXPECT_TRUE(served);
  const std::uint64_t invalidations = c.cache()->stats().invalidations;
  server().command({"SET", "k", "v2"});
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return c.cache()->stats().invalidations > invalidations; }, 5s))
      << "tracking was turned off";
  EXPECT_EQ(get(c, "k", &served), "v2");
  EXPECT_FALSE(served);
}

TEST_F(Consistency, a_key_given_pexpire_50_is_not_served_after_it_expired) {
  for (const tracking_mode mode :
       {tracking_mode::optin, tracking_mode::tracked, tracking_mode::bcast}) {
    SCOPED_TRACE(mode_name(mode));
    server().command({"SET", "k", "v"});
    server().command({"PEXPIRE", "k", "50"});
    connection c{*loop, cached(server(), mode)};
    connect(c);
    const std::optional<std::string> first = get(c, "k");
    // Unless the machine stalled past the 50 ms already, the value is cached with its TTL.
    if (first.has_value()) {
      EXPECT_EQ(first, "v");
      EXPECT_EQ(c.cache()->stats().entries, 1u);
    }
    test::run_for(*loop, 80ms);
    bool served = true;
    EXPECT_EQ(get(c, "k", &served), std::nullopt);
    EXPECT_FALSE(served) << "an expired entry was served";
  }
}

// ---- 5. The memory bound --------------------------------------------------------------------

// 64 KiB of cache, 640 KiB of distinct values read through it: the bytes stay within the bound
// after every read, entries are evicted, and cache_evicted says so.
TEST_F(Consistency, the_memory_bound_holds_while_reading_ten_times_more) {
  constexpr std::size_t bound = 64 << 10;
  constexpr int key_count = 640;
  std::vector<std::string> storage;
  for (int i = 0; i < key_count; ++i) {
    storage.push_back("big:" + std::to_string(i));
    storage.push_back(std::string(1000, static_cast<char>('a' + i % 26)) + std::to_string(i));
  }
  std::vector<std::string_view> mset{"MSET"};
  for (const std::string& s : storage)
    mset.push_back(s);
  ASSERT_EQ(server().command(mset), "+OK\r\n");

  connection_config config = cached(server());
  config.cache.max_bytes = bound;
  connection c{*loop, config};
  connect(c);
  std::uint64_t evicted = 0, evictions_events = 0;
  event::listener<event::cache_evicted> on_evicted{loop->events(),
                                                   [&](const event::cache_evicted& e) {
                                                     evicted += e.entries;
                                                     ++evictions_events;
                                                   }};
  std::size_t max_bytes_seen = 0;
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < key_count; ++i) {
      const std::string& key = storage[static_cast<std::size_t>(2 * i)];
      EXPECT_EQ(get(c, key), storage[static_cast<std::size_t>(2 * i + 1)]) << key;
      const std::uint64_t bytes = c.cache()->stats().bytes;
      max_bytes_seen = std::max<std::size_t>(max_bytes_seen, bytes);
      ASSERT_LE(bytes, bound) << "after reading " << key;
    }
  }
  const store_stats& stats = c.cache()->stats();
  EXPECT_GT(stats.evictions, 0u);
  EXPECT_GT(stats.entries, 10u);  // it still caches: about 60 values of 1 KiB fit
  EXPECT_GT(max_bytes_seen, bound / 2);
  EXPECT_GT(evictions_events, 0u);
  EXPECT_EQ(evicted, stats.evictions);
  // The most recent value is still there.
  bool served = false;
  EXPECT_EQ(get(c, storage[storage.size() - 2], &served), storage.back());
  EXPECT_TRUE(served);
}

// ---- 6. The server's tracking table, bounded ------------------------------------------------

class ConsistencyTrackingTable : public ::testing::TestWithParam<tracking_mode>,
                                 protected cache_fixture {
 protected:
  void SetUp() override {
    server().command({"FLUSHALL"});
    const std::string raw = server().command({"CONFIG", "GET", "tracking-table-max-keys"});
    // *2 $23 tracking-table-max-keys $N value
    const std::size_t last = raw.rfind("$");
    const std::size_t begin = raw.find("\r\n", last);
    ASSERT_NE(begin, std::string::npos) << raw;
    saved_ = raw.substr(begin + 2, raw.size() - begin - 4);
    ASSERT_EQ(server().command({"CONFIG", "SET", "tracking-table-max-keys", "10"}), "+OK\r\n");
  }
  void TearDown() override {
    if (!saved_.empty()) server().command({"CONFIG", "SET", "tracking-table-max-keys", saved_});
  }
  static test::redis_server& server() { return shared_server(); }

  std::string saved_;
};

// The server tracks at most 10 keys: reading 100 makes it evict keys from its table, which it
// announces as invalidations (there is no write at all). Those keys are then written by another
// client, which the server no longer tells this connection about: every read must still return
// the server's value, so the evicted keys' entries must be gone.
TEST_P(ConsistencyTrackingTable, the_servers_evictions_arrive_as_invalidations) {
  constexpr int key_count = 100;
  std::vector<std::string> keys;
  for (int i = 0; i < key_count; ++i) {
    keys.push_back("t:" + std::to_string(i));
    server().command({"SET", keys.back(), "old" + std::to_string(i)});
  }
  connection c{*loop, cached(server(), GetParam())};
  connect(c);
  for (int i = 0; i < key_count; ++i)
    EXPECT_EQ(get(c, keys[static_cast<std::size_t>(i)]), "old" + std::to_string(i));
  // The server evicts when it runs a command (any client's) or in its cron.
  EXPECT_TRUE(test::run_until(
      *loop,
      [&] {
        sync(c);
        return c.cache()->stats().invalidations > 0;
      },
      10s))
      << "no invalidation arrived";
  sync(c);
  const std::uint64_t invalidations = c.cache()->stats().invalidations;
  EXPECT_GE(invalidations, static_cast<std::uint64_t>(key_count - 10) / 2)
      << "entries: " << c.cache()->stats().entries;
  for (int i = 0; i < key_count; ++i)
    EXPECT_EQ(get(c, keys[static_cast<std::size_t>(i)]), "old" + std::to_string(i));

  for (int i = 0; i < key_count; ++i)
    server().command({"SET", keys[static_cast<std::size_t>(i)], "new" + std::to_string(i)});
  sync(c);
  int stale = 0;
  for (int i = 0; i < key_count; ++i) {
    const std::optional<std::string> v = get(c, keys[static_cast<std::size_t>(i)]);
    stale += v != "new" + std::to_string(i);
    EXPECT_EQ(v, "new" + std::to_string(i)) << keys[static_cast<std::size_t>(i)];
  }
  EXPECT_EQ(stale, 0);
}

INSTANTIATE_TEST_SUITE_P(Modes, ConsistencyTrackingTable,
                         ::testing::Values(tracking_mode::optin, tracking_mode::tracked),
                         [](const ::testing::TestParamInfo<tracking_mode>& info) {
                           return std::string(mode_name(info.param));
                         });

// ---- 7. What a miss allocates ---------------------------------------------------------------

// A hit allocates nothing (driver_test). A miss in steady state — the cache full, so each miss
// evicts one entry and the store's maps keep their size — allocates, as measured on this
// build: the entry's block and its reply's block (mi_heap_malloc/mi_malloc: the allocation
// counter wraps mimalloc's entry points, so these are seen too), the node of the command
// index and the node of the key index (std::unordered_map, operator new): 4 per miss. An
// uncached GET on the same connection allocates nothing. The bound asserted leaves room for an
// occasional rehash or buffer growth, not for a per-miss allocation more.
TEST_F(Consistency, what_a_miss_allocates_in_steady_state) {
  constexpr int per_round = 256;
  constexpr int rounds = 3;  // the first fills the cache, the second warms, the third counts
  std::vector<std::string> storage;
  for (int i = 0; i < per_round * rounds; ++i) {
    storage.push_back("m:" + std::to_string(i));
    storage.push_back("v" + std::to_string(i));
  }
  std::vector<std::string_view> mset{"MSET"};
  for (const std::string& s : storage)
    mset.push_back(s);
  ASSERT_EQ(server().command(mset), "+OK\r\n");

  connection_config config = cached(server());
  // Room for fewer than per_round entries: every round evicts.
  config.cache.max_bytes = 100 * (store::entry_overhead + 64);
  connection c{*loop, config};
  connect(c);

  int done = 0;
  int values = 0;
  auto read_round = [&](int round, proto::cache_use use) {
    done = 0;
    for (int i = round * per_round; i < (round + 1) * per_round; ++i)
      c.exec(cmd::get{storage[static_cast<std::size_t>(2 * i)]},
             [&](result<std::optional<std::string>> r) {
               ++done;
               values += r && r->has_value();
             },
             {.cache = use});
    loop->run_until([&] { return done == per_round; });
  };
  read_round(0, proto::cache_use::automatic);
  read_round(1, proto::cache_use::automatic);
  read_round(0, proto::cache_use::skip);  // warms the uncached path alike
  const std::uint64_t misses_before = c.cache()->stats().misses;
  ASSERT_GT(c.cache()->stats().evictions, 0u);

  dev::allocation_scope uncached;
  read_round(1, proto::cache_use::skip);
  const std::uint64_t uncached_allocations = uncached.allocations();

  dev::allocation_scope scope;
  read_round(2, proto::cache_use::automatic);
  const std::uint64_t allocations = scope.allocations();
  const std::uint64_t bytes = scope.bytes();

  EXPECT_EQ(values, 5 * per_round);
  EXPECT_EQ(c.cache()->stats().misses - misses_before, static_cast<std::uint64_t>(per_round));
  EXPECT_EQ(uncached_allocations, 0u);
  const double per_miss = static_cast<double>(allocations) / per_round;
  std::printf(
      "[ allocs  ] %d misses: %llu allocations (%.2f per miss, %.1f bytes per miss); "
      "%d uncached reads: %llu allocations\n",
      per_round, static_cast<unsigned long long>(allocations), per_miss,
      static_cast<double>(bytes) / per_round, per_round,
      static_cast<unsigned long long>(uncached_allocations));
  EXPECT_LE(allocations, 4u * per_round + 8u);
}

}  // namespace
}  // namespace uredis::cache

// Batches built at run time, end to end against a real redis-server, on the blocking and the
// coroutine APIs: generic (resp::reply) and typed entries, a thousand commands in one send, an
// error reply that fails only its own entry, reuse after clear() and as it is, an empty batch,
// a SUBSCRIBE refused when pushed, a connection killed mid-batch (every entry completes, the
// blocking call throws, nothing hangs) and no allocation once the batch's buffers are warm.

#include "uredis/client/batch.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <type_traits>

#include "../support/client_setup.hpp"
#include "../support/redis_server.hpp"
#include "../support/run_coroutine.hpp"
#include "allocation_counter.hpp"
#include "uredis/client/blocking_client.hpp"
#include "uredis/client/client.hpp"
#include "uredis/client/task.hpp"
#include "uredis/cmd/all.hpp"
#include "uredis/exceptions.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/retry/retry_policy.hpp"

namespace uredis {
namespace {

using test::config_for;
using test::make_reactor;

std::string key(int i) {
  return "k:" + std::to_string(i);
}  // short: no allocation (SSO)

std::string bulk(const std::string& text) {
  return "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n";
}

TEST(Batch, BlockingGenericAnErrorFailsOnlyItsEntry) {
  test::redis_server server;
  blocking_client c{server.url()};
  batch<> b;
  {
    const std::string value = "hello";  // dies before the batch is sent: push copied it
    b.push(cmd::set{"s", value});
  }
  b.push(cmd::incr{"n"});
  b.push(cmd::incr{"s"});  // not an integer: ERR, this entry only
  b.push(cmd::get{"s"}).push(cmd::raw{"ECHO", "x"});
  EXPECT_EQ(b.size(), 5u);
  const std::span<result<resp::reply>> got = c.exec(b);  // does not throw: a server error
  ASSERT_EQ(got.size(), 5u);
  ASSERT_TRUE(got[0].has_value());
  EXPECT_EQ(got[0]->text(), "OK");
  ASSERT_TRUE(got[1].has_value());
  EXPECT_EQ(got[1]->integer(), 1);
  ASSERT_TRUE(got[2].has_server_error());
  EXPECT_EQ(got[2].server_error().kind, server_error_kind::err);
  EXPECT_NE(got[2].server_error().message.find("not an integer"), std::string::npos);
  ASSERT_TRUE(got[3].has_value());
  EXPECT_EQ(got[3]->text(), "hello");
  ASSERT_TRUE(got[4].has_value());
  EXPECT_EQ(got[4]->text(), "x");
  EXPECT_FALSE(b.failure());
  EXPECT_EQ(&b[4], &got[4]);  // the span is the batch's results
}

TEST(Batch, BlockingTypedThousandCommands) {
  test::redis_server server;
  blocking_client c{server.url()};
  batch<cmd::applied> sets;
  for (int i = 0; i < 1000; ++i)
    sets.push(cmd::set{key(i), "v" + std::to_string(i)});
  for (const result<cmd::applied>& r : c.exec(sets))
    EXPECT_TRUE(r.has_value() && *r);

  batch<std::optional<std::string>> gets;
  for (int i = 0; i < 1000; ++i)
    gets.push(cmd::get{key(i)});
  gets.push(cmd::get{"missing"});
  const auto values = c.exec(gets);
  static_assert(
      std::is_same_v<decltype(values), const std::span<result<std::optional<std::string>>>>);
  ASSERT_EQ(values.size(), 1001u);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(values[i].has_value()) << i;
    EXPECT_EQ(*values[i], "v" + std::to_string(i));
  }
  EXPECT_EQ(*values[1000], std::nullopt);
}

TEST(Batch, BlockingErrorInTheMiddleOfAThousand) {
  test::redis_server server;
  server.command({"SET", "text", "abc"});
  blocking_client c{server.url()};
  batch<std::int64_t> b;
  for (int i = 0; i < 1000; ++i)
    b.push(i == 500 ? cmd::incr{"text"} : cmd::incr{"counter"});
  const auto got = c.exec(b);
  ASSERT_EQ(got.size(), 1000u);
  std::int64_t expected = 0;
  for (int i = 0; i < 1000; ++i) {
    if (i == 500) {
      EXPECT_TRUE(got[i].has_server_error());
      continue;
    }
    ASSERT_TRUE(got[i].has_value()) << i;
    EXPECT_EQ(*got[i], ++expected);
  }
  EXPECT_EQ(server.command({"GET", "counter"}), bulk("999"));
  // The connection is in step: the next command gets its own reply.
  EXPECT_EQ(c.incr("counter"), 1000);
}

TEST(Batch, ReusedAfterClearAndAsItIs) {
  test::redis_server server;
  blocking_client c{server.url()};
  batch<std::int64_t> b;
  b.push(cmd::incr{"a"}).push(cmd::incr{"b"});
  c.exec(b);
  // Sent again as it is: the same commands, fresh results.
  const auto again = c.exec(b);
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(*again[0], 2);
  EXPECT_EQ(*again[1], 2);
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_TRUE(b.bytes().empty());
  b.push(cmd::incrby{"c", 10}).push(cmd::decr{"a"}).push(cmd::incr{"b"});
  const auto refilled = c.exec(b);
  ASSERT_EQ(refilled.size(), 3u);
  EXPECT_EQ(*refilled[0], 10);
  EXPECT_EQ(*refilled[1], 1);
  EXPECT_EQ(*refilled[2], 3);
}

TEST(Batch, EmptyBatch) {
  test::redis_server server;
  blocking_client c{server.url()};
  batch<> b;
  EXPECT_TRUE(c.exec(b).empty());
  auto r = make_reactor();
  client co{*r, config_for(server)};
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(co);
    const std::span<result<resp::reply>> got = co_await co.exec(b);
    EXPECT_TRUE(got.empty());
  });
  EXPECT_EQ(c.ping(), "PONG");
}

TEST(Batch, SubscribeIsRefusedWhenPushed) {
  test::redis_server server;
  blocking_client c{server.url()};
  batch<> b;
  b.push(cmd::incr{"n"});
  b.push(cmd::raw{"SUBSCRIBE", "news"});  // would turn the connection into a subscriber
  b.push(cmd::raw{"MONITOR"});
  b.push(cmd::incr{"n"});
  EXPECT_TRUE(b[1].has_error());
  const auto got = c.exec(b);  // a refused entry is not the connection's failure
  EXPECT_EQ(got[0]->integer(), 1);
  ASSERT_TRUE(got[1].has_error());
  EXPECT_EQ(got[1].error(), make_error_code(errc::not_one_reply));
  ASSERT_TRUE(got[2].has_error());
  EXPECT_EQ(got[2].error(), make_error_code(errc::not_one_reply));
  EXPECT_EQ(got[3]->integer(), 2);
}

TEST(Batch, CoroutineGenericAndTyped) {
  test::redis_server server;
  server.command({"SET", "text", "abc"});
  auto r = make_reactor();
  client c{*r, config_for(server)};
  batch<> generic;
  batch<std::int64_t> typed;
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    for (int i = 0; i < 1000; ++i)
      generic.push(cmd::set{key(i), i});
    generic.push(cmd::incr{"text"});
    generic.push(cmd::hgetall{"nohash"});
    const std::span<result<resp::reply>> got = co_await c.exec(generic);
    EXPECT_EQ(got.size(), 1002u);
    for (int i = 0; i < 1000; ++i)
      EXPECT_TRUE(got[i].has_value() && got[i]->text() == "OK") << i;
    EXPECT_TRUE(got[1000].has_server_error());
    EXPECT_TRUE(got[1001].has_value());

    for (int i = 0; i < 1000; ++i)
      typed.push(i == 999 ? cmd::incr{"text"} : cmd::incr{key(i)});
    const std::span<result<std::int64_t>> incremented = co_await c.exec(typed);
    for (int i = 0; i < 999; ++i)
      EXPECT_EQ(*incremented[i], i + 1) << i;
    EXPECT_TRUE(incremented[999].has_server_error());
    EXPECT_FALSE(typed.failure());

    // Reused after clear(), in the same coroutine.
    typed.clear();
    typed.push(cmd::incr{key(0)});
    const auto once_more = co_await c.exec(typed);
    EXPECT_EQ(once_more.size(), 1u);
    if (once_more.size() == 1) {
      EXPECT_EQ(*once_more[0], 2);
    }
  });
}

TEST(Batch, NotConnectedFailsEveryEntryAtOnce) {
  auto r = make_reactor();
  connection_config config;
  config.port = 1;  // never connected anyway
  client c{*r, config};
  batch<std::int64_t> b;
  b.push(cmd::incr{"a"}).push(cmd::incr{"b"});
  test::run_coroutine(*r, [&]() -> task<> {
    const auto got = co_await c.exec(b);  // idle: refused without suspending
    EXPECT_EQ(got.size(), 2u);
    if (got.size() != 2) co_return;
    EXPECT_EQ(got[0].error(), make_error_code(errc::not_connected));
    EXPECT_EQ(got[1].error(), make_error_code(errc::not_connected));
    EXPECT_EQ(b.failure(), make_error_code(errc::not_connected));
    EXPECT_FALSE(b.in_flight());
  });
}

// CLIENT KILL ... SKIPME no kills the connection that sends it, right after its reply: what the
// batch had behind it is lost with the socket, every time.
void push_killing_batch(batch<>& b) {
  for (int i = 0; i < 10; ++i)
    b.push(cmd::incr{"before"});
  b.push(cmd::raw{"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no"});
  for (int i = 0; i < 10; ++i)
    b.push(cmd::incr{"after"}).push(cmd::get{"before"});
}

TEST(Batch, BlockingConnectionKilledMidBatch) {
  test::redis_server server;
  blocking_client c{server.url()};
  batch<> b;
  push_killing_batch(b);
  EXPECT_THROW(c.exec(b), connection_error);
  EXPECT_EQ(b.failure(), make_error_code(errc::outcome_unknown));
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(b[i]->integer(), i + 1);
  // Behind the kill: the INCRs were written and lost (outcome_unknown, never resent); the GETs
  // are reads, resent after the reconnect, and answered.
  for (std::size_t i = 11; i < b.size(); i += 2) {
    ASSERT_TRUE(b[i].has_error()) << i;
    EXPECT_EQ(b[i].error(), make_error_code(errc::outcome_unknown));
    ASSERT_TRUE(b[i + 1].has_value()) << i;
    EXPECT_EQ(b[i + 1]->text(), "10");
  }
  EXPECT_EQ(server.command({"GET", "after"}), "$-1\r\n");
  // The client goes on.
  EXPECT_EQ(c.incr("after"), 1);
}

TEST(Batch, CoroutineConnectionKilledMidBatchWithoutReconnects) {
  test::redis_server server;
  auto r = make_reactor();
  connection_config config = config_for(server);
  config.retry = retry::retry_policy::never();
  client c{*r, config};
  batch<> b;
  push_killing_batch(b);
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    const auto got = co_await c.exec(b);  // resumes: every entry completed
    for (int i = 0; i < 10; ++i)
      EXPECT_EQ(got[i]->integer(), i + 1);
    for (std::size_t i = 11; i < got.size(); ++i)
      EXPECT_TRUE(got[i].has_error()) << i;
    EXPECT_TRUE(b.failure());
    EXPECT_FALSE(b.in_flight());
  });
}

TEST(Batch, NoAllocationOnceWarm) {
  test::redis_server server;
  blocking_client c{server.url()};
  batch<std::int64_t> b;
  auto round = [&] {
    b.clear();
    for (int i = 0; i < 1000; ++i)
      b.push(cmd::incr{key(i % 100)});
    std::int64_t sum = 0;
    for (const result<std::int64_t>& r : c.exec(b))
      sum += r.has_value() ? *r : -1000000;
    dev::do_not_optimize(sum);
  };
  auto r = make_reactor();
  client co{*r, config_for(server)};
  auto coroutine_round = [&]() -> task<> {
    b.clear();
    for (int i = 0; i < 1000; ++i)
      b.push(cmd::incr{key(i % 100)});
    const auto got = co_await co.exec(b);
    for (const result<std::int64_t>& one : got)
      EXPECT_TRUE(one.has_value());
  };
  test::run_coroutine(*r, [&]() -> task<> { co_await test::connect_or_fail(co); });
  for (int i = 0; i < 3; ++i) {  // warm: the batch's buffers, the connections', the frame pool
    round();
    test::run_coroutine(*r, coroutine_round);
  }
  const dev::allocation_scope scope;
  for (int i = 0; i < 10; ++i) {
    round();
    test::run_coroutine(*r, coroutine_round);
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(server.command({"GET", "k:0"}), bulk(std::to_string(13 * 2 * 10)));
}

}  // namespace
}  // namespace uredis

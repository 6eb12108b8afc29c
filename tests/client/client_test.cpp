// The coroutine client end to end: a real redis-server, a real io_uring reactor, coroutines
// spawned on the test's thread. What the awaiters promise: the connection's states, resumption
// with an error on close, ordered pipelining across many coroutines, and no heap allocation
// per command once warm (coroutine and callback paths).

#include "uredis/client/client.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/redis_server.hpp"
#include "../support/run_coroutine.hpp"
#include "allocation_counter.hpp"
#include "uredis/client/task.hpp"

namespace uredis {
namespace {

using test::config_for;
using test::make_reactor;

// The RESP2 bulk string a raw test connection reads for `text`.
std::string bulk(const std::string& text) {
  return "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n";
}

TEST(Client, ConnectAndAwaitCommands) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  EXPECT_EQ(c.state(), connection_state::idle);
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    EXPECT_EQ(c.protocol(), 3);
    EXPECT_TRUE(*co_await c.set("k", "v"));
    const result<std::optional<std::string>> v = co_await c.get("k");
    EXPECT_EQ(v->value(), "v");
    EXPECT_EQ(*co_await c.exec(cmd::incrby{"n", 5}), 5);
    // Connecting again when connected is a no-op that succeeds.
    EXPECT_TRUE((co_await c.connect()).has_value());
  });
  EXPECT_TRUE(c.ready());
  EXPECT_EQ(server.command({"GET", "n"}), bulk("5"));
}

TEST(Client, AwaitingWhileIdleOrClosedCompletesAtOnce) {
  auto r = make_reactor();
  client c{*r, connection_config{}};
  std::optional<result<std::int64_t>> got;
  bool done = false;
  // No reactor turn at all: the coroutine must finish inside spawn().
  auto body = [&]() -> task<> { got.emplace(co_await c.incr("x")); };
  spawn(test::signal_when_done(body(), done));
  ASSERT_TRUE(done);
  EXPECT_EQ(got->error(), make_error_code(errc::not_connected));
  c.close();
  got.reset();
  done = false;
  spawn(test::signal_when_done(body(), done));
  ASSERT_TRUE(done);
  EXPECT_EQ(got->error(), make_error_code(errc::not_connected));
}

TEST(Client, ConnectFailures) {
  auto r = make_reactor();
  connection_config refused;
  refused.port = test::free_loopback_port();
  // The connect is retried as the policy says (3 more attempts), then gives up.
  refused.retry = retry::retry_policy(retry::backoff::constant(std::chrono::milliseconds(1)), 3);
  client c{*r, refused};
  test::run_coroutine(*r, [&]() -> task<> {
    const result<void> o = co_await c.connect();
    EXPECT_EQ(o.error(), make_error_code(errc::connection_refused));
  });
  EXPECT_EQ(c.state(), connection_state::closed);
  EXPECT_EQ(r->events().stats().reconnect_scheduled, 3u);
  EXPECT_EQ(r->events().stats().retries_exhausted, 1u);

  // An empty host fails before anything is submitted: the coroutine does not suspend.
  connection_config no_host;
  no_host.host = "";
  client d{*r, no_host};
  bool done = false;
  auto body = [&]() -> task<> {
    const result<void> o = co_await d.connect();
    EXPECT_TRUE(o.has_error());
  };
  spawn(test::signal_when_done(body(), done));
  EXPECT_TRUE(done);
}

TEST(Client, SecondConnectWhileConnectingIsRefused) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  std::optional<result<void>> first, second;
  auto one = [&]() -> task<> { first.emplace(co_await c.connect()); };
  auto two = [&]() -> task<> { second.emplace(co_await c.connect()); };
  bool done_one = false, done_two = false;
  spawn(test::signal_when_done(one(), done_one));
  spawn(test::signal_when_done(two(), done_two));
  EXPECT_TRUE(done_two);  // refused at once
  EXPECT_EQ(second->error(), std::errc::connection_already_in_progress);
  r->run_until([&] { return done_one; });
  EXPECT_TRUE(first->has_value());
}

TEST(Client, CommandsAwaitedWhileConnectingWaitForTheHandshake) {
  test::redis_server server;
  auto r = make_reactor();
  auto cfg = config_for(server);
  cfg.db = 2;  // the waiting commands must run after SELECT
  client c{*r, cfg};
  std::vector<std::int64_t> seen;
  auto counter = [&]() -> task<> {
    for (int i = 0; i < 3; ++i)
      seen.push_back(*co_await c.incr("held"));
  };
  bool connected = false, counted = false;
  auto connector = [&]() -> task<> { connected = (co_await c.connect()).has_value(); };
  spawn(connector());
  EXPECT_EQ(c.state(), connection_state::connecting);
  spawn(test::signal_when_done(counter(), counted));
  r->run_until([&] { return counted; });
  EXPECT_TRUE(connected);
  EXPECT_EQ(seen, (std::vector<std::int64_t>{1, 2, 3}));
  EXPECT_EQ(server.command({"EXISTS", "held"}), ":0\r\n");  // db 0: not there
}

TEST(Client, ServerAndAdapterErrorsAreResultsAndTheConnectionGoesOn) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    EXPECT_TRUE(*co_await c.set("text", "abc"));
    const result<std::int64_t> wrong = co_await c.incr("text");
    EXPECT_TRUE(wrong.has_server_error());
    // The reply is a string; reading it as an integer is the client's mismatch.
    const result<std::int64_t> mismatch = co_await c.exec(cmd::raw<std::int64_t>{"GET", "text"});
    EXPECT_EQ(mismatch.error(), make_error_code(errc::type_mismatch));
    const result<std::vector<std::string>> wrongtype = co_await c.lrange("text", 0, -1);
    EXPECT_EQ(wrongtype.server_error().kind, server_error_kind::wrongtype);
    EXPECT_EQ(*co_await c.incr("n"), 1);
  });
  EXPECT_TRUE(c.ready());
}

// Coroutines stuck behind a BLPOP that never returns: closing (or destroying) the client must
// resume every one of them, once, with the error.
TEST(Client, CloseResumesEveryWaitingCoroutineWithTheError) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  test::run_coroutine(*r, [&]() -> task<> { co_await test::connect_or_fail(c); });

  std::vector<std::error_code> errors;
  int finished = 0;
  auto blocked = [&]() -> task<> {
    const result<resp::reply> v = co_await c.command("BLPOP", "nothing", 0);
    errors.push_back(v.has_error() ? v.error() : std::error_code{});
    ++finished;
  };
  auto behind = [&]() -> task<> {
    const result<std::int64_t> v = co_await c.incr("k");
    errors.push_back(v.has_error() ? v.error() : std::error_code{});
    ++finished;
  };
  spawn(blocked());
  for (int i = 0; i < 10; ++i)
    spawn(behind());
  for (int i = 0; i < 5; ++i)
    r->poll();  // sent; the server holds them all behind the BLPOP
  EXPECT_EQ(finished, 0);
  EXPECT_EQ(c.connection().pending(), 11u);
  c.close();
  EXPECT_EQ(finished, 11);
  for (const std::error_code& ec : errors)
    EXPECT_EQ(ec, make_error_code(errc::connection_closed));
  EXPECT_EQ(c.state(), connection_state::closed);
}

TEST(Client, DestroyingTheClientResumesItsCoroutines) {
  test::redis_server server;
  auto r = make_reactor();
  auto c = std::make_unique<client>(*r, config_for(server));
  test::run_coroutine(*r, [&]() -> task<> { co_await test::connect_or_fail(*c); });
  std::optional<std::error_code> error;
  auto blocked = [&]() -> task<> {
    const result<resp::reply> v = co_await c->command("BLPOP", "nothing", 0);
    error = v.has_error() ? v.error() : std::error_code{};
  };
  spawn(blocked());
  r->poll();
  EXPECT_FALSE(error.has_value());
  c.reset();
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(*error, make_error_code(errc::connection_closed));
}

TEST(Client, ServerKilledMidPipelineWithoutRetries) {
  test::redis_server server;
  auto r = make_reactor();
  connection_config cfg = config_for(server);
  cfg.retry = retry::retry_policy::never();
  client c{*r, cfg};
  test::run_coroutine(*r, [&]() -> task<> { co_await test::connect_or_fail(c); });
  int failed = 0, finished = 0;
  auto worker = [&]() -> task<> {
    for (;;) {
      const result<std::int64_t> v = co_await c.incr("k");
      if (!v) {
        ++failed;
        break;
      }
    }
    ++finished;
  };
  for (int i = 0; i < 20; ++i)
    spawn(worker());
  for (int i = 0; i < 50; ++i)
    r->poll();
  server.kill();
  r->run_until([&] { return finished == 20; });
  EXPECT_EQ(failed, 20);
  EXPECT_EQ(c.state(), connection_state::closed);
}

TEST(Client, ConnectWhileReconnectingIsRefusedAndCommandsWaitForTheReconnect) {
  test::redis_server server;
  auto r = make_reactor();
  connection_config cfg = config_for(server);
  cfg.retry = retry::retry_policy(retry::backoff::constant(std::chrono::milliseconds(20)), 1000);
  client c{*r, cfg};
  test::run_coroutine(*r, [&]() -> task<> { co_await test::connect_or_fail(c); });
  server.kill();
  r->run_until([&] { return c.state() == connection_state::reconnecting; });
  test::run_coroutine(*r, [&]() -> task<> {
    const result<void> o = co_await c.connect();
    EXPECT_EQ(o.error(), std::make_error_code(std::errc::connection_already_in_progress));
  });
  server.start();
  test::run_coroutine(*r, [&]() -> task<> {
    const result<std::int64_t> n = co_await c.incr("n");
    EXPECT_EQ(n.value(), 1);
  });
  EXPECT_TRUE(c.ready());
}

TEST(Client, CallbackPassThroughAndBorrowedConnection) {
  test::redis_server server;
  auto r = make_reactor();
  connection conn{*r, config_for(server)};
  client c{conn};
  EXPECT_EQ(&c.connection(), &conn);
  test::run_coroutine(*r, [&]() -> task<> { co_await test::connect_or_fail(c); });
  std::vector<std::int64_t> seen;
  for (int i = 0; i < 3; ++i)
    c.exec(cmd::incr{"cb"}, [&](result<std::int64_t> v) { seen.push_back(*v); });
  r->run_until([&] { return seen.size() == 3; });
  EXPECT_EQ(seen, (std::vector<std::int64_t>{1, 2, 3}));
}

// The issue's "1,000,000 pipelined INCRs from many coroutines arrive in order with the right
// replies": 100 coroutines, 10,000 INCRs each, alternating between the coroutine's own key and
// one shared counter. Every reply is checked against the number the order of sending predicts:
// commands are queued in the order the coroutines reach co_await (one thread), so the shared
// counter's reply must be exactly the count of shared INCRs issued so far.
TEST(Client, MillionPipelinedIncrsFromManyCoroutinesArriveInOrder) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  test::run_coroutine(*r, [&]() -> task<> { co_await test::connect_or_fail(c); });

  constexpr int coroutines = 100;
  constexpr int per_coroutine = 10'000;  // half on its own key, half on the shared counter
  std::int64_t shared_issued = 0;
  std::int64_t wrong = 0;
  std::int64_t replies = 0;
  int finished = 0;
  std::vector<std::string> keys;
  for (int i = 0; i < coroutines; ++i)
    keys.push_back("own:" + std::to_string(i));

  auto worker = [&](const std::string& key) -> task<> {
    for (std::int64_t i = 1; i <= per_coroutine / 2; ++i) {
      const result<std::int64_t> own = co_await c.incr(key);
      if (!own || *own != i) ++wrong;
      const std::int64_t expected = ++shared_issued;
      const result<std::int64_t> shared = co_await c.incr("shared");
      if (!shared || *shared != expected) ++wrong;
      replies += 2;
    }
    ++finished;
  };
  std::vector<task<>> workers;
  for (int i = 0; i < coroutines; ++i)
    workers.push_back(worker(keys[static_cast<std::size_t>(i)]));
  for (task<>& t : workers)
    spawn(std::move(t));
  r->run_until([&] { return finished == coroutines; });

  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(replies, std::int64_t{coroutines} * per_coroutine);
  EXPECT_EQ(server.command({"GET", "shared"}),
            bulk(std::to_string(coroutines * per_coroutine / 2)));
  EXPECT_EQ(server.command({"GET", "own:99"}), bulk(std::to_string(per_coroutine / 2)));
}

// Steady state on the coroutine path: once the frame pool, the FIFO and the buffers have grown,
// a round of coroutines issuing commands allocates nothing at all.
TEST(Client, CoroutinePathAllocatesNothingPerCommand) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    EXPECT_TRUE(*co_await c.set("short", "value"));  // short enough for the SSO
  });
  constexpr int coroutines = 32;
  constexpr int commands = 64;  // per coroutine and round, in four kinds
  std::int64_t wrong = 0;
  int finished = 0;
  auto worker = [&]() -> task<> {
    for (int i = 0; i < commands / 4; ++i) {
      const result<std::int64_t> n = co_await c.incr("counter");
      if (!n) ++wrong;
      const result<std::optional<std::string>> v = co_await c.get("short");
      if (!v || **v != "value") ++wrong;
      const result<cmd::applied> s = co_await c.set("other", 42);
      if (!s || !*s) ++wrong;
      const result<std::int64_t> e = co_await c.exists("short");
      if (!e || *e != 1) ++wrong;
    }
    ++finished;
  };
  auto round = [&] {
    const int target = finished + coroutines;
    for (int i = 0; i < coroutines; ++i)
      spawn(worker());
    r->run_until([&] { return finished == target; });
  };
  for (int i = 0; i < 4; ++i)
    round();  // warm-up
  const dev::allocation_scope scope;
  for (int i = 0; i < 20; ++i)
    round();
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(server.command({"GET", "counter"}),
            bulk(std::to_string(24 * coroutines * commands / 4)));
}

// Steady state on the callback path through the facade.
TEST(Client, CallbackPathAllocatesNothingPerCommand) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  test::run_coroutine(*r, [&]() -> task<> { co_await test::connect_or_fail(c); });
  std::int64_t last = 0;
  int done = 0;
  auto round = [&] {
    const int target = done + 256;
    for (int i = 0; i < 256; ++i)
      c.exec(cmd::incr{"a"}, [&last, &done](result<std::int64_t> v) {
        last = *v;
        ++done;
      });
    r->run_until([&] { return done == target; });
  };
  for (int i = 0; i < 4; ++i)
    round();
  const dev::allocation_scope scope;
  for (int i = 0; i < 40; ++i)
    round();
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(last, 44 * 256);
}

}  // namespace
}  // namespace uredis

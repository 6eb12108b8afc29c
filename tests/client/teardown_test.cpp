// Deferred teardown: closing or destroying a connection from inside its own completions,
// callbacks, listeners and timers, or from another connection's, is safe (the test command runs
// this under ASan). Real redis-server, real reactor.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/redis_server.hpp"
#include "uredis/client/client.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/client/task.hpp"
#include "uredis/cmd/raw.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/event/dispatcher.hpp"

namespace uredis {
namespace {

using test::config_for;
using test::make_reactor;

using namespace std::chrono_literals;

std::unique_ptr<connection> connected(reactor::reactor& r, const test::redis_server& server) {
  auto c = std::make_unique<connection>(r, config_for(server));
  std::optional<result<void>> outcome;
  c->connect([&](const result<void>& o) { outcome = o; });
  r.run_until([&] { return outcome.has_value(); });
  EXPECT_TRUE(outcome->has_value());
  return c;
}

// The shard goes on after a teardown: another connection on it still works.
void expect_the_shard_works(reactor::reactor& r, const test::redis_server& server) {
  auto other = connected(r, server);
  std::optional<result<std::int64_t>> n;
  other->exec(cmd::incr{"after"}, [&](result<std::int64_t> v) { n = std::move(v); });
  r.run_until([&] { return n.has_value(); });
  EXPECT_TRUE(n->has_value());
}

std::string closed() {
  return make_error_code(errc::connection_closed).message();
}

TEST(Teardown, DestroyedInsideItsOwnCompletion) {
  test::redis_server server;
  auto r = make_reactor();
  std::unique_ptr<connection> c = connected(*r, server);
  std::vector<std::string> seen;
  c->exec(cmd::get{"k"}, [&](result<std::optional<std::string>> v) {
    seen.push_back(v.has_value() ? "reply" : v.error().message());
    c.reset();  // the connection that is completing this very command
  });
  for (int i = 0; i < 2; ++i)
    c->exec(cmd::get{"k"}, [&](result<std::optional<std::string>> v) {
      seen.push_back(v.has_value() ? "reply" : v.error().message());
    });
  r->run_until([&] { return seen.size() == 3; });
  EXPECT_EQ(seen, (std::vector<std::string>{"reply", closed(), closed()}));
  for (int i = 0; i < 3; ++i)
    r->poll();  // the late completions of the dead socket are dropped
  expect_the_shard_works(*r, server);
}

TEST(Teardown, DestroyedInsideItsConnectCallback) {
  test::redis_server server;
  auto r = make_reactor();
  auto c = std::make_unique<connection>(*r, config_for(server));
  bool called = false;
  c->connect([&](const result<void>& o) {
    EXPECT_TRUE(o.has_value());
    called = true;
    c.reset();
  });
  r->run_until([&] { return called; });
  r->poll();
  EXPECT_EQ(c, nullptr);
  expect_the_shard_works(*r, server);
}

TEST(Teardown, DestroyedByACommandRefusedAtOnce) {
  test::redis_server server;
  auto r = make_reactor();
  auto c = std::make_unique<connection>(*r, config_for(server));  // never connected
  std::optional<std::string> seen;
  c->exec(cmd::get{"k"}, [&](result<std::optional<std::string>> v) {
    seen = v.has_value() ? "reply" : v.error().message();
    c.reset();  // inside exec(), which must touch nothing of the connection after this
  });
  ASSERT_TRUE(seen.has_value()) << "refused before exec() returned";
  EXPECT_EQ(*seen, make_error_code(errc::not_connected).message());
  EXPECT_EQ(c, nullptr);
  r->poll();
  expect_the_shard_works(*r, server);
}

TEST(Teardown, DestroyedInsideADisconnectedListener) {
  test::redis_server server;
  auto r = make_reactor();
  std::unique_ptr<connection> c = connected(*r, server);
  const std::uint64_t id = c->id();
  bool lost = false;
  event::listener<event::disconnected> on_lost(r->events(), [&](const event::disconnected& e) {
    if (e.connection_id != id) return;
    lost = true;
    c.reset();  // from the middle of the connection's failure handling
  });
  std::optional<result<std::optional<std::string>>> pending;
  c->exec(cmd::get{"k"}, [&](result<std::optional<std::string>> v) { pending = std::move(v); });
  r->run_until([&] { return pending.has_value(); });
  server.command({"CLIENT", "KILL", "TYPE", "normal"});
  r->run_until([&] { return lost; });
  EXPECT_EQ(r->events().stats().reconnect_scheduled, 0u) << "a dead connection does not come back";
  for (int i = 0; i < 3; ++i)
    r->poll();
  expect_the_shard_works(*r, server);
}

TEST(Teardown, DestroyedWhenItsDeadlineFires) {
  test::redis_server server;
  auto r = make_reactor();
  std::unique_ptr<connection> c = connected(*r, server);
  std::vector<std::string> seen;
  c->exec(cmd::raw<resp::reply>{"DEBUG", "SLEEP", "0.2"},
          [&](result<resp::reply> v) { seen.push_back(v ? "slept" : v.error().message()); },
          {.timeout = 20ms});
  c->exec(cmd::get{"k"},
          [&](result<std::optional<std::string>> v) {
            seen.push_back(v ? "reply" : v.error().message());
            c.reset();  // inside the timer that expires it
          },
          {.timeout = 20ms});
  r->run_until([&] { return seen.size() == 2; });
  const std::string timeout = make_error_code(errc::timeout).message();
  EXPECT_EQ(seen, (std::vector<std::string>{timeout, timeout}));
  r->run_until([&] { return server.command({"PING"}) == "+PONG\r\n"; });
  expect_the_shard_works(*r, server);
}

TEST(Teardown, ClosedInsideItsOwnCompletionThenConnectedAgain) {
  test::redis_server server;
  auto r = make_reactor();
  std::unique_ptr<connection> c = connected(*r, server);
  std::vector<std::string> seen;
  c->exec(cmd::get{"k"}, [&](result<std::optional<std::string>> v) {
    seen.push_back(v ? "reply" : v.error().message());
    c->close();
  });
  c->exec(cmd::get{"k"}, [&](result<std::optional<std::string>> v) {
    seen.push_back(v ? "reply" : v.error().message());
  });
  r->run_until([&] { return seen.size() == 2; });
  EXPECT_EQ(seen, (std::vector<std::string>{"reply", closed()}));
  EXPECT_EQ(c->state(), connection_state::closed);
  std::optional<result<void>> again;
  c->connect([&](const result<void>& o) { again = o; });
  r->run_until([&] { return again.has_value(); });
  EXPECT_TRUE(again->has_value());
}

TEST(Teardown, OneConnectionDestroysAnotherFromItsCompletion) {
  test::redis_server server;
  auto r = make_reactor();
  std::unique_ptr<connection> a = connected(*r, server);
  std::unique_ptr<connection> b = connected(*r, server);
  std::vector<std::string> b_seen;
  // B's commands are in flight, their replies maybe already in the same batch of completions.
  for (int i = 0; i < 50; ++i)
    b->exec(cmd::incr{"b"},
            [&](result<std::int64_t> v) { b_seen.push_back(v ? "reply" : v.error().message()); });
  bool done = false;
  a->exec(cmd::incr{"a"}, [&](result<std::int64_t>) {
    b.reset();
    done = true;
  });
  r->run_until([&] { return done; });
  ASSERT_EQ(b_seen.size(), 50u) << "every command of B completed exactly once";
  for (const std::string& s : b_seen)
    EXPECT_TRUE(s == "reply" || s == closed()) << s;
  for (int i = 0; i < 3; ++i)
    r->poll();
  expect_the_shard_works(*r, server);
}

task<> destroy_after_reply(std::unique_ptr<client>& c, std::optional<std::string>& got) {
  auto v = co_await c->get("k");
  got = v ? "reply" : v.error().message();
  c.reset();  // resumed from the client's own completion
}

TEST(Teardown, ACoroutineDestroysItsClientWhenResumed) {
  test::redis_server server;
  auto r = make_reactor();
  auto c = std::make_unique<client>(*r, config_for(server));
  std::optional<result<void>> up;
  c->connection().connect([&](const result<void>& o) { up = o; });
  r->run_until([&] { return up.has_value(); });
  std::optional<std::string> got;
  spawn(destroy_after_reply(c, got));
  r->run_until([&] { return got.has_value(); });
  EXPECT_EQ(*got, "reply");
  EXPECT_EQ(c, nullptr);
  r->poll();
  expect_the_shard_works(*r, server);
}

}  // namespace
}  // namespace uredis

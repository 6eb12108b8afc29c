// when_all: several awaitables awaited at once. Tasks driven by hand (a manual queue), and
// commands against a real redis-server: their results, their order on the wire, an error that
// stays in its own slot, exceptions, and no allocation once warm.

#include "uredis/client/when_all.hpp"

#include <gtest/gtest.h>

#include <coroutine>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/redis_server.hpp"
#include "../support/run_coroutine.hpp"
#include "allocation_counter.hpp"
#include "uredis/client/client.hpp"
#include "uredis/client/task.hpp"

namespace uredis {
namespace {

using test::config_for;
using test::make_reactor;

// Suspends once on `q`, records that it started and finished, returns `v`.
task<int> value_after_yield(manual_queue& q, std::vector<std::string>& log, int v) {
  log.push_back("start " + std::to_string(v));
  co_await q.yield();
  log.push_back("end " + std::to_string(v));
  co_return v;
}

task<> nothing_after_yield(manual_queue& q) {
  co_await q.yield();
}

TEST(WhenAll, StartsEveryOneInOrderAndResumesOnceAllHaveFinished) {
  manual_queue q;
  std::vector<std::string> log;
  auto body = [&]() -> task<std::tuple<int, std::monostate, int>> {
    auto all = co_await when_all(value_after_yield(q, log, 1), nothing_after_yield(q),
                                 value_after_yield(q, log, 2));
    log.push_back("resumed");
    co_return all;
  };
  const auto [a, none, b] = sync_run(body(), q);
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 2);
  (void)none;
  const std::vector<std::string> expected{"start 1", "start 2", "end 1", "end 2", "resumed"};
  EXPECT_EQ(log, expected);
}

TEST(WhenAll, AwaitablesThatFinishAtOnceDoNotSuspendTheCaller) {
  auto ready = []() -> task<int> { co_return 7; };
  auto body = [&]() -> task<int> {
    auto [x, y] = co_await when_all(ready(), ready());
    co_return x + y;
  };
  manual_queue empty;
  EXPECT_EQ(sync_run(body(), empty), 14) << "nothing is queued: it must not have suspended";
}

TEST(WhenAll, AnExceptionIsRethrownOnceEveryOneHasFinished) {
  manual_queue q;
  std::vector<std::string> log;
  auto thrower = [&]() -> task<int> {
    co_await q.yield();
    throw std::runtime_error("boom");
  };
  auto body = [&]() -> task<> {
    EXPECT_THROW((void)co_await when_all(thrower(), value_after_yield(q, log, 3)),
                 std::runtime_error);
    EXPECT_EQ(log.back(), "end 3") << "the others ran to their end first";
  };
  sync_run(body(), q);
}

// An awaitable used once offers operator co_await only on an rvalue (uredis::invoke_on does).
struct once_only {
  manual_queue* q;
  auto operator co_await() && noexcept {
    struct awaiter {
      manual_queue* q;
      bool await_ready() const noexcept { return false; }
      void await_suspend(std::coroutine_handle<> h) { q->post(h); }
      int await_resume() const noexcept { return 11; }
    };
    return awaiter{q};
  }
};

TEST(WhenAll, TakesAnAwaitableThatCanOnlyBeAwaitedOnce) {
  manual_queue q;
  auto body = [&]() -> task<int> {
    auto [a, b] = co_await when_all(once_only{&q}, once_only{&q});
    co_return a + b;
  };
  EXPECT_EQ(sync_run(body(), q), 22);
}

TEST(WhenAll, AVectorOfTasks) {
  manual_queue q;
  std::vector<std::string> log;
  auto body = [&]() -> task<std::vector<int>> {
    std::vector<task<int>> jobs;
    for (int i = 0; i < 5; ++i)
      jobs.push_back(value_after_yield(q, log, i));
    co_return co_await when_all(jobs);
  };
  EXPECT_EQ(sync_run(body(), q), (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(log.size(), 10u);
  EXPECT_EQ(log[4], "start 4") << "all started before any finished";

  auto none = [&]() -> task<std::size_t> {
    std::vector<task<int>> jobs;
    co_return (co_await when_all(jobs)).size();
  };
  manual_queue empty;
  EXPECT_EQ(sync_run(none(), empty), 0u);
}

TEST(WhenAll, CommandsRunInArgumentOrderAndAnErrorStaysInItsSlot) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    EXPECT_TRUE(*co_await c.set("s", "text"));
    auto [set, bad, got, n] =
        co_await when_all(c.set("a", "1"), c.incr("s"), c.get("a"), c.incr("n"));
    EXPECT_TRUE(set.has_value());
    EXPECT_TRUE(bad.has_server_error());
    EXPECT_TRUE(bad.has_server_error() && bad.server_error().kind == server_error_kind::err);
    EXPECT_TRUE(got.has_value() && *got == "1") << "the GET sent after the SET sees its value";
    EXPECT_TRUE(n.has_value() && *n == 1);
  });
  EXPECT_EQ(server.command({"GET", "a"}), "$1\r\n1\r\n");
}

TEST(WhenAll, AllocatesNothingOnceWarm) {
  test::redis_server server;
  auto r = make_reactor();
  client c{*r, config_for(server)};
  std::uint64_t allocations = ~0ull;
  test::run_coroutine(*r, [&]() -> task<> {
    co_await test::connect_or_fail(c);
    for (int round = 0; round < 3; ++round) {
      const dev::allocation_scope scope;
      auto [a, b] = co_await when_all(c.incr("x"), c.incr("y"));
      EXPECT_TRUE(a && b);
      allocations = scope.allocations();
    }
  });
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace uredis

// invoke_on and shard-local objects: real shard threads with real reactors, and a real
// redis-server for the clients a shard keeps. A result back from another shard (a value, a
// result, a coroutine's), on the caller's own shard; the blocking get() from the owner thread;
// exceptions; back-pressure when a mailbox queue is full; the runtime stopping; no allocation
// once warm; make_local() objects destroyed at shutdown; and the abort that names the fix when
// a connection outlives its reactor.

#include "uredis/client/invoke_on.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "../support/client_setup.hpp"
#include "../support/redis_server.hpp"
#include "allocation_counter.hpp"
#include "uredis/client/client.hpp"
#include "uredis/client/task.hpp"
#include "uredis/client/when_all.hpp"
#include "uredis/reactor/runtime.hpp"

namespace uredis {
namespace {

using test::config_for;
using namespace std::chrono_literals;

std::unique_ptr<runtime> two_shards() {
  runtime_options o;
  o.shards = 2;
  auto rt = runtime::create(o);
  EXPECT_TRUE(rt.has_value()) << (rt ? "" : rt.error().message());
  return rt ? std::move(*rt) : nullptr;
}

// Runs the coroutine `body()` makes on shard `shard` and blocks until it has finished.
template <class Body>
void run_on(runtime& rt, unsigned shard, Body body) {
  std::atomic<bool> done{false};
  auto wrapper = [&]() -> task<> {
    co_await body();
    done.store(true);
  };
  // The wrapper's frame keeps `body` alive: it lives in this function's frame, which waits.
  ASSERT_TRUE(rt.submit_to(shard, runtime::task_fn([&] { spawn(wrapper()); })));
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!done.load()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the coroutine did not finish";
    std::this_thread::sleep_for(1ms);
  }
}

TEST(InvokeOn, GetRunsTheFunctionOnTheShardAndReturnsItsValue) {
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  for (unsigned s = 0; s < 2; ++s) {
    const result<unsigned> where = invoke_on(*rt, s, [] { return runtime::current_shard(); }).get();
    ASSERT_TRUE(where.has_value());
    EXPECT_EQ(*where, s);
  }
  bool ran = false;
  const result<void> nothing = invoke_on(*rt, 1, [&] { ran = true; }).get();
  EXPECT_TRUE(nothing.has_value());
  EXPECT_TRUE(ran);
}

TEST(InvokeOn, AwaitedOnAShardItResumesOnThatShardWithTheOtherOnesResult) {
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  run_on(*rt, 0, [&]() -> task<> {
    const result<unsigned> there =
        co_await invoke_on(*rt, 1, [] { return runtime::current_shard(); });
    EXPECT_TRUE(there.has_value() && *there == 1u);
    EXPECT_EQ(runtime::current_shard(), 0u) << "resumed on the caller's own shard";
    // Its own shard: runs inline.
    const result<unsigned> here =
        co_await invoke_on(*rt, 0, [] { return runtime::current_shard(); });
    EXPECT_TRUE(here.has_value() && *here == 0u);
  });
}

TEST(InvokeOn, SeveralAtOnceThroughWhenAll) {
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  run_on(*rt, 0, [&]() -> task<> {
    auto [a, b] = co_await when_all(invoke_on(*rt, 1, [] { return 1; }),
                                    invoke_on(*rt, 1, [] { return runtime::current_shard(); }));
    EXPECT_TRUE(a.has_value() && *a == 1);
    EXPECT_TRUE(b.has_value() && *b == 1u);
  });
}

TEST(InvokeOn, AResultIsNotWrappedTwiceAndItsErrorComesBack) {
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  const result<int> failed =
      invoke_on(*rt, 1, [] { return result<int>(make_error_code(errc::timeout)); }).get();
  ASSERT_TRUE(failed.has_error());
  EXPECT_EQ(failed.error(), make_error_code(errc::timeout));
  const result<int> fine = invoke_on(*rt, 1, [] { return result<int>(5); }).get();
  EXPECT_TRUE(fine.has_value() && *fine == 5);
}

TEST(InvokeOn, AnExceptionIsRethrownToTheCaller) {
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  auto throws = []() -> int { throw std::runtime_error("on shard 1"); };
  EXPECT_THROW((void)invoke_on(*rt, 1, throws).get(), std::runtime_error);
  run_on(*rt, 0, [&]() -> task<> {
    bool caught = false;
    try {
      (void)co_await invoke_on(*rt, 1, throws);
    } catch (const std::runtime_error&) {
      caught = true;
    }
    EXPECT_TRUE(caught);
  });
}

// A client kept by shard 1 for its whole life (make_local), used from shard 0 and from main:
// a coroutine runs on shard 1 and its command's result comes back.
TEST(InvokeOn, ACoroutineRunsThereToItsEndWithAShardLocalClient) {
  test::redis_server server;
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  client* shard1 = nullptr;
  const result<void> connected =
      invoke_on(*rt, 1, [&]() -> task<result<void>> {
        shard1 = &rt->make_local<client>(*reactor::reactor::current(), config_for(server));
        co_return co_await shard1->connect();
      }).get();
  ASSERT_TRUE(connected.has_value());
  run_on(*rt, 0, [&]() -> task<> {
    const result<std::int64_t> n = co_await invoke_on(*rt, 1, [&]() -> task<result<std::int64_t>> {
      co_return co_await shard1->incrby("n", 41);
    });
    EXPECT_TRUE(n.has_value() && *n == 41);
    EXPECT_EQ(runtime::current_shard(), 0u);
  });
  const result<std::optional<std::string>> v =
      invoke_on(*rt, 1, [&]() -> task<result<std::optional<std::string>>> {
        co_return co_await shard1->get("n");
      }).get();
  EXPECT_TRUE(v.has_value() && *v == "41");
  rt->stop();  // shard 1 destroys its client (make_local): no abort, nothing leaked (ASan)
}

// 1,000 callers at once on shard 0, while shard 1 is busy: the queue from 0 to 1 holds 256, so
// most posts are refused at first and retried on a timer. Every caller gets its answer.
TEST(InvokeOn, AFullMailboxHoldsTheCallersBackUntilThereIsRoom) {
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  constexpr int callers = 1000;
  std::atomic<bool> release{false};
  // Shard 1 is held in a task until every caller has tried to post.
  ASSERT_TRUE(rt->submit_to(1, runtime::task_fn([&] {
                              while (!release.load())
                                std::this_thread::sleep_for(1ms);
                            })));
  int answered = 0;
  std::int64_t sum = 0;
  std::atomic<bool> all_started{false};
  auto one = [&](int i) -> task<> {
    const result<int> r = co_await invoke_on(*rt, 1, [i] { return i; });
    ++answered;  // on shard 0 only: no race
    if (r) sum += *r;
  };
  ASSERT_TRUE(rt->submit_to(0, runtime::task_fn([&] {
                              for (int i = 0; i < callers; ++i)
                                spawn(one(i));
                              all_started.store(true);
                            })));
  while (!all_started.load())
    std::this_thread::sleep_for(1ms);
  release.store(true);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  int now = 0;
  while ((now = *invoke_on(*rt, 0, [&] { return answered; }).get()) < callers) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << now << " of " << callers;
    std::this_thread::sleep_for(1ms);
  }
  EXPECT_EQ(*invoke_on(*rt, 0, [&] { return sum; }).get(),
            std::int64_t{callers} * (callers - 1) / 2);
}

TEST(InvokeOn, AShardThatDoesNotExistIsAnError) {
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  bool ran = false;
  const result<void> r = invoke_on(*rt, 2, [&] { ran = true; }).get();
  EXPECT_EQ(r.error(), std::make_error_code(std::errc::invalid_argument));
  run_on(*rt, 0, [&]() -> task<> {
    const result<void> awaited = co_await invoke_on(*rt, 7, [&] { ran = true; });
    EXPECT_EQ(awaited.error(), std::make_error_code(std::errc::invalid_argument));
  });
  EXPECT_FALSE(ran);
}

TEST(InvokeOn, ARuntimeThatNoLongerTakesWorkAnswersRuntimeStopped) {
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  rt->stop();
  bool ran = false;
  const result<void> r = invoke_on(*rt, 0, [&] { ran = true; }).get();
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error(), make_error_code(errc::runtime_stopped));
  EXPECT_FALSE(ran);
}

TEST(InvokeOn, AHopAllocatesNothingOnceWarm) {
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  std::uint64_t allocations = ~0ull;
  run_on(*rt, 0, [&]() -> task<> {
    for (int round = 0; round < 3; ++round) {
      const std::uint64_t before = dev::process_allocations();
      for (int i = 0; i < 100; ++i) {
        const result<int> r = co_await invoke_on(*rt, 1, [i]() -> task<int> { co_return i; });
        EXPECT_TRUE(r.has_value() && *r == i);
      }
      allocations = dev::process_allocations() - before;
    }
  });
  EXPECT_EQ(allocations, 0u) << "both shards, the coroutine run on shard 1 included";
}

// make_local objects go in shutdown step 1, newest first, on their own shard.
TEST(InvokeOnShardLocal, TheRuntimeDestroysThemOnTheirShardNewestFirst) {
  struct recorder {
    recorder(std::string n, std::string* l) : name(std::move(n)), log(l) {}
    std::string name;
    std::string* log;
    ~recorder() { *log += name + "@" + std::to_string(runtime::current_shard()) + " "; }
  };
  std::string log;
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  ASSERT_TRUE(invoke_on(*rt, 1, [&] {
                rt->make_local<recorder>("a", &log);
                rt->make_local<recorder>("b", &log);
              }).get());
  EXPECT_EQ(log, "");
  rt->stop();
  EXPECT_EQ(log, "b@1 a@1 ");
}

using InvokeOnShardLocalDeathTest = ::testing::Test;

TEST_F(InvokeOnShardLocalDeathTest, AConnectionThatOutlivesItsReactorAbortsWithTheFix) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto r = test::make_reactor();
        auto forgotten = std::make_unique<connection>(*r, connection_config{});
        r.reset();  // the connection is still alive
      },
      "connection\\(s\\) built on it are still alive.*make_local");
}

TEST_F(InvokeOnShardLocalDeathTest, AClientForgottenOnAShardAbortsWhenTheRuntimeStops) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        auto rt = two_shards();
        (void)invoke_on(*rt, 1, [] {
          // Built on the shard and never destroyed: what forgetting at_stop does.
          new client(*reactor::reactor::current(), connection_config{});
        }).get();
        rt->stop();
      },
      "still alive");
}

}  // namespace
}  // namespace uredis

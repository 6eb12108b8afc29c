// distributed_lock against a real redis-server: the key redis-py would write, fencing tokens
// that grow, waiting woken by a release, the watchdog, a lost lock, and background release.

#include "uredis/lock/distributed_lock.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/fault_proxy.hpp"
#include "../support/redis_server.hpp"
#include "../support/run_coroutine.hpp"
#include "allocation_counter.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/exceptions.hpp"
#include "uredis/lock/blocking_lock.hpp"
#include "uredis/lock/scripts.hpp"
#include "uredis/lock/wakeups.hpp"

namespace uredis::lock {
namespace {

using namespace std::chrono_literals;
using test::config_for;
using test::make_reactor;

std::string what(const result<void>& r) {
  if (r) return "ok";
  return r.has_server_error() ? r.server_error().message : r.error().message();
}

class DistributedLock : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new test::redis_server(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    server_->command({"FLUSHALL"});
    connect(conn);
  }

  void connect(connection& c) {
    std::optional<result<void>> done;
    c.connect([&](const result<void>& o) { done = o; });
    loop->run_until([&] { return done.has_value(); });
    ASSERT_TRUE(*done) << what(*done);
  }

  result<bool> acquire(distributed_lock& l, std::chrono::milliseconds wait) {
    std::optional<result<bool>> got;
    l.acquire(wait, [&](result<bool> r) { got.emplace(std::move(r)); });
    loop->run_until([&] { return got.has_value(); });
    return std::move(*got);
  }

  result<void> release(distributed_lock& l) {
    std::optional<result<void>> done;
    l.release([&](result<void> r) { done.emplace(std::move(r)); });
    loop->run_until([&] { return done.has_value(); });
    return std::move(*done);
  }

  static test::redis_server* server_;
  std::unique_ptr<reactor::reactor> loop = make_reactor();
  connection conn{*loop, config_for(*server_)};
};

test::redis_server* DistributedLock::server_ = nullptr;

TEST_F(DistributedLock, holds_the_key_redis_py_writes_and_releases_it) {
  distributed_lock l{conn, "orders", {.ttl = 5000ms}};
  const result<bool> got = acquire(l, no_wait);
  ASSERT_TRUE(got && *got);
  EXPECT_EQ(l.state(), lock_state::held);
  EXPECT_EQ(l.token().size(), 32u);
  EXPECT_EQ(server_->command({"GET", "orders"}), "$32\r\n" + std::string(l.token()) + "\r\n");
  const std::string pttl = server_->command({"PTTL", "orders"});
  EXPECT_GT(std::stol(pttl.substr(1)), 4000);
  EXPECT_EQ(l.fencing_token(), 1u);
  const result<void> r = release(l);
  EXPECT_TRUE(r) << what(r);
  EXPECT_EQ(server_->command({"EXISTS", "orders"}), ":0\r\n");
  EXPECT_EQ(l.state(), lock_state::released);
}

TEST_F(DistributedLock, a_second_owner_waits_and_is_woken_by_the_release) {
  wakeups wake{conn};
  distributed_lock first{conn, "w", {.ttl = 5000ms}};
  distributed_lock second{
      conn, "w", {.ttl = 5000ms, .retry_min = 2000ms, .retry_max = 3000ms}, &wake};
  ASSERT_TRUE(*acquire(first, no_wait));
  std::optional<result<bool>> got;
  second.acquire(wait_forever, [&](result<bool> r) { got.emplace(std::move(r)); });
  test::run_for(*loop, 50ms);
  EXPECT_FALSE(got.has_value());
  const auto start = std::chrono::steady_clock::now();
  first.release([](result<void>) {});
  loop->run_until([&] { return got.has_value(); });
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(*got && **got);
  EXPECT_LT(waited, 1000ms) << "woken by the retry timer, not the release";
  EXPECT_EQ(second.fencing_token(), first.fencing_token() + 1);
}

TEST_F(DistributedLock, a_refused_wakeup_subscription_is_asked_for_again_by_the_next_waiter) {
  // A user that may not subscribe yet: the first waiter's SUBSCRIBE is refused (NOPERM).
  ASSERT_EQ(
      server_->command({"ACL", "SETUSER", "waiter", "on", ">pw", "~*", "+@all", "resetchannels"}),
      "+OK\r\n");
  ASSERT_EQ(server_->command({"CONFIG", "RESETSTAT"}), "+OK\r\n");
  connection_config c = config_for(*server_);
  c.username = "waiter";
  c.password = "pw";
  {
    connection waiting{*loop, c};
    connect(waiting);
    wakeups wake{waiting};
    const lock_options slow_retry{.ttl = 5000ms, .retry_min = 2000ms, .retry_max = 3000ms};
    distributed_lock holder{conn, "w", {.ttl = 5000ms}};
    distributed_lock refused{waiting, "w", slow_retry, &wake};
    distributed_lock later{waiting, "w", slow_retry, &wake};
    ASSERT_TRUE(*acquire(holder, no_wait));
    std::optional<result<bool>> first;
    refused.acquire(wait_forever, [&](result<bool> r) { first.emplace(std::move(r)); });
    ASSERT_TRUE(test::run_until(
        *loop,
        [&] {
          return server_->command({"INFO", "errorstats"}).find("errorstat_NOPERM") !=
                 std::string::npos;
        },
        5s));
    // Allowed now: the next waiter subscribes, and the release wakes both.
    ASSERT_EQ(server_->command({"ACL", "SETUSER", "waiter", "allchannels"}), "+OK\r\n");
    std::optional<result<bool>> second;
    later.acquire(wait_forever, [&](result<bool> r) { second.emplace(std::move(r)); });
    test::run_for(*loop, 200ms);  // the subscription is confirmed
    const auto start = std::chrono::steady_clock::now();
    holder.release([](result<void>) {});
    loop->run_until([&] { return first.has_value() || second.has_value(); });
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms)
        << "woken by the retry timer, not the release";
  }
  server_->command({"ACL", "DELUSER", "waiter"});
}

std::int64_t pttl_of(const test::redis_server& server, std::string_view key) {
  return std::stoll(server.command({"PTTL", key}).substr(1));
}

TEST_F(DistributedLock, the_fence_counter_shares_the_lock_key_slot) {
  EXPECT_EQ(fence_key("orders"), "{orders}:fence");
  EXPECT_EQ(fence_key("{user:1}.lock"), "{user:1}.lock:fence");
  EXPECT_EQ(fence_key(""), "");
  for (std::string_view name : {"a", "orders", "{t}x", "x{}y", "a{b", "}{"}) {
    const std::string fence = fence_key(name);
    if (!fence.empty()) {
      EXPECT_EQ(util::key_slot(fence), util::key_slot(name)) << name;
    }
  }
  distributed_lock nameless{conn, ""};
  const result<bool> got = acquire(nameless, no_wait);
  ASSERT_TRUE(got.has_error());
  EXPECT_EQ(got.error(), std::make_error_code(std::errc::invalid_argument));
}

TEST_F(DistributedLock, fencing_tokens_strictly_increase_across_owners) {
  distributed_lock a{conn, "f"};
  distributed_lock b{conn, "f"};
  std::uint64_t last = 0;
  for (int i = 0; i < 5; ++i) {
    distributed_lock& l = i % 2 == 0 ? a : b;
    ASSERT_TRUE(*acquire(l, no_wait));
    EXPECT_GT(l.fencing_token(), last);
    last = l.fencing_token();
    ASSERT_TRUE(release(l));
  }
  EXPECT_EQ(server_->command({"GET", "{f}:fence"}), "$1\r\n5\r\n");
}

TEST_F(DistributedLock, another_owner_can_neither_take_release_nor_extend_it) {
  distributed_lock mine{conn, "o"};
  distributed_lock theirs{conn, "o"};
  ASSERT_TRUE(*acquire(mine, no_wait));
  EXPECT_FALSE(*acquire(theirs, no_wait));
  const result<void> r = release(theirs);
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error(), make_error_code(errc::lock_not_owned));
  std::optional<result<void>> extended;
  theirs.extend(1000ms, true, [&](result<void> e) { extended.emplace(std::move(e)); });
  ASSERT_TRUE(extended.has_value()) << "refused at once: it holds nothing";
  EXPECT_EQ(extended->error(), make_error_code(errc::lock_not_owned));
  EXPECT_EQ(server_->command({"GET", "o"}), "$32\r\n" + std::string(mine.token()) + "\r\n");
  EXPECT_TRUE(release(mine));
  const result<void> again = release(mine);
  EXPECT_EQ(again.error(), make_error_code(errc::lock_not_owned)) << "released twice";
}

TEST_F(DistributedLock, a_key_written_by_redis_py_keeps_it_out_and_the_reverse) {
  // redis-py's Lock, on the same name: it and uredis must exclude each other.
  const std::string py =
      "import redis, sys\n"
      "r = redis.Redis(port=int(sys.argv[1]))\n"
      "l = r.lock(sys.argv[2], timeout=5)\n"
      "print(l.acquire(blocking=False))\n";
  const auto run_py = [&](const std::string& name) {
    const std::string cmd = "/usr/bin/python3 -c '" + py + "' " + std::to_string(server_->port()) +
                            " " + name + " 2>&1";
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    char buf[256];
    while (p != nullptr && std::fgets(buf, sizeof buf, p) != nullptr)
      out += buf;
    if (p != nullptr) ::pclose(p);
    return out;
  };
  distributed_lock l{conn, "shared"};
  ASSERT_TRUE(*acquire(l, no_wait));
  EXPECT_EQ(run_py("shared"), "False\n") << "redis-py took a lock uredis holds";
  ASSERT_TRUE(release(l));
  ASSERT_EQ(run_py("shared"), "True\n") << "redis-py (python3-redis) must be installed";
  EXPECT_FALSE(*acquire(l, no_wait)) << "uredis took a lock redis-py holds";
  EXPECT_GT(pttl_of(*server_, "shared"), 3000);
}

TEST_F(DistributedLock, the_watchdog_keeps_it_past_its_ttl) {
  // Held for 2.5 ttls: only renewals keep it (a stall of over 600 ms would lose it).
  distributed_lock l{conn, "dog", {.ttl = 1000ms}};
  ASSERT_TRUE(*acquire(l, no_wait));
  const std::string token(l.token());
  test::run_for(*loop, 2500ms);
  EXPECT_EQ(l.state(), lock_state::held);
  EXPECT_EQ(server_->command({"GET", "dog"}), "$32\r\n" + token + "\r\n");
  EXPECT_GT(pttl_of(*server_, "dog"), 100);
  EXPECT_GT(l.valid_until(), std::chrono::steady_clock::now());
  EXPECT_TRUE(release(l));
}

TEST_F(DistributedLock, a_key_overwritten_on_the_server_is_reported_lost) {
  distributed_lock l{conn, "stolen", {.ttl = 300ms}};
  std::vector<event::lock_lost> events;
  event::listener<event::lock_lost> on_event{
      loop->events(), [&](const event::lock_lost& e) { events.push_back(e); }};
  std::optional<std::error_code> lost;
  l.on_lost([&](std::error_code why) { lost = why; });
  ASSERT_TRUE(*acquire(l, no_wait));
  server_->command({"SET", "stolen", "someone-else", "PX", "5000"});
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return lost.has_value(); }, 1000ms));
  EXPECT_EQ(*lost, make_error_code(errc::lock_not_owned));
  EXPECT_EQ(l.state(), lock_state::lost);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].fencing_token, l.fencing_token());
  EXPECT_EQ(events[0].connection_id, conn.id());
  EXPECT_EQ(server_->command({"GET", "stolen"}), "$12\r\nsomeone-else\r\n") << "not deleted";
}

TEST_F(DistributedLock, a_server_restarted_without_its_data_loses_the_lock) {
  distributed_lock l{conn, "restart", {.ttl = 600ms}};
  std::optional<std::error_code> lost;
  l.on_lost([&](std::error_code why) { lost = why; });
  ASSERT_TRUE(*acquire(l, no_wait));
  server_->kill();
  server_->start();
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return lost.has_value(); }, 2000ms));
  EXPECT_EQ(l.state(), lock_state::lost);
  // The reconnected extend found no key (or none reached the server before valid_until).
  EXPECT_TRUE(*lost == make_error_code(errc::lock_not_owned) || *lost == errc::timeout ||
              *lost == errc::outcome_unknown)
      << lost->message();
}

TEST_F(DistributedLock, a_holder_cut_off_knows_it_lost_before_anyone_else_gets_in) {
  // A ttl of 3 s leaves valid_until 32 ms before the server's expiry: the margin a loaded
  // machine gets for running the holder's timer.
  test::fault_proxy proxy{"127.0.0.1", server_->port()};
  connection cut{*loop, test::config_through(proxy)};
  connect(cut);
  distributed_lock holder{cut, "cut", {.ttl = 3000ms}};
  distributed_lock next{conn, "cut", {.retry_min = 2ms, .retry_max = 4ms}};
  std::optional<std::string> key_when_lost;  // what the server held as the holder learned it
  holder.on_lost([&](std::error_code) { key_when_lost = server_->command({"GET", "cut"}); });
  ASSERT_TRUE(*acquire(holder, no_wait));
  const std::string held = "$32\r\n" + std::string(holder.token()) + "\r\n";
  proxy.set_black_hole(true);  // the holder's extends never arrive
  bool next_got = false;
  next.acquire(6000ms, [&](result<bool> got) { next_got = got && *got; });
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return next_got; }, 8000ms));
  ASSERT_TRUE(key_when_lost.has_value()) << "the holder never learned it lost the lock";
  EXPECT_EQ(*key_when_lost, held) << "learned only after the key had expired on the server";
  EXPECT_GT(next.fencing_token(), holder.fencing_token());
  proxy.clear();
}

TEST_F(DistributedLock, acquired_again_after_a_late_extend_it_takes_its_own_key_back_at_once) {
  // The watchdog's extend (sent at ttl/3) reaches the server, which refreshes the key, but its
  // answer is held past valid_until: the lock is lost with its key still on the server.
  test::fault_proxy proxy{"127.0.0.1", server_->port()};
  connection slow{*loop, test::config_through(proxy)};
  connect(slow);
  distributed_lock l{slow, "late", {.ttl = 2000ms}};
  bool lost = false;
  l.on_lost([&](std::error_code) { lost = true; });
  ASSERT_TRUE(*acquire(l, no_wait));
  std::optional<result<void>> warm;  // the extend script is cached: no NOSCRIPT round trip later
  l.reacquire([&](result<void> r) { warm = std::move(r); });
  loop->run_until([&] { return warm.has_value(); });
  ASSERT_TRUE(*warm) << what(*warm);
  proxy.set_delay(1600ms, test::direction::server_to_client);
  ASSERT_TRUE(test::run_until(
      *loop, [&] { return lost; }, 5000ms));
  ASSERT_EQ(server_->command({"GET", "late"}), "$32\r\n" + std::string(l.token()) + "\r\n");
  const std::uint64_t lost_fence = l.fencing_token();
  // Its next acquire goes out behind that extend, while the key is still there: it must not
  // find itself in its own way until the refreshed ttl runs out.
  const result<bool> again = acquire(l, no_wait);
  ASSERT_TRUE(again.has_value()) << again.error().message();
  EXPECT_TRUE(*again) << "busy: the key the old extend refreshed keeps the lock out";
  EXPECT_GT(l.fencing_token(), lost_fence);
  EXPECT_GT(pttl_of(*server_, "late"), 0) << "taken back without its ttl set again";
  proxy.clear();
  EXPECT_TRUE(release(l));
}

TEST_F(DistributedLock, a_holder_killed_frees_the_lock_after_its_ttl) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {  // the holder: takes the lock, says so, and waits to be killed
    try {
      blocking_client c{server_->url()};
      blocking_lock l{c, "killed", {.ttl = 500ms}};
      if (l.acquire(no_wait)) {
        const std::string fence = std::to_string(l.fencing_token());
        if (::write(ready[1], fence.data(), fence.size()) < 0) ::_exit(2);
      }
      ::pause();
    } catch (...) {
    }
    ::_exit(1);
  }
  ::close(ready[1]);
  char buf[32] = {};
  ASSERT_GT(::read(ready[0], buf, sizeof buf - 1), 0) << "the child did not take the lock";
  ::close(ready[0]);
  const std::uint64_t child_fence = std::stoull(buf);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  distributed_lock l{conn, "killed", {.retry_min = 5ms, .retry_max = 10ms}};
  EXPECT_FALSE(*acquire(l, no_wait)) << "free before its ttl";
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(*acquire(l, 3000ms));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2000ms) << "not freed by its ttl";
  EXPECT_GT(l.fencing_token(), child_fence);
}

TEST_F(DistributedLock, destroying_a_held_lock_releases_it_in_the_background) {
  {
    distributed_lock l{conn, "dropped"};
    ASSERT_TRUE(*acquire(l, no_wait));
  }
  EXPECT_TRUE(test::run_until(
      *loop,
      [&] {
        return server_->command({"EXISTS", "dropped"}) == ":0\r\n";
      },
      1000ms));
}

TEST_F(DistributedLock, destroying_it_mid_acquire_leaves_nothing_held) {
  distributed_lock holder{conn, "mid"};
  ASSERT_TRUE(*acquire(holder, no_wait));
  {
    distributed_lock waiter{conn, "mid", {.retry_min = 1ms, .retry_max = 2ms}};
    waiter.acquire(wait_forever, [](result<bool>) { ADD_FAILURE() << "called after its end"; });
    test::run_for(*loop, 20ms);
    ASSERT_TRUE(release(holder));
    // The waiter's next try is in flight or due: destroy it now.
  }
  test::run_for(*loop, 100ms);
  EXPECT_EQ(server_->command({"EXISTS", "mid"}), ":0\r\n") << "a try won and was not given back";
}

TEST_F(DistributedLock, the_coroutine_api_acquires_and_releases) {
  distributed_lock l{conn, "co"};
  const auto body = [&]() -> task<> {
    const result<bool> got = co_await l.acquire(100ms);
    EXPECT_TRUE(got && *got);
    const result<void> extended = co_await l.extend(20'000ms, true);
    EXPECT_TRUE(extended);
    const result<void> released = co_await l.release();
    EXPECT_TRUE(released);
    const result<void> again = co_await l.release();
    EXPECT_EQ(again.error(), make_error_code(errc::lock_not_owned));
  };
  test::run_coroutine(*loop, body);
  EXPECT_EQ(server_->command({"EXISTS", "co"}), ":0\r\n");
}

TEST_F(DistributedLock, a_cycle_allocates_nothing_once_warm) {
  distributed_lock l{conn, "alloc"};
  int cycles = 0;
  bool ok = true;
  struct driver {
    distributed_lock* l;
    int* cycles;
    bool* ok;
    void start() {
      l->acquire(no_wait, [this](result<bool> got) {
        if (!got || !*got) *ok = false;
        l->release([this](result<void> r) {
          if (!r) *ok = false;
          ++*cycles;
        });
      });
    }
  } d{&l, &cycles, &ok};
  const auto run = [&](int n) {
    const int goal = cycles + n;
    while (cycles < goal) {
      const int before = cycles;
      d.start();
      loop->run_until([&] { return cycles > before; });
    }
  };
  run(200);  // warm: the scripts loaded, buffers at their working size
  const dev::allocation_scope scope;
  run(1000);
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_TRUE(ok);
}

// Contenders on three threads, each with its own reactor and connection: holding intervals
// never overlap, and fencing tokens grow in holding order.
TEST_F(DistributedLock, contenders_on_several_threads_exclude_each_other) {
  struct interval {
    std::uint64_t fence;
    std::chrono::steady_clock::time_point start, end;
  };
  constexpr int threads = 3, per_thread = 2, rounds = 12;
  std::vector<std::vector<interval>> seen(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto r = make_reactor();
      connection c{*r, config_for(*server_)};
      bool up = false;
      c.connect([&](const result<void>& o) { up = o.has_value(); });
      r->run_until([&] { return up; });
      wakeups wake{c};
      struct contender {
        std::unique_ptr<distributed_lock> lock;
        reactor::timer hold;
        int left = rounds;
        std::chrono::steady_clock::time_point start;
      };
      std::vector<std::unique_ptr<contender>> cs;
      int finished = 0;
      std::function<void(contender&)> go = [&](contender& k) {
        k.lock->acquire(wait_forever, [&](result<bool> got) {
          if (!got || !*got) {
            ADD_FAILURE() << "acquire failed";
            ++finished;
            return;
          }
          k.start = std::chrono::steady_clock::now();
          r->timers().arm_in(k.hold, 1ms);
        });
      };
      const auto done_holding = [&](contender& k) {
        seen[t].push_back({k.lock->fencing_token(), k.start, std::chrono::steady_clock::now()});
        k.lock->release([&](result<void> done) {
          EXPECT_TRUE(done);
          if (--k.left == 0)
            ++finished;
          else
            go(k);
        });
      };
      for (int i = 0; i < per_thread; ++i) {
        auto k = std::make_unique<contender>();
        k->lock = std::make_unique<distributed_lock>(
            c, "mx", lock_options{.ttl = 2000ms, .retry_min = 5ms, .retry_max = 20ms}, &wake);
        k->hold.set_callback([&done_holding, k = k.get()] { done_holding(*k); });
        cs.push_back(std::move(k));
      }
      for (auto& k : cs)
        go(*k);
      r->run_until([&] { return finished == per_thread; });
      cs.clear();
      test::run_for(*r, 10ms);
    });
  }
  for (auto& th : pool)
    th.join();
  std::vector<interval> all;
  for (const auto& v : seen)
    all.insert(all.end(), v.begin(), v.end());
  ASSERT_EQ(all.size(), static_cast<std::size_t>(threads * per_thread * rounds));
  std::sort(all.begin(), all.end(),
            [](const interval& a, const interval& b) { return a.start < b.start; });
  for (std::size_t i = 1; i < all.size(); ++i) {
    EXPECT_LE(all[i - 1].end, all[i].start) << "two holders at once, at " << i;
    EXPECT_LT(all[i - 1].fence, all[i].fence) << "fencing out of order, at " << i;
  }
}

class DistributedLockBlocking : public DistributedLock {};

// A blocking lock's reactor runs only inside its calls, so no timer declares it lost while the
// caller does other work: owned() reads the clock against valid_until() itself.
TEST_F(DistributedLockBlocking, owned_turns_false_when_the_validity_runs_out_between_calls) {
  blocking_client a{server_->url()};
  blocking_lock mine{a, "short", {.ttl = 200ms, .watchdog = false}};
  ASSERT_TRUE(mine.acquire(no_wait));
  EXPECT_TRUE(mine.owned());
  std::this_thread::sleep_for(250ms);  // the reactor does not run meanwhile
  EXPECT_FALSE(mine.owned());
}

TEST_F(DistributedLockBlocking, acquires_releases_and_throws_lock_not_owned) {
  blocking_client a{server_->url()};
  blocking_client b{server_->url()};
  blocking_lock mine{a, "b", {.ttl = 5000ms, .watchdog = false}};
  blocking_lock theirs{b, "b"};
  ASSERT_TRUE(mine.acquire(no_wait));
  EXPECT_TRUE(mine.owned());
  EXPECT_TRUE(theirs.locked());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(theirs.acquire(100ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  EXPECT_THROW(theirs.release(), lock_not_owned_error);
  mine.extend(10'000ms);
  EXPECT_GT(pttl_of(*server_, "b"), 10'000);
  const auto left = theirs.remaining_ttl();
  ASSERT_TRUE(left.has_value());
  EXPECT_GT(*left, 10'000ms);
  EXPECT_LE(*left, 15'000ms);
  mine.release();
  EXPECT_FALSE(theirs.locked());
  EXPECT_FALSE(theirs.remaining_ttl().has_value());
  EXPECT_THROW(mine.release(), lock_not_owned_error);
  EXPECT_TRUE(theirs.acquire(no_wait));
  EXPECT_GT(theirs.fencing_token(), mine.fencing_token());
}

TEST_F(DistributedLockBlocking, a_waiter_is_woken_by_a_release_from_another_thread) {
  blocking_client holder_client{server_->url()};
  blocking_lock holder{holder_client, "bw"};
  ASSERT_TRUE(holder.acquire(no_wait));
  std::thread waiter([&] {
    blocking_client c{server_->url()};
    blocking_lock l{c, "bw", without_watchdog({.retry_min = 5000ms, .retry_max = 5000ms})};
    const auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(l.acquire(3000ms));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2000ms) << "not woken by the release";
  });
  std::this_thread::sleep_for(200ms);
  holder.release();
  waiter.join();
}

}  // namespace
}  // namespace uredis::lock

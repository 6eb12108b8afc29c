// runtime: real shard threads with real io_uring reactors and a real redis-server. Shards with
// their own reactors and indexes; 10k INCRs per shard on its own connection; a command run on
// another shard's connection with the answer sent back (ping-pong); round-trip latency between
// sleeping shards and busy-polling ones; shutdown (tasks already posted run, commands in flight
// all complete, an endless cross-shard chain still stops, later posts are refused); start-up
// errors (too many shards, a shard whose io_uring cannot be set up); pinning.

#include "uredis/reactor/runtime.hpp"

#include <sched.h>

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/redis_server.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/util/inline_function.hpp"

namespace uredis {
namespace {

using test::config_for;

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

std::unique_ptr<runtime> make_runtime(runtime_options options) {
  auto rt = runtime::create(options);
  EXPECT_TRUE(rt.has_value()) << (rt ? "" : rt.error().message());
  return rt ? std::move(*rt) : nullptr;
}

std::unique_ptr<runtime> two_shards(bool busy_poll = false) {
  runtime_options o;
  o.shards = 2;
  o.busy_poll = busy_poll;
  return make_runtime(o);
}

template <class Predicate>
bool wait_for(Predicate done, std::chrono::seconds limit = 60s) {
  const auto deadline = steady::now() + limit;
  while (!done()) {
    if (steady::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Posts from a shard until accepted (the queue is bounded; the target drains it every turn).
void post(runtime& rt, unsigned shard, runtime::task_fn fn) {
  while (!rt.submit_to(shard, std::move(fn)))
    std::this_thread::yield();
}

// A connection owned by one shard: created on it, closed by its at_stop handler.
struct shard_connection {
  using ready_fn = util::inline_function<void(), 32>;

  runtime* rt = nullptr;
  connection_config config;
  std::unique_ptr<connection> conn;
  std::atomic<int> connected{0};  // 1: ready, -1: failed
  ready_fn on_ready;

  // Runs on the shard: creates and connects, then calls `then` once ready.
  void open(ready_fn then = {}) {
    on_ready = std::move(then);
    conn = std::make_unique<connection>(*reactor::reactor::current(), config);
    rt->at_stop([this] { conn.reset(); });
    conn->connect([this](const result<void>& r) {
      connected.store(r.has_value() ? 1 : -1);
      if (r.has_value() && on_ready) on_ready();
    });
  }
};

TEST(Runtime, EachShardHasItsThreadReactorAndIndex) {
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  EXPECT_EQ(rt->shard_count(), 2u);
  EXPECT_EQ(runtime::current_shard(), runtime::no_shard);

  struct seen {
    std::array<std::atomic<reactor::reactor*>, 2> reactors{};
    std::array<std::atomic<std::thread::id>, 2> threads{};
    std::atomic<int> ran{0};
  } s;
  EXPECT_EQ(rt->run_on_all([p = &s] {
    const unsigned i = runtime::current_shard();
    p->reactors[i].store(reactor::reactor::current());
    p->threads[i].store(std::this_thread::get_id());
    p->ran.fetch_add(1);
  }),
            2u);
  ASSERT_TRUE(wait_for([&] { return s.ran.load() == 2; }));
  EXPECT_NE(s.reactors[0].load(), nullptr);
  EXPECT_NE(s.reactors[1].load(), nullptr);
  EXPECT_NE(s.reactors[0].load(), s.reactors[1].load());
  EXPECT_NE(s.threads[0].load(), s.threads[1].load());
  EXPECT_NE(s.threads[0].load(), std::this_thread::get_id());
  rt->stop();
  EXPECT_FALSE(rt->error());
}

TEST(Runtime, TenThousandIncrsPerShardOnItsOwnConnection) {
  test::redis_server server;
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  constexpr std::int64_t n = 10'000;

  struct work {
    shard_connection sc;
    std::string key;
    std::int64_t expected = 1;  // this shard's thread only
    std::int64_t wrong = 0;
    std::atomic<bool> done{false};
  };
  std::array<work, 2> w;
  for (unsigned s = 0; s < 2; ++s) {
    w[s].sc.rt = rt.get();
    w[s].sc.config = config_for(server);
    w[s].key = "counter:" + std::to_string(s);
    ASSERT_TRUE(rt->submit_to(s, [p = &w[s]] {
      p->sc.open([p] {
        for (std::int64_t i = 0; i < n; ++i)
          p->sc.conn->exec(cmd::incr{p->key}, [p](result<std::int64_t> v) {
            if (!v || *v != p->expected) ++p->wrong;
            if (++p->expected == n + 1) p->done.store(true);
          });
      });
    }));
  }
  ASSERT_TRUE(wait_for([&] {
    return (w[0].done.load() || w[0].sc.connected.load() < 0) &&
           (w[1].done.load() || w[1].sc.connected.load() < 0);
  }));
  rt->stop();
  for (unsigned s = 0; s < 2; ++s) {
    EXPECT_EQ(w[s].sc.connected.load(), 1) << "shard " << s;
    EXPECT_EQ(w[s].wrong, 0) << "shard " << s;
    EXPECT_EQ(w[s].expected, n + 1) << "shard " << s;
    EXPECT_EQ(server.command({"GET", w[s].key}), "$5\r\n10000\r\n");
  }
}

// Shard 0 asks shard 1 to run INCR on shard 1's connection; shard 1 sends the answer back.
struct cross_shard_game {
  runtime* rt;
  shard_connection* remote;  // lives on shard 1
  int rounds_left;
  std::int64_t expected = 1;  // shard 0's
  std::int64_t answer = 0;    // written on shard 1, read on shard 0 after the hand-over
  int wrong = 0;
  std::atomic<bool> done{false};

  void ask() {  // on shard 0
    post(*rt, 1, [g = this] {
      g->remote->conn->exec(cmd::incr{"pingpong"}, [g](result<std::int64_t> v) {
        g->answer = v ? *v : -1;
        post(*g->rt, 0, [g] { g->on_answer(); });
      });
    });
  }
  void on_answer() {  // on shard 0
    if (runtime::current_shard() != 0 || answer != expected) ++wrong;
    ++expected;
    if (--rounds_left == 0) return done.store(true);
    ask();
  }
};

TEST(Runtime, CrossShardCommandPingPong) {
  test::redis_server server;
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  shard_connection remote;
  remote.rt = rt.get();
  remote.config = config_for(server);
  ASSERT_TRUE(rt->submit_to(1, [p = &remote] { p->open(); }));
  ASSERT_TRUE(wait_for([&] { return remote.connected.load() != 0; }));
  ASSERT_EQ(remote.connected.load(), 1);

  cross_shard_game g{rt.get(), &remote, 1000};
  const auto start = steady::now();
  ASSERT_TRUE(rt->submit_to(0, [p = &g] { p->ask(); }));
  ASSERT_TRUE(wait_for([&] { return g.done.load(); }));
  EXPECT_LT(steady::now() - start, 20s);
  rt->stop();
  EXPECT_EQ(g.wrong, 0);
  EXPECT_EQ(g.expected, 1001);
  EXPECT_EQ(server.command({"GET", "pingpong"}), "$4\r\n1000\r\n");
}

// Pure task ping-pong between the two shards; every hop wakes a shard that went to sleep (or,
// busy-polling, finds it spinning).
struct task_ping_pong {
  runtime* rt;
  int rounds_left;
  std::atomic<bool> done{false};
  std::array<std::uint64_t, 2> wake_ups{};

  void hop() {
    const unsigned here = runtime::current_shard();
    if (here == 0 && --rounds_left == 0) return finish();
    post(*rt, 1 - here, [g = this] { g->hop(); });
  }
  void finish() {  // on shard 0: collect both shards' wake-up counts, then signal
    wake_ups[0] = reactor::reactor::current()->wake_ups();
    post(*rt, 1, [g = this] {
      g->wake_ups[1] = reactor::reactor::current()->wake_ups();
      g->done.store(true);
    });
  }
};

TEST(Runtime, ThousandRoundTripsBetweenSleepingShards) {
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  task_ping_pong g{rt.get(), 1000};
  const auto start = steady::now();
  ASSERT_TRUE(rt->submit_to(0, [p = &g] { p->hop(); }));
  ASSERT_TRUE(wait_for([&] { return g.done.load(); }));
  EXPECT_LT(steady::now() - start, 10s);
  rt->stop();
  EXPECT_EQ(g.rounds_left, 0);
  EXPECT_GT(g.wake_ups[0] + g.wake_ups[1], 0u);
}

TEST(Runtime, BusyPollShardsNeverSleep) {
  auto rt = two_shards(/*busy_poll=*/true);
  ASSERT_TRUE(rt);
  // Few hops: two spinning shards on a shared two-core machine go at the scheduler's pace.
  task_ping_pong g{rt.get(), 200};
  ASSERT_TRUE(rt->submit_to(0, [p = &g] { p->hop(); }));
  ASSERT_TRUE(wait_for([&] { return g.done.load(); }));
  rt->stop();
  EXPECT_EQ(g.rounds_left, 0);
  EXPECT_EQ(g.wake_ups[0], 0u);
  EXPECT_EQ(g.wake_ups[1], 0u);
}

TEST(Runtime, SubmitToItsOwnShardRunsOnTheNextTurn) {
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  struct state {
    runtime* rt;
    std::atomic<unsigned> ran_on{runtime::no_shard};
  } s{rt.get()};
  ASSERT_TRUE(rt->submit_to(1, [p = &s] {
    EXPECT_TRUE(p->rt->submit_to(1, [p] { p->ran_on.store(runtime::current_shard()); }));
  }));
  ASSERT_TRUE(wait_for([&] { return s.ran_on.load() != runtime::no_shard; }));
  EXPECT_EQ(s.ran_on.load(), 1u);
}

TEST(Runtime, StopRunsTheTasksAlreadyPosted) {
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  constexpr int per_shard = 200;  // within one sender's queue (mailbox::capacity_per_sender)
  std::array<std::atomic<int>, 2> ran{};
  for (int i = 0; i < per_shard; ++i)
    for (unsigned s = 0; s < 2; ++s)
      ASSERT_TRUE(rt->submit_to(s, [p = &ran[s]] { p->fetch_add(1); }));
  rt->stop();
  EXPECT_EQ(ran[0].load(), per_shard);
  EXPECT_EQ(ran[1].load(), per_shard);
  // Nothing is accepted any more.
  EXPECT_FALSE(rt->submit_to(0, [] {}));
  EXPECT_EQ(rt->run_on_all([] {}), 0u);
}

TEST(Runtime, ShutdownWithCommandsInFlightCompletesEveryCommand) {
  test::redis_server server;
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  constexpr int per_shard = 50'000;
  constexpr int cross = 100;

  struct shard_load {
    shard_connection sc;
    int ok = 0;  // this shard's thread; read after stop
    int failed = 0;
    int failed_not_closed = 0;
  };
  struct test_state {
    runtime* rt;
    std::array<shard_load, 2> load;
    std::atomic<int> issued{0};
    // Cross-shard requests from shard 0 to shard 1's connection, answered back to shard 0.
    int cross_ok = 0;  // shard 0's
    int cross_failed = 0;
    std::atomic<int> cross_refused{0};
  } st;
  st.rt = rt.get();

  struct steps {
    static void count(shard_load& l, const result<std::int64_t>& v) {
      if (v) {
        ++l.ok;
      } else {
        ++l.failed;
        if (!v.has_error() || v.error() != errc::connection_closed) ++l.failed_not_closed;
      }
    }
    static void issue(test_state* st, unsigned s) {  // on shard s, once connected
      shard_load& l = st->load[s];
      for (int i = 0; i < per_shard; ++i)
        l.sc.conn->exec(cmd::incr{"inflight"}, [&l](result<std::int64_t> v) { count(l, v); });
      if (s == 0) {
        for (int i = 0; i < cross; ++i)
          post(*st->rt, 1, [st] { ask_remote(st); });
      }
      // The last shard to issue stops the runtime, with everything still in flight.
      if (st->issued.fetch_add(1) + 1 == 2) st->rt->request_stop();
    }
    static void ask_remote(test_state* st) {  // on shard 1
      auto reply = [st](bool ok) {
        const bool posted = st->rt->submit_to(0, [st, ok] {
          if (ok) {
            ++st->cross_ok;
          } else {
            ++st->cross_failed;
          }
        });
        if (!posted) st->cross_refused.fetch_add(1);
      };
      connection* c = st->load[1].sc.conn.get();
      if (c == nullptr) return reply(false);  // already closed by the at_stop handler
      c->exec(cmd::incr{"cross"}, [reply](result<std::int64_t> v) { reply(v.has_value()); });
    }
  };

  for (unsigned s = 0; s < 2; ++s) {
    st.load[s].sc.rt = rt.get();
    st.load[s].sc.config = config_for(server);
    ASSERT_TRUE(rt->submit_to(s, [p = &st, s] { p->load[s].sc.open(); }));
  }
  // Both connections must be ready before the load starts (each shard checks its own).
  ASSERT_TRUE(wait_for(
      [&] { return st.load[0].sc.connected.load() != 0 && st.load[1].sc.connected.load() != 0; }));
  ASSERT_EQ(st.load[0].sc.connected.load(), 1);
  ASSERT_EQ(st.load[1].sc.connected.load(), 1);
  // The server holds every write for the rest of the test, so the INCRs are certainly still
  // waiting for their replies when the stop comes (on a loaded machine the first shard's could
  // otherwise all be answered before the second shard even issues its own).
  server.command({"CLIENT", "PAUSE", "60000", "WRITE"});
  for (unsigned s = 0; s < 2; ++s)
    ASSERT_TRUE(rt->submit_to(s, [p = &st, s] { steps::issue(p, s); }));

  rt->wait();  // the shards stop themselves; this must not hang
  for (unsigned s = 0; s < 2; ++s) {
    const shard_load& l = st.load[s];
    EXPECT_EQ(l.ok + l.failed, per_shard) << "shard " << s;
    EXPECT_EQ(l.failed_not_closed, 0) << "shard " << s;
    EXPECT_TRUE(l.sc.conn == nullptr) << "shard " << s << ": at_stop did not run";
  }
  // The stop came right behind the last shard's commands: some were still waiting for replies.
  EXPECT_GT(st.load[0].failed + st.load[1].failed, 0);
  EXPECT_EQ(st.cross_ok + st.cross_failed, cross);
  EXPECT_EQ(st.cross_refused.load(), 0);
  EXPECT_FALSE(rt->error());
}

TEST(Runtime, EndlessCrossShardChainStillStops) {
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  struct chain {
    runtime* rt;
    std::atomic<std::uint64_t> hops{0};
    std::atomic<bool> refused{false};
    void hop() {
      hops.fetch_add(1, std::memory_order_relaxed);
      if (!rt->submit_to(1 - runtime::current_shard(), [c = this] { c->hop(); }))
        refused.store(true);
    }
  } c{rt.get()};
  ASSERT_TRUE(rt->submit_to(0, [p = &c] { p->hop(); }));
  ASSERT_TRUE(wait_for([&] { return c.hops.load() > 100; }));
  rt->stop();  // returns: the chain ends when shutdown refuses its next hop
  EXPECT_TRUE(c.refused.load());
}

TEST(Runtime, EveryHopAcceptedDuringShutdownRuns) {
  // A chain hopping between the shards while they shut down: a hop accepted by submit_to must
  // run, even one whose sender read the phase just before the last shard's final drain.
  for (int round = 0; round < 200; ++round) {
    auto rt = two_shards();
    ASSERT_TRUE(rt);
    struct chain {
      runtime* rt;
      std::atomic<std::uint64_t> accepted{1};  // the first hop, below
      std::atomic<std::uint64_t> ran{0};
      void hop() {
        ran.fetch_add(1, std::memory_order_relaxed);
        if (rt->submit_to(1 - runtime::current_shard(), [c = this] { c->hop(); }))
          accepted.fetch_add(1, std::memory_order_relaxed);
      }
    } c{rt.get()};
    ASSERT_TRUE(rt->submit_to(0, [p = &c] { p->hop(); }));
    ASSERT_TRUE(wait_for([&] { return c.ran.load() > 10; }));
    rt->stop();
    ASSERT_EQ(c.accepted.load(), c.ran.load())
        << "round " << round << ": an accepted hop never ran";
  }
}

TEST(Runtime, ShardCanStopTheRuntime) {
  auto rt = two_shards();
  ASSERT_TRUE(rt);
  ASSERT_TRUE(rt->submit_to(1, [r = rt.get()] { r->request_stop(); }));
  rt->wait();
  EXPECT_FALSE(rt->submit_to(0, [] {}));
}

TEST(Runtime, MoreShardsThanCoresIsAnError) {
  runtime_options o;
  o.shards = std::thread::hardware_concurrency() + 1;
  auto rt = runtime::create(o);
  ASSERT_FALSE(rt.has_value());
  EXPECT_EQ(rt.error(), std::errc::invalid_argument);

  o.shards = 0;
  rt = runtime::create(o);
  ASSERT_FALSE(rt.has_value());
  EXPECT_EQ(rt.error(), std::errc::invalid_argument);
}

TEST(Runtime, ShardThatCannotSetUpIoUringFailsCreate) {
  runtime_options o;
  o.shards = 2;
  o.reactor.ring_entries = 0;  // io::ring::create refuses it, on each shard's thread
  const auto start = steady::now();
  auto rt = runtime::create(o);
  ASSERT_FALSE(rt.has_value());
  EXPECT_EQ(rt.error(), std::errc::invalid_argument);
  EXPECT_LT(steady::now() - start, 10s);
}

TEST(Runtime, PinningSetsEachShardsAffinity) {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  ASSERT_EQ(::sched_getaffinity(0, sizeof allowed, &allowed), 0);
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &allowed)) cpus.push_back(cpu);
  if (cpus.size() < 2) GTEST_SKIP() << "fewer than two CPUs available";

  runtime_options o;
  o.shards = 2;
  o.pin = true;
  auto rt = make_runtime(o);
  ASSERT_TRUE(rt);
  struct affinity {
    std::array<std::atomic<int>, 2> count{};
    std::array<std::atomic<int>, 2> cpu{};
    std::atomic<int> ran{0};
  } a;
  rt->run_on_all([p = &a] {
    cpu_set_t set;
    CPU_ZERO(&set);
    const unsigned i = runtime::current_shard();
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
      p->count[i].store(CPU_COUNT(&set));
      for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
        if (CPU_ISSET(cpu, &set)) p->cpu[i].store(cpu);
    }
    p->ran.fetch_add(1);
  });
  ASSERT_TRUE(wait_for([&] { return a.ran.load() == 2; }));
  for (unsigned i = 0; i < 2; ++i) {
    EXPECT_EQ(a.count[i].load(), 1) << "shard " << i;
    EXPECT_EQ(a.cpu[i].load(), cpus[i]) << "shard " << i;
  }
  // The owner thread is left alone.
  cpu_set_t mine;
  CPU_ZERO(&mine);
  ASSERT_EQ(::sched_getaffinity(0, sizeof mine, &mine), 0);
  EXPECT_EQ(CPU_COUNT(&mine), static_cast<int>(cpus.size()));
}

}  // namespace
}  // namespace uredis

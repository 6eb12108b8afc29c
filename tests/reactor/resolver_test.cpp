// resolver: lookups through the worker thread (real getaddrinfo for "localhost" and an unknown
// name), numeric hosts answered without it, and, with an injected lookup that blocks until the
// test opens a gate (a DNS server taking seconds), that the reactor keeps turning meanwhile:
// timers fire on schedule, later lookups queue behind in order, cancelled or destroyed requests
// never hear back, and destroying the resolver does not wait for the blocked worker. Also
// callbacks that resolve again, destroy their request or the resolver, and 1000 lookups.

#include "uredis/reactor/resolver.hpp"

#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "uredis/reactor/timer.hpp"

namespace uredis::reactor {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

std::unique_ptr<reactor> make_reactor() {
  auto r = reactor::create();
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message());
  return r ? std::move(*r) : nullptr;
}

// 127.0.0.1:port, for injected lookups: the port tells the answers apart.
result<io::socket_address> loopback(std::uint16_t port) {
  return io::resolve("127.0.0.1", port);
}

// Waits (without turning any reactor) until `done()` or 5 s have passed; returns done().
template <class Predicate>
bool wait_for(Predicate done) {
  const auto deadline = steady::now() + 5s;
  while (!done() && steady::now() < deadline)
    std::this_thread::sleep_for(1ms);
  return done();
}

// Turns `r` until `done()` or `limit` has passed, so that a resolver that never answers fails
// the test instead of hanging it: a 10 ms watchdog timer wakes the reactor to look at the time.
template <class Predicate>
bool run_for(reactor& r, Predicate done, std::chrono::seconds limit = 5s) {
  const auto deadline = steady::now() + limit;
  timer watchdog;
  watchdog.set_callback([&] { r.timers().arm_in(watchdog, 10ms); });
  r.timers().arm_in(watchdog, 10ms);
  r.run_until([&] { return done() || steady::now() >= deadline; });
  return done();
}

// Stands in for a DNS server that answers only when told to: lookups block in pass() until
// open(). Shared with the worker (the lookup function holds a shared_ptr), so it outlives a
// resolver destroyed while the worker is inside it.
struct gate {
  std::mutex mutex;
  std::condition_variable opened;
  bool is_open = false;
  std::atomic<int> entered{0};
  std::atomic<int> returned{0};
  std::atomic<bool> on_reactor_thread{false};
  std::thread::id reactor_thread = std::this_thread::get_id();

  void open() {
    {
      const std::lock_guard lock(mutex);
      is_open = true;
    }
    opened.notify_all();
  }
  result<io::socket_address> pass(std::uint16_t port) {
    if (std::this_thread::get_id() == reactor_thread) on_reactor_thread = true;
    ++entered;
    {
      std::unique_lock lock(mutex);
      opened.wait(lock, [this] { return is_open; });
    }
    ++returned;
    return loopback(port);
  }
};

resolve_function through(const std::shared_ptr<gate>& g) {
  return [g](std::string_view, std::uint16_t port) { return g->pass(port); };
}

// Records every answer a request gets, in order, as "port" or the error's message.
struct answer_log {
  std::vector<std::string> answers;
  std::thread::id thread;

  resolver_request::callback_type recorder() {
    return [this](result<io::socket_address> a) {
      thread = std::this_thread::get_id();
      answers.push_back(a ? std::to_string(a->port()) : a.error().message());
    };
  }
};

bool is_loopback(const io::socket_address& a) {
  if (a.family() == AF_INET)
    return (ntohl(reinterpret_cast<const sockaddr_in*>(&a.storage)->sin_addr.s_addr) >> 24) == 127;
  return a.family() == AF_INET6 &&
         IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(&a.storage)->sin6_addr);
}

TEST(Resolver, LocalhostResolvesToLoopbackOnTheWorkerThread) {
  auto r = make_reactor();
  ASSERT_TRUE(r);
  resolver res(*r);
  EXPECT_FALSE(res.worker_started());

  std::optional<result<io::socket_address>> answer;
  std::thread::id answered_on;
  resolver_request req([&](result<io::socket_address> a) {
    answered_on = std::this_thread::get_id();
    answer = std::move(a);
  });
  EXPECT_FALSE(res.resolve(req, "localhost", 6390).has_value()) << "a name is never answered now";
  EXPECT_TRUE(req.pending());
  EXPECT_FALSE(answer.has_value()) << "the callback ran inside resolve()";
  EXPECT_TRUE(res.worker_started());
  EXPECT_EQ(res.lookups_on_thread(), 1u);

  ASSERT_TRUE(run_for(*r, [&] { return answer.has_value(); }));
  EXPECT_FALSE(req.pending());
  EXPECT_EQ(answered_on, std::this_thread::get_id());
  ASSERT_TRUE(answer->has_value()) << answer->error().message();
  EXPECT_TRUE(is_loopback(**answer)) << (*answer)->to_string();
  EXPECT_EQ((*answer)->port(), 6390);
}

TEST(Resolver, NumericHostsAreAnsweredNowWithoutTheWorker) {
  auto r = make_reactor();
  ASSERT_TRUE(r);
  auto g = std::make_shared<gate>();
  g->open();
  resolver res(*r, through(g));
  answer_log log;
  resolver_request req(log.recorder());

  const auto v4 = res.resolve(req, "127.0.0.1", 7001);
  ASSERT_TRUE(v4.has_value() && v4->has_value());
  EXPECT_EQ((*v4)->to_string(), "127.0.0.1:7001");
  const auto v6 = res.resolve(req, "[::1]", 7002);
  ASSERT_TRUE(v6.has_value() && v6->has_value());
  EXPECT_EQ((*v6)->to_string(), "[::1]:7002");
  const auto empty = res.resolve(req, "", 7003);
  ASSERT_TRUE(empty.has_value() && empty->has_error());
  EXPECT_EQ(empty->error(), std::errc::invalid_argument);

  EXPECT_FALSE(req.pending());
  for (int i = 0; i < 3; ++i)
    r->poll();
  EXPECT_TRUE(log.answers.empty()) << "an answer given now must not reach the callback too";
  EXPECT_FALSE(res.worker_started());
  EXPECT_EQ(res.lookups_on_thread(), 0u);
  EXPECT_EQ(g->entered.load(), 0);
}

TEST(Resolver, UnknownNameGivesAResolverError) {
  auto r = make_reactor();
  ASSERT_TRUE(r);
  resolver res(*r);
  std::optional<result<io::socket_address>> answer;
  resolver_request req([&](result<io::socket_address> a) { answer = std::move(a); });
  ASSERT_FALSE(res.resolve(req, "no-such-host.invalid", 6379).has_value());
  // getaddrinfo asks the system's DNS server, which answers at once, or after its timeouts
  // (glibc: 5 s per try, 2 tries, per address family) when a query is lost: wait that long.
  ASSERT_TRUE(run_for(
      *r, [&] { return answer.has_value(); }, 30s));
  ASSERT_TRUE(answer->has_error());
  EXPECT_EQ(&answer->error().category(), &io::resolver_category()) << answer->error().message();
}

TEST(Resolver, ErrorsOfTheLookupFunctionAreTheAnswer) {
  auto r = make_reactor();
  ASSERT_TRUE(r);
  resolver res(*r, [](std::string_view host, std::uint16_t) -> result<io::socket_address> {
    if (host == "slow.example") return make_error_code(errc::timeout);
    return std::error_code(EAI_NONAME, io::resolver_category());
  });
  std::vector<std::error_code> errors;
  resolver_request a([&](result<io::socket_address> x) { errors.push_back(x.error()); });
  resolver_request b([&](result<io::socket_address> x) { errors.push_back(x.error()); });
  ASSERT_FALSE(res.resolve(a, "slow.example", 1).has_value());
  ASSERT_FALSE(res.resolve(b, "nowhere.example", 1).has_value());
  ASSERT_TRUE(run_for(*r, [&] { return errors.size() == 2; }));
  EXPECT_EQ(errors[0], errc::timeout);
  EXPECT_EQ(errors[1], std::error_code(EAI_NONAME, io::resolver_category()));
}

// The point of the resolver: a lookup stuck in DNS does not stall the shard.
TEST(Resolver, ABlockedLookupNeverStallsTheReactor) {
  auto r = make_reactor();
  ASSERT_TRUE(r);
  auto g = std::make_shared<gate>();
  resolver res(*r, through(g));
  answer_log log;
  resolver_request first(log.recorder());
  resolver_request second(log.recorder());
  ASSERT_FALSE(res.resolve(first, "slow-dns.example", 1).has_value());
  ASSERT_FALSE(res.resolve(second, "queued-behind.example", 2).has_value());
  ASSERT_TRUE(wait_for([&] { return g->entered == 1; }));

  // A 10 ms timer re-armed from its own callback, for ~200 ms of reactor time.
  int fired = 0;
  timer tick;
  tick.set_callback([&] {
    ++fired;
    r->timers().arm_in(tick, 10ms);
  });
  r->timers().arm_in(tick, 10ms);
  const auto start = steady::now();
  r->run_until([&] { return steady::now() - start >= 200ms; });
  tick.cancel();

  // 20 at most; a stalled loop would show 0. The margin is for a loaded 2-core machine.
  EXPECT_GE(fired, 12);
  EXPECT_EQ(g->returned.load(), 0) << "the lookup was meant to be blocked all along";
  EXPECT_TRUE(log.answers.empty());
  EXPECT_TRUE(first.pending());
  EXPECT_TRUE(second.pending());
  EXPECT_FALSE(g->on_reactor_thread.load()) << "the lookup ran on the reactor's thread";

  g->open();
  ASSERT_TRUE(run_for(*r, [&] { return log.answers.size() == 2; }));
  EXPECT_EQ(log.answers, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(log.thread, std::this_thread::get_id());
}

TEST(Resolver, ACancelledRequestNeverHearsBack) {
  auto r = make_reactor();
  ASSERT_TRUE(r);
  auto g = std::make_shared<gate>();
  resolver res(*r, through(g));
  answer_log cancelled_log;
  answer_log later_log;
  resolver_request cancelled(cancelled_log.recorder());
  resolver_request later(later_log.recorder());
  ASSERT_FALSE(res.resolve(cancelled, "a.example", 1).has_value());
  ASSERT_FALSE(res.resolve(later, "b.example", 2).has_value());
  ASSERT_TRUE(wait_for([&] { return g->entered == 1; }));  // the worker is inside the lookup

  EXPECT_TRUE(cancelled.cancel());
  EXPECT_FALSE(cancelled.pending());
  EXPECT_FALSE(cancelled.cancel()) << "a second cancel has nothing to cancel";
  g->open();
  // Answers come in order: once `later` has its answer, the cancelled one was dropped.
  ASSERT_TRUE(run_for(*r, [&] { return !later_log.answers.empty(); }));
  EXPECT_EQ(g->returned.load(), 2);
  EXPECT_TRUE(cancelled_log.answers.empty());
  EXPECT_EQ(later_log.answers, std::vector<std::string>{"2"});
}

TEST(Resolver, DestroyingAPendingRequestNeverRunsItsCallback) {
  auto r = make_reactor();
  ASSERT_TRUE(r);
  auto g = std::make_shared<gate>();
  resolver res(*r, through(g));
  answer_log destroyed_log;
  answer_log later_log;
  auto doomed = std::make_unique<resolver_request>(destroyed_log.recorder());
  resolver_request later(later_log.recorder());
  ASSERT_FALSE(res.resolve(*doomed, "a.example", 1).has_value());
  ASSERT_FALSE(res.resolve(later, "b.example", 2).has_value());
  ASSERT_TRUE(wait_for([&] { return g->entered == 1; }));

  doomed.reset();  // freed: under ASan, any later touch of it is a report
  g->open();
  ASSERT_TRUE(run_for(*r, [&] { return !later_log.answers.empty(); }));
  EXPECT_TRUE(destroyed_log.answers.empty());
  EXPECT_EQ(later_log.answers, std::vector<std::string>{"2"});
}

TEST(Resolver, ACancelledRequestCanBeReusedWhileItsOldLookupRuns) {
  auto r = make_reactor();
  ASSERT_TRUE(r);
  auto g = std::make_shared<gate>();
  resolver res(*r, through(g));
  answer_log log;
  resolver_request req(log.recorder());
  ASSERT_FALSE(res.resolve(req, "old.example", 1).has_value());
  ASSERT_TRUE(wait_for([&] { return g->entered == 1; }));
  req.cancel();
  ASSERT_FALSE(res.resolve(req, "new.example", 2).has_value());
  g->open();
  ASSERT_TRUE(run_for(*r, [&] { return !log.answers.empty(); }));
  for (int i = 0; i < 3; ++i)
    r->poll();
  EXPECT_EQ(log.answers, std::vector<std::string>{"2"}) << "only the new lookup's answer";
}

TEST(Resolver, DestroyingTheResolverNeverWaitsForABlockedLookup) {
  auto r = make_reactor();
  ASSERT_TRUE(r);
  auto g = std::make_shared<gate>();
  auto res = std::make_unique<resolver>(*r, through(g));
  answer_log log;
  resolver_request blocked(log.recorder());
  resolver_request queued(log.recorder());
  ASSERT_FALSE(res->resolve(blocked, "stuck.example", 1).has_value());
  ASSERT_FALSE(res->resolve(queued, "behind.example", 2).has_value());
  ASSERT_TRUE(wait_for([&] { return g->entered == 1; }));

  const auto start = steady::now();
  res.reset();
  const auto took = steady::now() - start;
  EXPECT_LT(took, 100ms);
  EXPECT_FALSE(blocked.pending());
  EXPECT_FALSE(queued.pending());

  // The worker now finishes its lookup with the resolver gone, drops the answer, skips the
  // queued lookup and exits, releasing the shared state: the lookup function (and its
  // reference to the gate) goes with it.
  g->open();
  ASSERT_TRUE(wait_for([&] { return g.use_count() == 1; })) << "the worker kept its state";
  EXPECT_EQ(g->returned.load(), 1);
  EXPECT_EQ(g->entered.load(), 1) << "a lookup queued behind ran after the resolver died";
  for (int i = 0; i < 3; ++i)
    r->poll();  // the cancelled poll's CQEs, if any, find the slot detached
  EXPECT_TRUE(log.answers.empty());
}

TEST(Resolver, CallbacksMayResolveAgainAndDestroyTheirRequest) {
  auto r = make_reactor();
  ASSERT_TRUE(r);
  resolver res(*r, [](std::string_view, std::uint16_t port) { return loopback(port); });

  // A chain: each answer starts the next lookup on the same request, three times.
  std::vector<std::uint16_t> chain;
  resolver_request again;
  again.set_callback([&](result<io::socket_address> a) {
    ASSERT_TRUE(a.has_value());
    chain.push_back(a->port());
    EXPECT_FALSE(again.pending()) << "a request leaves pending_ before its callback";
    if (chain.size() < 3) {
      EXPECT_FALSE(res.resolve(again, "next.example", a->port() + 1).has_value());
    }
  });
  ASSERT_FALSE(res.resolve(again, "first.example", 10).has_value());

  // A request that destroys itself from its own callback (ASan checks nothing touches it).
  auto* self_destroying = new resolver_request;
  bool destroyed = false;
  self_destroying->set_callback([&destroyed, self_destroying](result<io::socket_address>) {
    destroyed = true;
    delete self_destroying;
  });
  ASSERT_FALSE(res.resolve(*self_destroying, "bye.example", 20).has_value());

  ASSERT_TRUE(run_for(*r, [&] { return chain.size() == 3 && destroyed; }));
  EXPECT_EQ(chain, (std::vector<std::uint16_t>{10, 11, 12}));
  EXPECT_EQ(res.lookups_on_thread(), 4u);
}

TEST(Resolver, ACallbackMayDestroyTheResolver) {
  auto r = make_reactor();
  ASSERT_TRUE(r);
  auto g = std::make_shared<gate>();
  auto res = std::make_unique<resolver>(*r, through(g));
  answer_log log;
  resolver_request first([&](result<io::socket_address>) {
    log.answers.push_back("first");
    res.reset();
  });
  resolver_request second(log.recorder());
  ASSERT_FALSE(res->resolve(first, "a.example", 1).has_value());
  ASSERT_FALSE(res->resolve(second, "b.example", 2).has_value());
  g->open();
  // Let both answers reach the done list before the reactor looks, so that they are likely one
  // batch (the second is then dropped by deliver(); otherwise by the closed worker: both pass).
  ASSERT_TRUE(wait_for([&] { return g->returned == 2; }));
  std::this_thread::sleep_for(20ms);
  ASSERT_TRUE(run_for(*r, [&] { return !res; }));
  for (int i = 0; i < 3; ++i)
    r->poll();
  EXPECT_EQ(log.answers, std::vector<std::string>{"first"});
  EXPECT_FALSE(second.pending());
}

TEST(Resolver, AThousandLookupsAreAllAnsweredInOrder) {
  auto r = make_reactor();
  ASSERT_TRUE(r);
  resolver res(*r, [](std::string_view, std::uint16_t port) { return loopback(port); });
  constexpr std::uint16_t count = 1000;
  const auto requests = std::make_unique<resolver_request[]>(count);
  std::vector<std::uint16_t> order;
  order.reserve(count);
  int wrong = 0;
  for (std::uint16_t i = 0; i < count; ++i) {
    requests[i].set_callback([&order, &wrong, i](result<io::socket_address> a) {
      if (!a || a->port() != 1000 + i) ++wrong;
      order.push_back(i);
    });
    ASSERT_FALSE(res.resolve(requests[i], "host-" + std::to_string(i) + ".example",
                             static_cast<std::uint16_t>(1000 + i))
                     .has_value());
  }
  ASSERT_TRUE(run_for(*r, [&] { return order.size() == count; }));
  EXPECT_EQ(wrong, 0);
  for (std::uint16_t i = 0; i < count; ++i)
    ASSERT_EQ(order[i], i);
  EXPECT_EQ(res.lookups_on_thread(), count);
}

}  // namespace
}  // namespace uredis::reactor

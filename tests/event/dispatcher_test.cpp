// dispatcher: listeners called in registration order; re-entrancy (a listener that unregisters
// itself or a later one, destroys itself or another, registers a new one, or emits again);
// stats; no allocation per emit nor per register/unregister (counted); a dispatcher that dies
// before its listeners; and runtime::broadcast reaching a listener on each of two real shards.

#include "uredis/event/dispatcher.hpp"

#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "allocation_counter.hpp"
#include "support/kernel_feature.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/reactor/runtime.hpp"

namespace uredis::event {
namespace {

using namespace std::chrono_literals;

static_assert(event_count == 24);
static_assert(event_index<topology_changed> == 19 && event_index<node_removed> == 21 &&
              counter_of<node_added> == &stats::node_added);
static_assert(event_index<sentinel_primary_switched> == 23 &&
              counter_of<sentinel_primary_switched> == &stats::sentinel_primary_switched);
static_assert(event_index<token_refresh_failed> == 18 &&
              counter_of<token_refresh_failed> == &stats::token_refresh_failed);
static_assert(event_index<reauthenticated> == 16 && event_index<reauth_failed> == 17);
static_assert(event_index<lock_lost> == 12 && counter_of<lock_lost> == &stats::lock_lost);
static_assert(event_index<cache_evicted> == 15 &&
              counter_of<cache_evicted> == &stats::cache_evicted);
static_assert(event_index<connected> == 0 && event_index<health_check_failed> == 10);
static_assert(!is_event<int> && !is_event<stats>);
static_assert(counter_of<protocol_error> == &stats::protocol_error);

// Listeners that append "<name><connection_id>" to a shared log.
struct call_log {
  std::vector<std::string> lines;
  void add(char name, const connected& e) {
    lines.push_back(name + std::to_string(e.connection_id));
  }
};

TEST(Dispatcher, CallsListenersInRegistrationOrderWithTheEvent) {
  dispatcher d;
  call_log l;
  listener<connected> a(d, [&](const connected& e) { l.add('a', e); });
  listener<connected> b(d, [&](const connected& e) { l.add('b', e); });
  listener<connected> c(d, [&](const connected& e) { l.add('c', e); });
  int lost = 0;
  listener<disconnected> other(d, [&](const disconnected&) { ++lost; });

  d.emit(connected{7});
  EXPECT_EQ(l.lines, (std::vector<std::string>{"a7", "b7", "c7"}));
  EXPECT_EQ(lost, 0);  // another type's listeners are not called

  d.emit(disconnected{7, std::make_error_code(std::errc::connection_reset)});
  EXPECT_EQ(lost, 1);
  EXPECT_EQ(l.lines.size(), 3u);
}

TEST(Dispatcher, UnregisterStopsCallsAndIsIdempotent) {
  dispatcher d;
  call_log l;
  listener<connected> a(d, [&](const connected& e) { l.add('a', e); });
  listener<connected> b(d, [&](const connected& e) { l.add('b', e); });
  EXPECT_TRUE(a.registered());
  EXPECT_TRUE(d.has_listeners<connected>());
  EXPECT_FALSE(d.has_listeners<reconnected>());

  a.unregister();
  a.unregister();
  EXPECT_FALSE(a.registered());
  d.emit(connected{1});
  EXPECT_EQ(l.lines, (std::vector<std::string>{"b1"}));

  b.unregister();
  EXPECT_FALSE(d.has_listeners<connected>());
  d.emit(connected{2});
  EXPECT_EQ(l.lines.size(), 1u);
}

TEST(Dispatcher, ListenerMayUnregisterItselfDuringDispatch) {
  dispatcher d;
  call_log l;
  std::optional<listener<connected>> a;
  listener<connected> first(d, [&](const connected& e) { l.add('f', e); });
  a.emplace(d, [&](const connected& e) {
    l.add('a', e);
    a->unregister();
  });
  listener<connected> last(d, [&](const connected& e) { l.add('z', e); });

  d.emit(connected{1});
  d.emit(connected{2});
  EXPECT_EQ(l.lines, (std::vector<std::string>{"f1", "a1", "z1", "f2", "z2"}));
  EXPECT_FALSE(a->registered());
}

TEST(Dispatcher, ListenerMayUnregisterALaterOneDuringDispatch) {
  dispatcher d;
  call_log l;
  std::optional<listener<connected>> b;
  listener<connected> a(d, [&](const connected& e) {
    l.add('a', e);
    b->unregister();
  });
  b.emplace(d, [&](const connected& e) { l.add('b', e); });
  listener<connected> c(d, [&](const connected& e) { l.add('c', e); });

  d.emit(connected{1});
  EXPECT_EQ(l.lines, (std::vector<std::string>{"a1", "c1"}));
}

TEST(Dispatcher, ListenerMayDestroyItselfOrALaterOneDuringDispatch) {
  // On the heap, so that AddressSanitizer sees any use of a destroyed listener.
  dispatcher d;
  call_log l;
  std::unique_ptr<listener<connected>> self;
  std::unique_ptr<listener<connected>> victim;
  listener<connected> first(d, [&](const connected& e) { l.add('f', e); });
  self = std::make_unique<listener<connected>>(d, [&](const connected& e) {
    l.add('s', e);
    victim.reset();
    self.reset();  // last: like `delete this`, nothing of the callback is used after it
  });
  victim = std::make_unique<listener<connected>>(d, [&](const connected& e) { l.add('v', e); });
  listener<connected> last(d, [&](const connected& e) { l.add('z', e); });

  d.emit(connected{1});
  EXPECT_EQ(self, nullptr);
  EXPECT_EQ(victim, nullptr);
  d.emit(connected{2});
  EXPECT_EQ(l.lines, (std::vector<std::string>{"f1", "s1", "z1", "f2", "z2"}));
}

TEST(Dispatcher, ListenerRegisteredDuringDispatchWaitsForTheNextOne) {
  dispatcher d;
  call_log l;
  std::optional<listener<connected>> late;
  listener<connected> a(d, [&](const connected& e) {
    l.add('a', e);
    if (!late) late.emplace(d, [&](const connected& e2) { l.add('n', e2); });
  });
  listener<connected> b(d, [&](const connected& e) { l.add('b', e); });

  d.emit(connected{1});
  EXPECT_EQ(l.lines, (std::vector<std::string>{"a1", "b1"}));
  d.emit(connected{2});  // now last in registration order
  EXPECT_EQ(l.lines, (std::vector<std::string>{"a1", "b1", "a2", "b2", "n2"}));
}

TEST(Dispatcher, NestedEmitOfTheSameTypeAndOfAnother) {
  dispatcher d;
  call_log l;
  listener<connected> a(d, [&](const connected& e) {
    l.add('a', e);
    if (e.connection_id == 0) {
      d.emit(connected{1});
      d.emit(reconnected{0, 3});
    }
  });
  listener<connected> b(d, [&](const connected& e) { l.add('b', e); });
  listener<reconnected> r(
      d, [&](const reconnected& e) { l.lines.push_back("r" + std::to_string(e.attempts)); });

  d.emit(connected{0});
  EXPECT_EQ(l.lines, (std::vector<std::string>{"a0", "a1", "b1", "r3", "b0"}));
  EXPECT_EQ(d.stats().connected, 2u);
  EXPECT_EQ(d.stats().reconnected, 1u);
}

TEST(Dispatcher, UnregisterInANestedDispatchIsSeenByTheOuterOne) {
  dispatcher d;
  call_log l;
  std::optional<listener<connected>> b;
  std::optional<listener<connected>> late;
  listener<connected> a(d, [&](const connected& e) {
    l.add('a', e);
    if (e.connection_id == 0) {
      late.emplace(d, [&](const connected& e2) { l.add('n', e2); });
      d.emit(connected{1});  // registered before this emit: `late` is called by it
    }
  });
  b.emplace(d, [&](const connected& e) {
    l.add('b', e);
    b->unregister();  // in the inner dispatch: the outer one must not call it
  });

  d.emit(connected{0});
  EXPECT_EQ(l.lines, (std::vector<std::string>{"a0", "a1", "b1", "n1"}));
  EXPECT_TRUE(d.has_listeners<connected>());
}

TEST(Dispatcher, StatsCountEveryEmitPerType) {
  dispatcher d;
  EXPECT_EQ(d.stats(), stats{});
  int calls = 0;
  listener<command_retried> l(d, [&](const command_retried&) { ++calls; });

  d.emit(connected{1});  // counted with no listener
  d.emit(connected{2});
  d.emit(command_retried{1, 1, {}});
  d.emit(push_received{1, "tracking-redir-broken", {}, 0});
  d.emit(health_check_failed{1});
  const stats before = d.stats();  // a snapshot is a copy
  d.emit(health_check_failed{1});

  stats expected;
  expected.connected = 2;
  expected.command_retried = 1;
  expected.push_received = 1;
  expected.health_check_failed = 1;
  EXPECT_EQ(before, expected);
  expected.health_check_failed = 2;
  EXPECT_EQ(d.stats(), expected);
  EXPECT_EQ(calls, 1);
}

TEST(Dispatcher, EmitRegisterAndUnregisterAllocateNothing) {
  dispatcher d;
  std::uint64_t sum = 0;
  listener<disconnected> a(d, [&](const disconnected& e) { sum += e.connection_id; });
  listener<disconnected> b(d, [&](const disconnected& e) { sum += 2 * e.connection_id; });
  std::optional<listener<disconnected>> c;
  std::optional<listener<connected>> other;
  d.emit(disconnected{1, {}});  // warm-up (nothing to warm, but a zero must not be vacuous)

  std::uint64_t emit_allocations = 0;
  std::uint64_t register_allocations = 0;
  {
    dev::allocation_scope scope;
    for (std::uint64_t i = 0; i < 1000; ++i)
      d.emit(disconnected{i, std::make_error_code(std::errc::timed_out)});
    emit_allocations = scope.allocations();
  }
  {
    dev::allocation_scope scope;
    for (std::uint64_t i = 0; i < 1000; ++i) {
      c.emplace(d, [&sum](const disconnected& e) { sum ^= e.connection_id; });
      other.emplace(d, [&sum](const connected& e) { sum += e.connection_id; });
      d.emit(connected{i});
      c->unregister();
      other.reset();
    }
    register_allocations = scope.allocations();
  }
  dev::do_not_optimize(sum);
  EXPECT_EQ(emit_allocations, 0u);
  EXPECT_EQ(register_allocations, 0u);
  EXPECT_EQ(d.stats().disconnected, 1001u);
}

TEST(Dispatcher, ListenersOutliveTheirDispatcherUnregistered) {
  auto d = std::make_unique<dispatcher>();
  int calls = 0;
  listener<connected> a(*d, [&](const connected&) { ++calls; });
  d->emit(connected{1});
  d.reset();
  EXPECT_FALSE(a.registered());
  a.unregister();  // harmless; so is a's destructor
  EXPECT_EQ(calls, 1);
}

// --- runtime::broadcast ----------------------------------------------------------------------

template <class Predicate>
bool wait_for(Predicate done, std::chrono::seconds limit = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(DispatcherBroadcast, ReachesAListenerOnEveryShard) {
  runtime_options options;
  options.shards = 2;
  auto created = runtime::create(options);
  if (!created && test::lacks_io_uring(created.error())) return;
  ASSERT_TRUE(created.has_value()) << created.error().message();
  runtime& rt = **created;

  // Per shard: its listener (built and destroyed on the shard's thread), what it saw.
  struct shard_state {
    std::optional<listener<reconnect_scheduled>> l;
    std::atomic<std::uint64_t> seen_id{0};
    std::atomic<unsigned> seen_on{runtime::no_shard};
    std::atomic<std::uint64_t> counted{0};
  };
  std::array<shard_state, 2> shards;
  std::atomic<unsigned> ready{0};
  for (unsigned s = 0; s < 2; ++s) {
    ASSERT_TRUE(rt.submit_to(s, [st = &shards[s], &ready] {
      st->l.emplace(reactor::reactor::current()->events(), [st](const reconnect_scheduled& e) {
        st->seen_on.store(runtime::current_shard(), std::memory_order_relaxed);
        st->seen_id.store(e.connection_id + e.attempt, std::memory_order_release);
      });
      ready.fetch_add(1, std::memory_order_release);
    }));
  }
  ASSERT_TRUE(wait_for([&] { return ready.load(std::memory_order_acquire) == 2; }));

  const reconnect_scheduled e{40, 2, 5ms, std::make_error_code(std::errc::connection_refused)};
  ASSERT_TRUE(rt.broadcast(e));
  ASSERT_TRUE(wait_for([&] {
    return shards[0].seen_id.load(std::memory_order_acquire) == 42 &&
           shards[1].seen_id.load(std::memory_order_acquire) == 42;
  }));
  EXPECT_EQ(shards[0].seen_on.load(), 0u);
  EXPECT_EQ(shards[1].seen_on.load(), 1u);

  // Each shard counted it once; then the listeners go, on their own threads.
  for (unsigned s = 0; s < 2; ++s) {
    ASSERT_TRUE(rt.submit_to(s, [st = &shards[s], &ready] {
      st->counted.store(reactor::reactor::current()->events().stats().reconnect_scheduled);
      st->l.reset();
      ready.fetch_sub(1, std::memory_order_release);
    }));
  }
  ASSERT_TRUE(wait_for([&] { return ready.load(std::memory_order_acquire) == 0; }));
  EXPECT_EQ(shards[0].counted.load(), 1u);
  EXPECT_EQ(shards[1].counted.load(), 1u);

  rt.stop();
  EXPECT_FALSE(rt.broadcast(connected{1}));  // every shard refuses once stopped
}

}  // namespace
}  // namespace uredis::event

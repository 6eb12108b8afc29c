// timer_wheel: firing order, arm/rearm/cancel, cancel and re-arm from callbacks, far deadlines
// that cascade, 100k random timers each firing once at its tick, next_deadline(), and no
// allocation on arm/cancel/advance. Driven by a manual_clock.

#include "uredis/reactor/timer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "allocation_counter.hpp"

namespace uredis::reactor {
namespace {

using namespace std::chrono_literals;
using util::clock;
using util::default_clock;
using util::manual_clock;
using time_point = clock::time_point;
using std::chrono::milliseconds;

// An arbitrary start that is not a multiple of 64 ms, so level boundaries fall mid-test.
constexpr time_point start = time_point(milliseconds(1'000'037));

struct fixture : ::testing::Test {
  manual_clock clk{start};
  timer_wheel wheel{clk};

  // Moves the clock and advances the wheel to it.
  std::size_t step(clock::duration d) {
    clk.advance(d);
    return wheel.advance();
  }
};

using Timer = fixture;

TEST_F(Timer, fires_in_deadline_order_across_ticks_and_levels) {
  std::vector<int> order;
  // Deadlines on level 0, 1 and 2, armed out of order.
  timer a([&] { order.push_back(3); });
  timer b([&] { order.push_back(1); });
  timer c([&] { order.push_back(4); });
  timer d([&] { order.push_back(2); });
  wheel.arm_in(a, 100ms);
  wheel.arm_in(b, 5ms);
  wheel.arm_in(c, 5000ms);
  wheel.arm_in(d, 30ms);
  EXPECT_EQ(wheel.size(), 4u);
  EXPECT_EQ(step(10s), 4u);  // one advance across all of them
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_TRUE(wheel.empty());
}

TEST_F(Timer, fires_at_its_tick_not_before) {
  int fired = 0;
  timer t([&] { ++fired; });
  wheel.arm_in(t, 50ms);
  EXPECT_TRUE(t.armed());
  EXPECT_EQ(t.deadline(), start + 50ms);
  EXPECT_EQ(step(49ms), 0u);
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(step(1ms), 1u);
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(t.armed());
  EXPECT_EQ(step(1h), 0u);
  EXPECT_EQ(fired, 1);
}

TEST_F(Timer, sub_millisecond_deadlines_round_up) {
  int fired = 0;
  timer t([&] { ++fired; });
  wheel.arm(t, start + 1500us);  // rounds up to start + 2 ms
  EXPECT_EQ(t.deadline(), start + 2ms);
  clk.advance(1999us);  // now rounds down to start + 1 ms
  wheel.advance();
  EXPECT_EQ(fired, 0);
  clk.advance(1us);
  wheel.advance();
  EXPECT_EQ(fired, 1);
}

TEST_F(Timer, rearm_moves_the_deadline) {
  int fired = 0;
  timer t([&] { ++fired; });
  wheel.arm_in(t, 10ms);
  wheel.rearm_in(t, 500ms);  // later
  EXPECT_EQ(wheel.size(), 1u);
  EXPECT_EQ(step(100ms), 0u);
  wheel.rearm_in(t, 5ms);  // earlier than it was
  EXPECT_EQ(step(5ms), 1u);
  EXPECT_EQ(fired, 1);
  EXPECT_EQ(step(1s), 0u);
  wheel.rearm_in(t, 1ms);  // rearm of a disarmed timer arms it
  EXPECT_EQ(step(1ms), 1u);
  EXPECT_EQ(fired, 2);
}

TEST_F(Timer, cancel_prevents_firing) {
  int fired = 0;
  timer t([&] { ++fired; });
  timer u([&] { ++fired; });
  wheel.arm_in(t, 10ms);
  wheel.arm_in(u, 10h);
  EXPECT_TRUE(t.cancel());
  EXPECT_FALSE(t.cancel());
  EXPECT_TRUE(wheel.cancel(u));
  EXPECT_TRUE(wheel.empty());
  EXPECT_EQ(wheel.next_deadline(), std::nullopt);
  EXPECT_EQ(step(20h), 0u);
  EXPECT_EQ(fired, 0);
}

TEST_F(Timer, destroying_an_armed_timer_cancels_it) {
  int fired = 0;
  {
    timer t([&] { ++fired; });
    wheel.arm_in(t, 10ms);
    EXPECT_EQ(wheel.size(), 1u);
  }
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_EQ(wheel.next_deadline(), std::nullopt);
  EXPECT_EQ(step(1s), 0u);
  EXPECT_EQ(fired, 0);
}

TEST_F(Timer, callback_cancels_a_timer_due_in_the_same_tick) {
  std::vector<int> order;
  timer a, b, c;
  // Whichever of a and b fires first cancels the other: exactly one fires.
  a.set_callback([&] {
    order.push_back(1);
    b.cancel();
  });
  b.set_callback([&] {
    order.push_back(2);
    a.cancel();
  });
  c.set_callback([&] { order.push_back(3); });
  wheel.arm_in(a, 7ms);
  wheel.arm_in(b, 7ms);
  wheel.arm_in(c, 8ms);
  EXPECT_EQ(step(10ms), 2u);
  ASSERT_EQ(order.size(), 2u);
  EXPECT_NE(order[0], 3);
  EXPECT_EQ(order[1], 3);
  EXPECT_TRUE(wheel.empty());
}

TEST_F(Timer, callback_cancels_a_later_timer_and_destroys_its_own) {
  int fired = 0;
  auto later = std::make_unique<timer>([&] { ++fired; });
  auto self = std::make_unique<timer>();
  self->set_callback([&] {
    later->cancel();
    self.reset();  // the callback's own timer dies while it runs
  });
  wheel.arm_in(*later, 200ms);
  wheel.arm_in(*self, 100ms);
  EXPECT_EQ(step(1s), 1u);
  EXPECT_EQ(self, nullptr);
  EXPECT_EQ(fired, 0);
  EXPECT_TRUE(wheel.empty());
}

TEST_F(Timer, callback_rearms_itself_periodically) {
  std::vector<time_point> fires;
  timer t;
  t.set_callback([&] {
    fires.push_back(wheel.current());
    if (fires.size() < 5) wheel.arm(t, wheel.current() + 30ms);
  });
  wheel.arm_in(t, 30ms);
  EXPECT_EQ(step(1s), 5u);  // all five periods fit in one advance
  ASSERT_EQ(fires.size(), 5u);
  for (std::size_t i = 0; i < fires.size(); ++i) {
    EXPECT_EQ(fires[i], start + 30ms * static_cast<int>(i + 1));
  }
  EXPECT_FALSE(t.armed());
}

TEST_F(Timer, rearm_for_now_from_a_callback_waits_for_the_next_advance) {
  int fired = 0;
  timer t;
  t.set_callback([&] {
    ++fired;
    wheel.arm(t, wheel.current());  // already due: must not loop inside this advance
  });
  wheel.arm_in(t, 1ms);
  EXPECT_EQ(step(1ms), 1u);
  EXPECT_TRUE(t.armed());
  EXPECT_EQ(wheel.next_deadline(), wheel.current());
  EXPECT_EQ(wheel.advance(), 1u);  // same time, fires again once
  EXPECT_EQ(fired, 2);
  t.cancel();
}

TEST_F(Timer, overdue_timers_fire_first_in_arm_order) {
  std::vector<int> order;
  timer a([&] { order.push_back(1); });
  timer b([&] { order.push_back(2); });
  timer c([&] { order.push_back(3); });
  wheel.arm_in(c, 1ms);
  wheel.arm(a, start - 5s);  // in the past
  wheel.arm(b, start - 10s);
  EXPECT_EQ(wheel.next_deadline(), start);
  EXPECT_EQ(step(1ms), 3u);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST_F(Timer, far_deadlines_cascade_to_the_exact_tick) {
  struct expectation {
    clock::duration delay;
    int fired = 0;
    time_point at{};
    timer t;
  };
  const clock::duration delays[] = {63ms,   64ms, 65ms,       4095ms,        4096ms,
                                    4097ms, 1h,   26h + 17ms, 7 * 24h + 3ms, 400 * 24h + 1ms};
  std::vector<std::unique_ptr<expectation>> items;
  for (auto d : delays) {
    auto e = std::make_unique<expectation>();
    e->delay = d;
    e->t.set_callback([&wheel = wheel, p = e.get()] {
      ++p->fired;
      p->at = wheel.current();
    });
    wheel.arm_in(e->t, d);
    items.push_back(std::move(e));
  }
  // Drive it as a reactor would: sleep until next_deadline(), advance, repeat.
  std::size_t wakeups = 0;
  while (auto next = wheel.next_deadline()) {
    ASSERT_GE(*next, clk.now());
    clk.set(*next);
    wheel.advance();
    ++wakeups;
  }
  for (const auto& e : items) {
    EXPECT_EQ(e->fired, 1) << e->delay.count();
    EXPECT_EQ(e->at, start + e->delay) << e->delay.count();
  }
  // Early wake-ups are bounded: one per level crossed per timer at worst.
  EXPECT_LE(wakeups, std::size(delays) * timer_wheel::levels);
}

TEST_F(Timer, next_deadline_is_a_tight_lower_bound) {
  EXPECT_EQ(wheel.next_deadline(), std::nullopt);
  timer near, far;
  near.set_callback([] {});
  far.set_callback([] {});
  // A level-0 deadline (same 64 ms block: start is 37 mod 64) is exact.
  wheel.arm_in(near, 20ms);
  EXPECT_EQ(wheel.next_deadline(), start + 20ms);
  wheel.arm_in(far, 10s);
  EXPECT_EQ(wheel.next_deadline(), start + 20ms);
  near.cancel();
  // A far deadline answers with a bucket start: earlier, never later.
  auto next = wheel.next_deadline();
  ASSERT_TRUE(next.has_value());
  EXPECT_LE(*next, start + 10s);
  EXPECT_GT(*next, start);
  // Following it converges on the exact deadline without firing anything early.
  while (*next < start + 10s) {
    clk.set(*next);
    EXPECT_EQ(wheel.advance(), 0u);
    next = wheel.next_deadline();
    ASSERT_TRUE(next.has_value());
  }
  EXPECT_EQ(*next, start + 10s);
  clk.set(*next);
  EXPECT_EQ(wheel.advance(), 1u);
  EXPECT_EQ(wheel.next_deadline(), std::nullopt);
}

TEST_F(Timer, many_random_timers_each_fire_once_at_their_tick) {
  constexpr std::size_t count = 100'000;
  struct item {
    std::uint64_t due = 0;  // ms after start
    std::uint64_t fired_at = 0;
    int fired = 0;
    timer t;
  };
  auto items = std::make_unique<item[]>(count);
  std::mt19937_64 rng(12345);
  // Mostly near deadlines, some up to a day away, so every path (level 0, cascades) is hit.
  std::uniform_int_distribution<std::uint64_t> near(0, 5'000), far(0, 86'400'000);
  std::vector<bool> cancelled(count, false);
  struct order_check {
    timer_wheel* wheel;
    std::uint64_t last_due = 0;
    bool in_order = true;
  } check{&wheel};
  for (std::size_t i = 0; i < count; ++i) {
    item& it = items[i];
    it.due = (i % 10 == 0) ? far(rng) : near(rng);
    it.t.set_callback([c = &check, p = &it] {
      ++p->fired;
      p->fired_at = static_cast<std::uint64_t>((c->wheel->current() - start) / 1ms);
      if (p->due < c->last_due) c->in_order = false;
      c->last_due = p->due;
    });
    wheel.arm(it.t, start + milliseconds(it.due));
  }
  // Cancel every 7th: they must never fire.
  for (std::size_t i = 0; i < count; i += 7) {
    items[i].t.cancel();
    cancelled[i] = true;
  }
  // Uneven steps, up to a few seconds each, then jumps.
  std::uniform_int_distribution<int> step_ms(1, 3'000);
  while (clk.now() < start + 25h) {
    step(milliseconds(clk.now() < start + 6s ? step_ms(rng) : step_ms(rng) * 1'000));
  }
  EXPECT_TRUE(check.in_order);
  EXPECT_TRUE(wheel.empty());
  for (std::size_t i = 0; i < count; ++i) {
    if (cancelled[i]) {
      ASSERT_EQ(items[i].fired, 0) << i;
    } else {
      ASSERT_EQ(items[i].fired, 1) << i;
      ASSERT_EQ(items[i].fired_at, items[i].due) << i;
    }
  }
}

TEST_F(Timer, many_random_timers_fire_at_exact_ticks_when_driven_by_next_deadline) {
  constexpr std::size_t count = 20'000;
  struct item {
    std::uint64_t due = 0;
    std::uint64_t fired_at = 0;
    int fired = 0;
    timer t;
  };
  auto items = std::make_unique<item[]>(count);
  std::mt19937_64 rng(777);
  std::uniform_int_distribution<std::uint64_t> due(1, 10'000'000);
  for (std::size_t i = 0; i < count; ++i) {
    item& it = items[i];
    it.due = due(rng);
    it.t.set_callback([&wheel = wheel, p = &it] {
      ++p->fired;
      p->fired_at = static_cast<std::uint64_t>((wheel.current() - start) / 1ms);
    });
    wheel.arm(it.t, start + milliseconds(it.due));
  }
  while (auto next = wheel.next_deadline()) {
    clk.set(*next);
    wheel.advance();
  }
  for (std::size_t i = 0; i < count; ++i) {
    ASSERT_EQ(items[i].fired, 1) << i;
    ASSERT_EQ(items[i].fired_at, items[i].due) << i;
  }
}

TEST_F(Timer, destroying_the_wheel_disarms_its_timers) {
  int fired = 0;
  timer t([&] { ++fired; });
  {
    timer_wheel other(clk);
    other.arm_in(t, 5ms);
    EXPECT_TRUE(t.armed());
  }
  EXPECT_FALSE(t.armed());
  EXPECT_FALSE(t.cancel());
  wheel.arm_in(t, 5ms);  // usable on another wheel afterwards
  EXPECT_EQ(step(5ms), 1u);
  EXPECT_EQ(fired, 1);
}

TEST(TimerClock, default_clock_is_monotonic) {
  timer_wheel wheel;  // production: steady_clock
  const auto a = wheel.now();
  const auto b = wheel.now();
  EXPECT_LE(a, b);
  int fired = 0;
  timer t([&] { ++fired; });
  wheel.arm_in(t, 2ms);
  // Rounding: a deadline rounds up to the next ms and now rounds down, so it is not due yet.
  EXPECT_EQ(wheel.advance(), 0u);
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  while (fired == 0 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(1ms);
    wheel.advance();
  }
  EXPECT_EQ(fired, 1);
  EXPECT_GE(wheel.current(), t.deadline());
}

TEST_F(Timer, arm_rearm_cancel_and_advance_allocate_nothing) {
  constexpr std::size_t count = 10'000;
  std::size_t fired = 0;
  auto timers = std::make_unique<timer[]>(count);
  for (std::size_t i = 0; i < count; ++i)
    timers[i].set_callback([&fired] { ++fired; });
  std::mt19937_64 rng(99);
  std::uniform_int_distribution<int> delay(0, 100'000'000);  // up to ~28 hours

  dev::allocation_scope scope;
  for (std::size_t i = 0; i < count; ++i)
    wheel.arm_in(timers[i], milliseconds(delay(rng)));
  for (std::size_t i = 0; i < count; i += 3)
    wheel.rearm_in(timers[i], milliseconds(delay(rng)));
  for (std::size_t i = 0; i < count; i += 5)
    timers[i].cancel();
  while (auto next = wheel.next_deadline()) {
    clk.set(*next);
    wheel.advance();
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(scope.bytes(), 0u);
  dev::do_not_optimize(fired);
  EXPECT_EQ(fired, count - (count + 4) / 5);
}

}  // namespace
}  // namespace uredis::reactor

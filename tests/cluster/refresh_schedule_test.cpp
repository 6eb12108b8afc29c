// refresh_schedule: requests coalesce into one refresh, one in flight at a time with a single
// follow-up, starts at least min_interval apart, jitter within its bound, failures retried
// with the backoff's delays, success resetting the count, and a node that stays down polled
// less and less often.

#include "uredis/cluster/refresh_schedule.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace uredis::cluster {
namespace {

using namespace std::chrono_literals;
using time_point = refresh_schedule::time_point;

const time_point t0 = time_point{} + 1000s;

refresh_options no_jitter() {
  refresh_options o;
  o.jitter = 0ns;
  o.min_interval = 100ms;
  o.failure_backoff = retry::backoff::exponential(10ms, 1s);
  o.poll_backoff = retry::backoff::exponential(10ms, 1s);
  return o;
}

TEST(RefreshSchedule, idle_until_requested) {
  util::rng rng(1);
  refresh_schedule s(no_jitter(), rng);
  EXPECT_FALSE(s.next().has_value());
  EXPECT_FALSE(s.start(t0));
}

TEST(RefreshSchedule, a_burst_of_requests_is_one_refresh) {
  util::rng rng(1);
  refresh_schedule s(no_jitter(), rng);
  for (int i = 0; i < 1000; ++i)
    s.request(t0 + std::chrono::microseconds(i));
  ASSERT_EQ(s.next(), t0);
  EXPECT_TRUE(s.start(t0 + 1ms));
  EXPECT_FALSE(s.start(t0 + 2ms)) << "one in flight at a time";
  EXPECT_FALSE(s.next().has_value());
  s.succeeded(t0 + 3ms);
  EXPECT_FALSE(s.next().has_value()) << "nothing was requested during the refresh";
}

TEST(RefreshSchedule, requests_during_a_refresh_make_one_more_after_min_interval) {
  util::rng rng(1);
  refresh_schedule s(no_jitter(), rng);
  s.request(t0);
  ASSERT_TRUE(s.start(t0));
  s.request(t0 + 1ms);
  s.request(t0 + 2ms);
  s.succeeded(t0 + 5ms);
  ASSERT_TRUE(s.next().has_value());
  EXPECT_EQ(*s.next(), t0 + 100ms) << "no sooner than min_interval after the last start";
  EXPECT_FALSE(s.start(t0 + 99ms));
  EXPECT_TRUE(s.start(t0 + 100ms));
  s.succeeded(t0 + 101ms);
  EXPECT_FALSE(s.next().has_value()) << "one follow-up, not one per request";
}

TEST(RefreshSchedule, a_request_soon_after_a_refresh_waits_for_min_interval) {
  util::rng rng(1);
  refresh_schedule s(no_jitter(), rng);
  s.request(t0);
  ASSERT_TRUE(s.start(t0));
  s.succeeded(t0 + 1ms);
  s.request(t0 + 10ms);
  EXPECT_EQ(s.next(), t0 + 100ms);
  s.succeeded(t0 + 20ms);  // ignored: nothing in flight
  EXPECT_EQ(s.next(), t0 + 100ms);
}

TEST(RefreshSchedule, failures_are_retried_with_the_backoff_and_success_resets_them) {
  util::rng rng(1);
  refresh_options o = no_jitter();
  o.min_interval = 0ns;
  refresh_schedule s(o, rng);
  s.request(t0);
  time_point now = t0;
  for (std::uint32_t f = 1; f <= 4; ++f) {
    ASSERT_TRUE(s.start(now));
    s.request(now);  // asked again meanwhile: the retry answers it
    s.failed(now);
    EXPECT_EQ(s.failures(), f);
    ASSERT_TRUE(s.next().has_value());
    const auto delay = *s.next() - now;
    EXPECT_EQ(delay, std::chrono::nanoseconds(10ms) * (1 << f)) << "exponential: base * 2^f";
    now = *s.next();
  }
  ASSERT_TRUE(s.start(now));
  s.succeeded(now);
  EXPECT_EQ(s.failures(), 0u);
  EXPECT_FALSE(s.next().has_value());
}

TEST(RefreshSchedule, a_node_still_down_is_polled_less_and_less_often_until_asked) {
  util::rng rng(1);
  refresh_schedule s(no_jitter(), rng);
  s.request(t0);
  ASSERT_TRUE(s.start(t0));
  time_point started = t0;
  std::vector<std::chrono::nanoseconds> waits;
  for (int i = 0; i < 9; ++i) {
    // Each answer, 1 ms later, still names a node that is down.
    const time_point answered = started + 1ms;
    s.succeeded(answered);
    s.poll_while_down(answered);
    ASSERT_TRUE(s.next().has_value());
    waits.push_back(*s.next() - answered);
    started = *s.next();
    ASSERT_TRUE(s.start(started));
  }
  // The backoff's doubling (20 ms, 40 ms... held to min_interval after a start) up to its
  // 1 s cap.
  EXPECT_EQ(waits[0], 99ms);
  EXPECT_EQ(waits[3], 160ms);
  EXPECT_EQ(waits[4], 320ms);
  EXPECT_EQ(waits[6], 1s);
  EXPECT_EQ(waits[8], 1s);
  // A request meanwhile (a MOVED) does not wait for the poll.
  const time_point answered = started + 1ms;
  s.succeeded(answered);
  s.poll_while_down(answered);
  ASSERT_EQ(s.next(), answered + 1s);
  s.remind(answered + 100ms);  // the node's connection failed again: the poll answers it
  EXPECT_EQ(s.next(), answered + 1s);
  s.request(answered + 200ms);
  EXPECT_EQ(s.next(), answered + 200ms);
  // Settled: the next poll starts again from the shortest wait.
  ASSERT_TRUE(s.start(answered + 200ms));
  s.succeeded(answered + 201ms);
  s.settled();
  s.poll_while_down(answered + 201ms);
  EXPECT_EQ(s.next(), answered + 300ms) << "20 ms, held to min_interval after the start";
}

TEST(RefreshSchedule, jitter_stays_within_its_bound_and_spreads) {
  util::rng rng(7);
  refresh_options o = no_jitter();
  o.jitter = 20ms;
  o.min_interval = 0ns;
  time_point earliest = t0 + 1h, latest = t0;
  for (int i = 0; i < 200; ++i) {
    refresh_schedule s(o, rng);
    s.request(t0);
    ASSERT_TRUE(s.next().has_value());
    EXPECT_GE(*s.next(), t0);
    EXPECT_LT(*s.next(), t0 + 20ms);
    earliest = std::min(earliest, *s.next());
    latest = std::max(latest, *s.next());
  }
  EXPECT_GT(latest - earliest, 10ms) << "200 draws should spread over most of the window";
}

}  // namespace
}  // namespace uredis::cluster

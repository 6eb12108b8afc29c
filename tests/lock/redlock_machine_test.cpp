// lock::redlock_machine with a manual clock and synthetic per-instance replies: quorum reached
// and missed (release on all), validity accounting, the per-instance timeout, retries while
// waiting, the watchdog's quorum and loss, fencing as the maximum, and refused instance counts.

#include "uredis/lock/redlock_machine.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <vector>

#include "uredis/error.hpp"
#include "uredis/util/clock.hpp"

namespace uredis::lock {
namespace {

using namespace std::chrono_literals;
using command = redlock_machine::command;
using time_point = util::clock::time_point;

// A harness: the machine, a manual clock, and the commands handed out and not answered yet.
class RedlockMachine : public ::testing::Test {
 protected:
  void make(std::size_t n, lock_options o = {.ttl = 10'000ms, .seed = 7},
            std::chrono::milliseconds instance_timeout = 50ms) {
    m.emplace(n, o, instance_timeout);
  }

  // Takes every command due now; returns them (also kept in `sent` by instance).
  std::vector<redlock_machine::send> take() {
    std::vector<redlock_machine::send> out;
    while (auto s = m->take_command(clock.now())) {
      out.push_back(*s);
      sent[s->instance] = *s;
    }
    return out;
  }
  void reply(std::size_t i, result<std::int64_t> r) {
    ASSERT_TRUE(sent.count(i)) << "nothing sent to instance " << i;
    m->on_reply(clock.now(), i, sent[i].seq, r);
    sent.erase(i);
  }
  void advance(std::chrono::milliseconds d) {
    clock.advance(d);
    m->on_timer(clock.now());
  }
  // Runs the timer whenever it is due, up to `until` from now.
  void run_for(std::chrono::milliseconds d) {
    const time_point end = clock.now() + d;
    while (auto at = m->wake_at()) {
      if (*at > end) break;
      clock.set(std::max(*at, clock.now()));
      m->on_timer(clock.now());
    }
    clock.set(end);
  }
  static std::vector<command> kinds(const std::vector<redlock_machine::send>& v) {
    std::vector<command> k;
    for (const auto& s : v)
      k.push_back(s.what);
    return k;
  }
  static std::vector<command> all(std::size_t n, command c) { return std::vector<command>(n, c); }

  static result<std::int64_t> failed(errc e) { return result<std::int64_t>(make_error_code(e)); }

  util::manual_clock clock{time_point{} + 1h};
  std::optional<redlock_machine> m;
  std::map<std::size_t, redlock_machine::send> sent;
};

TEST_F(RedlockMachine, refuses_even_or_too_few_instances) {
  for (std::size_t n : {0u, 1u, 2u, 4u, 6u}) {
    make(n);
    m->acquire(clock.now(), no_wait);
    const auto got = m->take_acquire_result();
    ASSERT_TRUE(got.has_value()) << n;
    ASSERT_FALSE(*got) << n;
    EXPECT_EQ(got->error(), std::make_error_code(std::errc::invalid_argument)) << n;
    EXPECT_TRUE(take().empty());
    EXPECT_EQ(m->state(), lock_state::idle);
  }
  EXPECT_TRUE(redlock_machine::valid_instance_count(3));
  EXPECT_TRUE(redlock_machine::valid_instance_count(5));
  EXPECT_FALSE(redlock_machine::valid_instance_count(4));
}

TEST_F(RedlockMachine, acquires_with_a_quorum_and_the_fence_is_the_maximum) {
  make(5);
  EXPECT_EQ(m->quorum(), 3u);
  m->acquire(clock.now(), no_wait);
  const auto out = take();
  ASSERT_EQ(kinds(out), all(5, command::acquire));
  EXPECT_EQ(out[0].ms, 10'000ms);
  clock.advance(5ms);
  reply(0, 7);
  reply(1, 0);  // busy there
  reply(2, 12);
  EXPECT_FALSE(m->take_acquire_result().has_value()) << "decided before every instance answered";
  reply(3, failed(errc::connection_refused));
  reply(4, 9);
  const auto got = m->take_acquire_result();
  ASSERT_TRUE(got && *got && **got);
  EXPECT_EQ(m->state(), lock_state::held);
  EXPECT_EQ(m->fencing_token(), 12u);
  // Validity counts from the round's start, less the drift: 10 s - 100 ms - 2 ms.
  EXPECT_EQ(m->valid_until(), time_point{} + 1h + 10'000ms - 102ms);
  EXPECT_TRUE(take().empty()) << "a won quorum releases nothing";
}

TEST_F(RedlockMachine, a_missed_quorum_releases_on_every_instance_then_answers_false) {
  make(5);
  m->acquire(clock.now(), no_wait);
  take();
  reply(0, 3);
  reply(1, 4);
  reply(2, 0);
  reply(3, 0);
  reply(4, 0);
  EXPECT_FALSE(m->take_acquire_result().has_value()) << "answered before the release round";
  const auto out = take();
  ASSERT_EQ(kinds(out), all(5, command::release)) << "busy ones included";
  EXPECT_EQ(m->state(), lock_state::acquiring);
  for (std::size_t i = 0; i < 5; ++i)
    reply(i, i < 2 ? 1 : 0);
  const auto got = m->take_acquire_result();
  ASSERT_TRUE(got && *got);
  EXPECT_FALSE(**got) << "refused by a majority: false, not an error";
  EXPECT_EQ(m->state(), lock_state::idle);
  EXPECT_TRUE(take().empty());
}

TEST_F(RedlockMachine, refused_everywhere_releases_nothing) {
  make(3);
  m->acquire(clock.now(), no_wait);
  take();
  for (std::size_t i = 0; i < 3; ++i)
    reply(i, 0);
  const auto got = m->take_acquire_result();
  ASSERT_TRUE(got && *got);
  EXPECT_FALSE(**got);
  EXPECT_TRUE(take().empty());
}

TEST_F(RedlockMachine, an_instance_past_its_timeout_counts_as_failed_and_is_released_too) {
  make(5);
  m->acquire(clock.now(), no_wait);
  take();
  reply(0, 1);
  reply(1, 1);
  reply(2, 0);
  // 3 and 4 never answer: the round ends at the per-instance timeout, not later.
  EXPECT_EQ(m->wake_at(), clock.now() + 50ms);
  advance(49ms);
  EXPECT_TRUE(take().empty());
  advance(1ms);
  const auto out = take();
  ASSERT_EQ(kinds(out), all(5, command::release)) << "the silent ones may have won: released";
  // Their late acquire replies are ignored.
  m->on_reply(clock.now(), 3, 4, 1);
  for (std::size_t i = 0; i < 5; ++i)
    reply(i, 0);
  const auto got = m->take_acquire_result();
  ASSERT_TRUE(got && *got);
  EXPECT_FALSE(**got) << "2 wins + 1 busy = 3 answers: refused, not unreachable";
}

TEST_F(RedlockMachine, a_quorum_that_cannot_be_reached_is_an_error) {
  make(5);
  m->acquire(clock.now(), no_wait);
  take();
  reply(0, 1);
  reply(1, 1);
  reply(2, failed(errc::connection_refused));
  reply(3, failed(errc::not_connected));
  advance(50ms);  // 4 times out
  take();         // the release round
  for (std::size_t i = 0; i < 5; ++i)
    reply(i, i < 2 ? 1 : 0);
  const auto got = m->take_acquire_result();
  ASSERT_TRUE(got.has_value());
  ASSERT_FALSE(*got);
  EXPECT_EQ(got->error(), make_error_code(errc::connection_refused)) << "the first failure";
  EXPECT_EQ(m->state(), lock_state::idle);
}

TEST_F(RedlockMachine, a_quorum_won_too_slowly_is_no_acquisition) {
  make(3, {.ttl = 100ms, .seed = 1}, 500ms);
  m->acquire(clock.now(), no_wait);
  take();
  reply(0, 5);
  reply(1, 6);
  // ttl - drift = 100 - 3 = 97 ms: a round ending then leaves no validity.
  clock.advance(97ms);
  reply(2, 7);
  ASSERT_FALSE(m->take_acquire_result().has_value());
  EXPECT_EQ(kinds(take()), all(3, command::release));
  for (std::size_t i = 0; i < 3; ++i)
    reply(i, 1);
  const auto got = m->take_acquire_result();
  ASSERT_TRUE(got && *got);
  EXPECT_FALSE(**got);
}

TEST_F(RedlockMachine, validity_shrinks_by_the_time_the_round_took) {
  make(3, {.ttl = 1000ms, .seed = 1}, 500ms);
  const time_point start = clock.now();
  m->acquire(start, no_wait);
  take();
  clock.advance(40ms);
  reply(0, 1);
  reply(1, 1);
  clock.advance(300ms);
  reply(2, 1);
  const auto got = m->take_acquire_result();
  ASSERT_TRUE(got && *got && **got);
  EXPECT_EQ(m->valid_until(), start + 1000ms - 12ms);
  EXPECT_EQ(m->valid_until() - clock.now(), 1000ms - 340ms - 12ms)
      << "validity = ttl-elapsed-drift";
}

TEST_F(RedlockMachine, retries_at_a_jittered_delay_while_waiting_then_wins) {
  make(3, {.ttl = 10'000ms, .retry_min = 10ms, .retry_max = 30ms, .seed = 3});
  m->acquire(clock.now(), 1000ms);
  take();
  for (std::size_t i = 0; i < 3; ++i)
    reply(i, 0);
  EXPECT_FALSE(m->take_acquire_result().has_value()) << "still waiting";
  EXPECT_TRUE(take().empty());
  const auto at = m->wake_at();
  ASSERT_TRUE(at.has_value());
  EXPECT_GE(*at - clock.now(), 10ms);
  EXPECT_LE(*at - clock.now(), 30ms);
  clock.set(*at);
  m->on_timer(clock.now());
  ASSERT_EQ(kinds(take()), all(3, command::acquire));
  reply(0, 8);
  reply(1, 0);
  reply(2, 9);
  const auto got = m->take_acquire_result();
  ASSERT_TRUE(got && *got && **got);
  EXPECT_EQ(m->fencing_token(), 9u);
}

TEST_F(RedlockMachine, the_last_try_is_at_the_deadline_then_false) {
  make(3, {.ttl = 10'000ms, .retry_min = 40ms, .retry_max = 40ms, .seed = 3});
  const time_point start = clock.now();
  m->acquire(start, 100ms);
  int attempts = 0;
  std::optional<result<bool>> got;
  while (!got) {
    const auto out = take();
    if (!out.empty()) {
      EXPECT_EQ(out[0].what, command::acquire);
      ++attempts;
      for (std::size_t i = 0; i < 3; ++i)
        reply(i, 0);
    }
    got = m->take_acquire_result();
    if (got) break;
    const auto at = m->wake_at();
    ASSERT_TRUE(at.has_value());
    clock.set(*at);
    m->on_timer(clock.now());
  }
  EXPECT_EQ(attempts, 4) << "at 0, 40, 80 and the deadline (100)";
  EXPECT_EQ(clock.now(), start + 100ms);
  ASSERT_TRUE(*got);
  EXPECT_FALSE(**got);
}

TEST_F(RedlockMachine, the_watchdog_extends_on_all_and_keeps_the_lock_with_a_quorum) {
  make(5, {.ttl = 3000ms, .seed = 1});
  const time_point start = clock.now();
  m->acquire(start, no_wait);
  take();
  for (std::size_t i = 0; i < 5; ++i)
    reply(i, i + 1);
  ASSERT_TRUE(*m->take_acquire_result());
  EXPECT_EQ(m->wake_at(), start + 1000ms) << "ttl / 3 after the round's start";
  advance(1000ms);
  const auto out = take();
  ASSERT_EQ(kinds(out), all(5, command::extend));
  EXPECT_EQ(out[0].ms, 3000ms);
  EXPECT_TRUE(out[0].replace);
  clock.advance(10ms);
  reply(0, 3000);
  reply(1, 2990);
  reply(2, failed(errc::timeout));
  reply(3, 0);
  reply(4, 2995);
  EXPECT_EQ(m->state(), lock_state::held);
  // The quorum-th longest answer (2990) from the round's start, less the drift (32 ms).
  EXPECT_EQ(m->valid_until(), start + 1000ms + 2990ms - 32ms);
  EXPECT_EQ(m->wake_at(), start + 2000ms);
  EXPECT_FALSE(m->take_lost().has_value());
}

TEST_F(RedlockMachine, the_lock_is_lost_when_a_quorum_says_not_ours) {
  make(5, {.ttl = 3000ms, .seed = 1});
  m->acquire(clock.now(), no_wait);
  take();
  for (std::size_t i = 0; i < 5; ++i)
    reply(i, 1);
  ASSERT_TRUE(*m->take_acquire_result());
  advance(1000ms);
  take();
  reply(0, 0);
  reply(1, 0);
  reply(2, 2000);
  EXPECT_EQ(m->state(), lock_state::held) << "2 of 5 gone: a quorum may still answer";
  reply(3, 0);
  EXPECT_EQ(m->state(), lock_state::lost) << "3 of 5 not ours: lost without waiting for 4";
  EXPECT_EQ(m->take_lost(), make_error_code(errc::lock_not_owned));
  reply(4, 3000);  // superseded: ignored
  EXPECT_EQ(m->state(), lock_state::lost);
}

TEST_F(RedlockMachine, failed_extends_retry_until_valid_until_then_the_lock_is_lost) {
  make(3, {.ttl = 3000ms, .retry_max = 100ms, .seed = 1});
  const time_point start = clock.now();
  m->acquire(start, no_wait);
  take();
  for (std::size_t i = 0; i < 3; ++i)
    reply(i, 1);
  ASSERT_TRUE(*m->take_acquire_result());
  const time_point valid = m->valid_until();
  EXPECT_EQ(valid, start + 3000ms - 32ms);
  int rounds = 0;
  while (m->state() == lock_state::held) {
    const auto out = take();
    if (!out.empty()) {
      ++rounds;
      for (const auto& s : out)
        reply(s.instance, failed(errc::not_connected));
      EXPECT_EQ(m->valid_until(), valid) << "failures do not shorten or lengthen it";
    }
    const auto at = m->wake_at();
    ASSERT_TRUE(at.has_value());
    clock.set(*at);
    m->on_timer(clock.now());
  }
  EXPECT_EQ(clock.now(), valid);
  EXPECT_EQ(m->state(), lock_state::lost);
  EXPECT_EQ(m->take_lost(), make_error_code(errc::not_connected));
  EXPECT_GE(rounds, 15) << "every retry_max from ttl/3 on";
  // A release after the loss still goes to all (compare-and-delete).
  m->release(clock.now());
  EXPECT_EQ(kinds(take()), all(3, command::release));
  for (std::size_t i = 0; i < 3; ++i)
    reply(i, i == 0 ? 1 : 0);
  const auto r = m->take_release_result();
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(*r) << "one key of ours was still there";
}

TEST_F(RedlockMachine, timed_out_extends_lose_the_lock_at_valid_until) {
  make(3, {.ttl = 300ms, .retry_max = 50ms, .seed = 1}, 20ms);
  m->acquire(clock.now(), no_wait);
  take();
  for (std::size_t i = 0; i < 3; ++i)
    reply(i, 1);
  ASSERT_TRUE(*m->take_acquire_result());
  run_for(400ms);  // nothing ever answers
  EXPECT_EQ(m->state(), lock_state::lost);
  EXPECT_EQ(m->take_lost(), make_error_code(errc::timeout));
}

TEST_F(RedlockMachine, extend_and_release_go_to_all_instances) {
  make(3, {.ttl = 10'000ms, .watchdog = false, .seed = 1});
  const time_point start = clock.now();
  m->acquire(start, no_wait);
  take();
  for (std::size_t i = 0; i < 3; ++i)
    reply(i, 1);
  ASSERT_TRUE(*m->take_acquire_result());
  EXPECT_EQ(m->wake_at(), m->valid_until()) << "no watchdog: only the validity's end";
  clock.advance(1000ms);
  m->extend(clock.now(), 5000ms, false);
  const auto out = take();
  ASSERT_EQ(kinds(out), all(3, command::extend));
  EXPECT_EQ(out[0].ms, 5000ms);
  EXPECT_FALSE(out[0].replace);
  reply(0, 14'000);
  reply(1, 14'000);
  reply(2, 13'990);
  const auto e = m->take_extend_result();
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(*e);
  EXPECT_EQ(m->valid_until(), start + 1000ms + 14'000ms - 102ms);
  m->release(clock.now());
  EXPECT_EQ(kinds(take()), all(3, command::release));
  EXPECT_EQ(m->state(), lock_state::releasing);
  reply(0, 1);
  reply(1, failed(errc::timeout));
  reply(2, 1);
  const auto r = m->take_release_result();
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(*r);
  EXPECT_EQ(m->state(), lock_state::released);
  m->release(clock.now());
  const auto again = m->take_release_result();
  ASSERT_TRUE(again.has_value());
  ASSERT_FALSE(*again);
  EXPECT_EQ(again->error(), make_error_code(errc::lock_not_owned));
}

TEST_F(RedlockMachine, cancelling_an_acquire_in_flight_releases_on_all) {
  make(3);
  m->acquire(clock.now(), wait_forever);
  take();
  reply(0, 1);
  m->cancel_acquire(clock.now());
  const auto got = m->take_acquire_result();
  ASSERT_TRUE(got && *got);
  EXPECT_FALSE(**got);
  EXPECT_EQ(kinds(take()), all(3, command::release));
  m->on_reply(clock.now(), 1, 2, 1);  // the acquire's late win: superseded, ignored
  reply(1, 1);
  reply(0, 1);
  reply(2, 0);
  EXPECT_EQ(m->state(), lock_state::idle);
  EXPECT_FALSE(m->take_release_result().has_value()) << "nobody asked";
}

}  // namespace
}  // namespace uredis::lock

// lock::machine with a manual clock and the servers' replies as RESP bytes: what it sends when,
// how it waits, renews, loses and releases, and that a caller who gives up leaves nothing held.

#include "uredis/lock/machine.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string_view>

#include "uredis/error.hpp"
#include "uredis/resp/adapter.hpp"
#include "uredis/util/clock.hpp"

namespace uredis::lock {
namespace {

using namespace std::chrono_literals;
using command = machine::command;

// A reply as the server would send it, read the way the driver reads it.
result<std::int64_t> reply(std::string_view bytes) {
  return resp::read_reply<std::int64_t>(bytes);
}
result<std::int64_t> lost_connection() {
  return result<std::int64_t>(errc::outcome_unknown);
}

class Machine : public ::testing::Test {
 protected:
  lock_options options(std::chrono::milliseconds ttl = 3000ms) {
    lock_options o;
    o.ttl = ttl;
    o.retry_min = 10ms;
    o.retry_max = 20ms;
    o.seed = 7;
    return o;
  }

  command take() { return m.take_command(clock.now()); }
  void answer(std::string_view bytes) { m.on_reply(clock.now(), reply(bytes)); }
  void tick(std::chrono::milliseconds d) {
    clock.advance(d);
    m.on_timer(clock.now());
  }
  // Holds the lock with fencing token `fence`, acquired now.
  void hold(std::int64_t fence = 1) {
    m.acquire(clock.now(), no_wait);
    ASSERT_EQ(take(), command::acquire);
    answer(":" + std::to_string(fence) + "\r\n");
    ASSERT_EQ(m.state(), lock_state::held);
    ASSERT_TRUE(*m.take_acquire_result());
  }

  util::manual_clock clock{util::clock::time_point(1h)};
  machine m{options()};
};

TEST_F(Machine, acquires_with_the_fencing_token_and_a_conservative_validity) {
  const auto start = clock.now();
  m.acquire(start, no_wait);
  EXPECT_EQ(m.state(), lock_state::acquiring);
  EXPECT_EQ(take(), command::acquire);
  EXPECT_EQ(m.command_ms(), 3000ms);
  EXPECT_EQ(take(), command::none) << "one command in flight at a time";
  clock.advance(5ms);  // the reply's delay does not count in the lock's favour
  answer(":42\r\n");
  EXPECT_EQ(m.state(), lock_state::held);
  EXPECT_EQ(m.fencing_token(), 42u);
  EXPECT_EQ(m.valid_until(), start + 3000ms - clock_drift(3000ms));
  EXPECT_EQ(clock_drift(3000ms), 32ms);
  const auto got = m.take_acquire_result();
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(**got);
}

TEST_F(Machine, one_try_that_finds_it_busy_answers_false) {
  m.acquire(clock.now(), no_wait);
  take();
  answer(":0\r\n");
  EXPECT_EQ(m.state(), lock_state::idle);
  const auto got = m.take_acquire_result();
  ASSERT_TRUE(got.has_value() && got->has_value());
  EXPECT_FALSE(**got);
  EXPECT_FALSE(m.wake_at().has_value());
}

TEST_F(Machine, an_error_reply_fails_the_acquire_with_the_server_error) {
  m.acquire(clock.now(), 1000ms);
  take();
  answer("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
  const auto got = m.take_acquire_result();
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->has_server_error());
  EXPECT_EQ(got->server_error().kind, server_error_kind::wrongtype);
  EXPECT_EQ(m.state(), lock_state::idle);
}

// Won, but answered after the validity it would have had ran out (a reply that waited out a
// long reconnect): not trusted. The acquire fails with errc::timeout and the key, ours on the
// server, is given back at once instead of staying until its ttl.
TEST_F(Machine, an_acquire_answered_after_its_validity_ran_out_is_given_back) {
  m.acquire(clock.now(), no_wait);
  ASSERT_EQ(take(), command::acquire);
  clock.advance(3000ms - clock_drift(3000ms));
  answer(":5\r\n");
  const auto got = m.take_acquire_result();
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->has_error());
  EXPECT_EQ(got->error(), make_error_code(errc::timeout));
  EXPECT_EQ(m.state(), lock_state::releasing);
  EXPECT_EQ(take(), command::release);
  answer(":1\r\n");
  EXPECT_EQ(m.state(), lock_state::released);
}

// No answer (the connection gave up on the command, or its timeout ran out): the script may
// have run and left our token on the key, so the acquire's error comes with a release, which
// deletes the key only if it is ours.
TEST_F(Machine, an_acquire_lost_on_the_connection_releases_what_it_may_have_won) {
  m.acquire(clock.now(), 1000ms);
  ASSERT_EQ(take(), command::acquire);
  m.on_reply(clock.now(), result<std::int64_t>(make_error_code(errc::outcome_unknown)));
  const auto got = m.take_acquire_result();
  ASSERT_TRUE(got.has_value() && got->has_error());
  EXPECT_EQ(got->error(), make_error_code(errc::outcome_unknown));
  EXPECT_EQ(m.state(), lock_state::releasing);
  EXPECT_EQ(take(), command::release);
  answer(":0\r\n");  // it had not run: nothing was ours
  EXPECT_EQ(m.state(), lock_state::released);
}

TEST_F(Machine, waiting_retries_on_a_jittered_timer_within_the_bounds) {
  m.acquire(clock.now(), 1000ms);
  take();
  answer(":0\r\n");
  EXPECT_EQ(m.state(), lock_state::acquiring);
  ASSERT_TRUE(m.wake_at().has_value());
  const auto delay = *m.wake_at() - clock.now();
  EXPECT_GE(delay, 10ms);
  EXPECT_LE(delay, 20ms);
  EXPECT_EQ(take(), command::none) << "not before the delay";
  clock.set(*m.wake_at());
  EXPECT_EQ(take(), command::acquire);
  answer(":5\r\n");
  EXPECT_TRUE(m.held());
}

TEST_F(Machine, a_release_notice_makes_a_waiter_try_at_once) {
  m.acquire(clock.now(), wait_forever);
  take();
  answer(":0\r\n");
  m.on_released();
  EXPECT_EQ(take(), command::acquire);
}

TEST_F(Machine, a_notice_during_a_try_makes_the_next_try_immediate) {
  m.acquire(clock.now(), wait_forever);
  take();
  m.on_released();  // the release raced the busy answer
  answer(":0\r\n");
  EXPECT_EQ(take(), command::acquire) << "no jitter delay after a notice";
}

TEST_F(Machine, the_last_try_is_made_at_the_deadline_then_it_gives_up) {
  m.acquire(clock.now(), 15ms);
  int tries = 0;
  for (int i = 0; i < 10 && m.state() == lock_state::acquiring; ++i) {
    if (const auto at = m.wake_at()) clock.set(std::max(clock.now(), *at));
    if (take() != command::acquire) continue;
    ++tries;
    answer(":0\r\n");
  }
  EXPECT_GE(tries, 2);
  EXPECT_EQ(m.state(), lock_state::idle);
  EXPECT_EQ(clock.now(), util::clock::time_point(1h) + 15ms) << "the last try was at the deadline";
  EXPECT_FALSE(**m.take_acquire_result());
}

TEST_F(Machine, the_watchdog_extends_every_third_of_the_ttl) {
  hold();
  const auto acquired = clock.now();
  ASSERT_TRUE(m.wake_at().has_value());
  EXPECT_EQ(*m.wake_at(), acquired + 1000ms);
  tick(999ms);
  EXPECT_EQ(take(), command::none);
  tick(1ms);
  EXPECT_EQ(take(), command::extend);
  EXPECT_EQ(m.command_ms(), 3000ms);
  EXPECT_TRUE(m.command_replaces());
  answer(":3000\r\n");
  EXPECT_EQ(m.valid_until(), acquired + 1000ms + 3000ms - 32ms);
  EXPECT_EQ(*m.wake_at(), acquired + 2000ms);
}

TEST_F(Machine, an_extend_that_finds_the_key_gone_loses_the_lock) {
  hold(9);
  tick(1000ms);
  ASSERT_EQ(take(), command::extend);
  answer(":0\r\n");
  EXPECT_EQ(m.state(), lock_state::lost);
  EXPECT_EQ(m.take_lost(), make_error_code(errc::lock_not_owned));
  EXPECT_FALSE(m.take_lost().has_value()) << "reported once";
  EXPECT_EQ(take(), command::none) << "no more extends";
}

TEST_F(Machine, extends_failing_on_the_connection_lose_it_at_valid_until_not_before) {
  hold();
  const auto valid = m.valid_until();
  tick(1000ms);
  int sent = 0;
  while (m.state() == lock_state::held) {
    if (take() == command::extend) {
      ++sent;
      m.on_reply(clock.now(), lost_connection());
    }
    ASSERT_TRUE(m.wake_at().has_value());
    ASSERT_LE(*m.wake_at(), valid);
    EXPECT_FALSE(m.take_lost().has_value());
    clock.set(*m.wake_at());
    m.on_timer(clock.now());
  }
  EXPECT_EQ(clock.now(), valid);
  EXPECT_GT(sent, 10) << "retried every retry_max";
  EXPECT_EQ(m.take_lost(), make_error_code(errc::outcome_unknown));
}

TEST_F(Machine, a_late_successful_extend_after_the_loss_gives_the_key_back) {
  hold();
  tick(1000ms);
  ASSERT_EQ(take(), command::extend);
  tick(2000ms);  // past valid_until with the extend still in flight
  EXPECT_EQ(m.state(), lock_state::lost);
  answer(":3000\r\n");
  EXPECT_EQ(m.state(), lock_state::releasing) << "lost stays lost; the key is let go";
  EXPECT_EQ(take(), command::release);
}

TEST_F(Machine, release_cancels_the_pending_renewal_and_deletes) {
  hold();
  m.release();
  EXPECT_EQ(take(), command::release);
  answer(":1\r\n");
  EXPECT_EQ(m.state(), lock_state::released);
  EXPECT_TRUE(*m.take_release_result());
  tick(5000ms);
  EXPECT_EQ(take(), command::none) << "no extend after the release";
}

TEST_F(Machine, release_of_a_key_that_is_not_ours_is_lock_not_owned) {
  hold();
  m.release();
  take();
  answer(":0\r\n");
  const auto r = m.take_release_result();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->error(), make_error_code(errc::lock_not_owned));
}

TEST_F(Machine, release_without_holding_is_lock_not_owned_and_sends_nothing) {
  m.release();
  EXPECT_EQ(m.take_release_result()->error(), make_error_code(errc::lock_not_owned));
  EXPECT_EQ(take(), command::none);
}

TEST_F(Machine, a_release_lost_on_the_connection_is_sent_again_and_a_zero_then_counts) {
  hold();
  m.release();
  ASSERT_EQ(take(), command::release);
  m.on_reply(clock.now(), lost_connection());  // the first DEL may have run
  EXPECT_EQ(m.state(), lock_state::releasing);
  EXPECT_EQ(take(), command::none);
  clock.advance(20ms);
  ASSERT_EQ(take(), command::release);
  answer(":0\r\n");
  EXPECT_EQ(m.state(), lock_state::released);
  EXPECT_TRUE(*m.take_release_result()) << "0 after a resend: the first one deleted it";
}

TEST_F(Machine, release_during_an_extend_waits_for_its_reply) {
  hold();
  tick(1000ms);
  ASSERT_EQ(take(), command::extend);
  m.release();
  EXPECT_EQ(take(), command::none);
  answer(":3000\r\n");
  EXPECT_EQ(take(), command::release);
  answer(":1\r\n");
  EXPECT_TRUE(*m.take_release_result());
}

TEST_F(Machine, a_caller_who_gives_up_mid_acquire_leaves_nothing_held) {
  m.acquire(clock.now(), wait_forever);
  ASSERT_EQ(take(), command::acquire);
  m.cancel_acquire();
  const auto got = m.take_acquire_result();
  ASSERT_TRUE(got.has_value());
  EXPECT_FALSE(**got);
  answer(":3\r\n");  // the try in flight won after all
  EXPECT_EQ(m.state(), lock_state::releasing);
  EXPECT_EQ(take(), command::release);
  answer(":1\r\n");
  EXPECT_EQ(m.state(), lock_state::released);
}

TEST_F(Machine, a_cancelled_try_that_lost_ends_idle) {
  m.acquire(clock.now(), wait_forever);
  take();
  m.cancel_acquire();
  answer(":0\r\n");
  EXPECT_EQ(m.state(), lock_state::idle);
  EXPECT_EQ(take(), command::none);
}

TEST_F(Machine, manual_extend_adds_or_replaces_and_updates_validity) {
  hold();
  clock.advance(100ms);
  m.extend(5000ms, false);
  ASSERT_EQ(take(), command::extend);
  EXPECT_EQ(m.command_ms(), 5000ms);
  EXPECT_FALSE(m.command_replaces());
  const auto sent = clock.now();
  answer(":7900\r\n");  // the script answers the new PTTL
  EXPECT_TRUE(*m.take_extend_result());
  EXPECT_EQ(m.valid_until(), sent + 7900ms - 32ms);
}

TEST_F(Machine, manual_extend_during_a_watchdog_extend_goes_next) {
  hold();
  tick(1000ms);
  ASSERT_EQ(take(), command::extend);
  m.extend(100ms, true);
  answer(":3000\r\n");
  EXPECT_FALSE(m.take_extend_result().has_value()) << "that reply was the watchdog's";
  ASSERT_EQ(take(), command::extend);
  EXPECT_EQ(m.command_ms(), 100ms);
  answer(":100\r\n");
  EXPECT_TRUE(*m.take_extend_result());
}

TEST_F(Machine, a_lock_without_ttl_has_no_watchdog_and_never_expires_locally) {
  machine forever{options(0ms)};
  forever.acquire(clock.now(), no_wait);
  ASSERT_EQ(forever.take_command(clock.now()), command::acquire);
  EXPECT_EQ(forever.command_ms(), 0ms);
  forever.on_reply(clock.now(), reply(":1\r\n"));
  EXPECT_TRUE(forever.held());
  EXPECT_EQ(forever.valid_until(), util::clock::time_point::max());
  EXPECT_FALSE(forever.wake_at().has_value());
}

TEST_F(Machine, without_the_watchdog_the_lock_is_lost_when_its_ttl_runs_out) {
  lock_options o = options();
  o.watchdog = false;
  machine plain{o};
  plain.acquire(clock.now(), no_wait);
  plain.take_command(clock.now());
  plain.on_reply(clock.now(), reply(":1\r\n"));
  ASSERT_EQ(plain.wake_at(), plain.valid_until());
  clock.set(plain.valid_until());
  plain.on_timer(clock.now());
  EXPECT_EQ(plain.state(), lock_state::lost);
  EXPECT_EQ(plain.take_lost(), make_error_code(errc::timeout));
}

TEST_F(Machine, a_lost_lock_can_be_acquired_again) {
  hold();
  tick(1000ms);
  take();
  answer(":0\r\n");
  ASSERT_EQ(m.state(), lock_state::lost);
  m.acquire(clock.now(), no_wait);
  EXPECT_EQ(take(), command::acquire);
  answer(":2\r\n");
  EXPECT_EQ(m.fencing_token(), 2u);
}

TEST_F(Machine, an_extend_asked_for_when_the_lock_runs_out_is_answered_not_owned) {
  lock_options o = options();
  o.watchdog = false;
  machine plain{o};
  plain.acquire(clock.now(), no_wait);
  plain.take_command(clock.now());
  plain.on_reply(clock.now(), reply(":1\r\n"));
  clock.set(plain.valid_until() - 1ms);
  plain.extend(1000ms, true);  // not sent in time
  clock.advance(1ms);
  plain.on_timer(clock.now());
  ASSERT_EQ(plain.state(), lock_state::lost);
  const auto r = plain.take_extend_result();
  ASSERT_TRUE(r.has_value()) << "the caller would wait forever";
  EXPECT_EQ(r->error(), make_error_code(errc::lock_not_owned));
}

TEST_F(Machine, an_old_extend_answered_after_a_new_acquire_is_ignored) {
  hold();
  tick(1000ms);
  ASSERT_EQ(take(), command::extend);
  tick(2000ms);  // lost at valid_until, the extend still in flight
  ASSERT_EQ(m.state(), lock_state::lost);
  m.acquire(clock.now(), no_wait);  // with a new token: the old extend says nothing of it
  EXPECT_EQ(take(), command::none) << "one command in flight";
  answer(":3000\r\n");
  EXPECT_EQ(m.state(), lock_state::acquiring);
  EXPECT_EQ(take(), command::acquire);
  answer(":0\r\n");  // the old token's key is still there until its ttl
  EXPECT_FALSE(**m.take_acquire_result());
}

TEST_F(Machine, renewals_of_locks_taken_apart_fall_due_in_one_window) {
  // Two locks acquired 7 ms apart on one shard: their renewals round down to the same 10 ms
  // window, so one timer tick sends both extends together.
  clock.set(util::clock::time_point(1h + 1ms));
  machine a{options()};
  a.acquire(clock.now(), no_wait);
  a.take_command(clock.now());
  a.on_reply(clock.now(), reply(":1\r\n"));
  clock.advance(7ms);
  machine b{options()};
  b.acquire(clock.now(), no_wait);
  b.take_command(clock.now());
  b.on_reply(clock.now(), reply(":2\r\n"));
  ASSERT_TRUE(a.wake_at() && b.wake_at());
  EXPECT_EQ(*a.wake_at(), *b.wake_at());
  EXPECT_EQ(*a.wake_at(), util::clock::time_point(1h + 1000ms)) << "never later than due";
}

TEST(MachineStates, every_state_has_a_name) {
  EXPECT_STREQ(to_string(lock_state::idle), "idle");
  EXPECT_STREQ(to_string(lock_state::acquiring), "acquiring");
  EXPECT_STREQ(to_string(lock_state::held), "held");
  EXPECT_STREQ(to_string(lock_state::releasing), "releasing");
  EXPECT_STREQ(to_string(lock_state::released), "released");
  EXPECT_STREQ(to_string(lock_state::lost), "lost");
}

}  // namespace
}  // namespace uredis::lock

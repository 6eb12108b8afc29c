#include "uredis/retry/retry_policy.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "uredis/error.hpp"
#include "uredis/exceptions.hpp"

#include "allocation_counter.hpp"

namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using uredis::errc;
using uredis::retry::backoff;
using uredis::retry::decision;
using uredis::retry::failure;
using uredis::retry::is_read_only;
using uredis::retry::is_transient;
using uredis::retry::retry_policy;
using uredis::retry::retry_state;
using uredis::util::rng;

constexpr std::uint64_t seed = 42;

std::error_code uc(errc e) {
  return uredis::make_error_code(e);
}
std::error_code sc(std::errc e) {
  return std::make_error_code(e);
}

struct hook_log {
  std::vector<failure> calls;
  static void record(void* self, const failure& f) noexcept {
    static_cast<hook_log*>(self)->calls.push_back(f);
  }
};

TEST(RetryPolicy, client_default_is_redis_py) {
  const retry_policy p;
  EXPECT_EQ(p.retries(), 10);
  EXPECT_FALSE(p.forever());
  EXPECT_EQ(p.strategy(),
            backoff::exponential_with_jitter(milliseconds(10), std::chrono::seconds(1)));
}

TEST(RetryPolicy, default_retryable_set) {
  for (errc e : {errc::connection_refused, errc::connection_reset, errc::connection_closed,
                 errc::not_connected, errc::timeout, errc::server_loading,
                 errc::sentinel_unreachable, errc::role_mismatch, errc::primary_switched})
    EXPECT_TRUE(is_transient(uc(e))) << static_cast<int>(e);
  for (std::errc e :
       {std::errc::connection_refused, std::errc::connection_reset, std::errc::connection_aborted,
        std::errc::not_connected, std::errc::broken_pipe, std::errc::timed_out,
        std::errc::host_unreachable, std::errc::network_unreachable, std::errc::network_down,
        std::errc::network_reset})
    EXPECT_TRUE(is_transient(sc(e))) << static_cast<int>(e);
  // Protocol, type, configuration and auth failures do not go away by resending.
  for (errc e : {errc::invalid_type_byte, errc::unexpected_reply, errc::type_mismatch,
                 errc::handshake_failed, errc::invalid_url, errc::io_uring_unsupported,
                 errc::outcome_unknown, errc::sentinel_service_unknown,
                 errc::sentinel_reply_invalid})
    EXPECT_FALSE(is_transient(uc(e))) << static_cast<int>(e);
  EXPECT_FALSE(is_transient(sc(std::errc::invalid_argument)));
  EXPECT_FALSE(is_transient(sc(std::errc::permission_denied)));
  EXPECT_FALSE(is_transient(std::error_code{}));
}

TEST(RetryPolicy, unwritten_commands_are_always_resent) {
  const retry_policy p;
  backoff b = p.strategy();
  rng r(seed), expect(seed);
  backoff expected_backoff = p.strategy();
  const decision d = p.decide(uc(errc::connection_reset), 1, false, false, b, r);
  ASSERT_TRUE(d.retrying());
  EXPECT_EQ(d.delay, expected_backoff.compute(1, expect));
  EXPECT_EQ(d.cause, uc(errc::connection_reset));
  EXPECT_FALSE(d.error);
}

TEST(RetryPolicy, written_idempotent_commands_are_resent) {
  const retry_policy p(backoff::constant(milliseconds(7)), 3);
  backoff b = p.strategy();
  rng r(seed);
  const decision d = p.decide(uc(errc::timeout), 1, true, true, b, r);
  EXPECT_EQ(d, decision::retry_after(milliseconds(7), uc(errc::timeout)));
}

TEST(RetryPolicy, written_non_idempotent_gives_up_with_outcome_unknown) {
  const retry_policy p(backoff::constant(milliseconds(7)), -1);
  backoff b = p.strategy();
  rng r(seed);
  const rng before = r;
  for (auto ec : {uc(errc::connection_reset), uc(errc::timeout), sc(std::errc::broken_pipe)}) {
    const decision d = p.decide(ec, 1, true, false, b, r);
    EXPECT_FALSE(d.retrying());
    EXPECT_EQ(d.error, uc(errc::outcome_unknown));
    EXPECT_EQ(d.cause, ec);
  }
  EXPECT_EQ(r.state(), before.state());  // no backoff computed for a give-up
  const std::string message = uc(errc::outcome_unknown).message();
  EXPECT_NE(message.find("may or may not have executed"), std::string::npos) << message;
  // The blocking API raises it as a connection error, as redis-py would.
  EXPECT_THROW(uredis::throw_exception(uc(errc::outcome_unknown)), uredis::connection_error);
}

TEST(RetryPolicy, non_retryable_errors_give_up_at_once_with_the_error) {
  const retry_policy p(backoff::constant(milliseconds(1)), -1);
  backoff b = p.strategy();
  rng r(seed);
  for (bool written : {false, true}) {
    for (bool idempotent : {false, true}) {
      const decision d = p.decide(uc(errc::invalid_type_byte), 1, written, idempotent, b, r);
      EXPECT_EQ(d, decision::give_up(uc(errc::invalid_type_byte), uc(errc::invalid_type_byte)));
    }
  }
}

TEST(RetryPolicy, exhaustion_after_retries_failures) {
  hook_log log;
  retry_policy p(backoff::exponential(milliseconds(1), milliseconds(100)), 3);
  p.on_failure(&hook_log::record, &log);
  retry_state s(p);
  rng r(seed);
  // attempts = retries + 1: three failures are retried, the fourth gives up.
  EXPECT_EQ(s.on_failure(uc(errc::timeout), false, false, r).delay, milliseconds(2));
  EXPECT_EQ(s.on_failure(uc(errc::timeout), false, false, r).delay, milliseconds(4));
  EXPECT_EQ(s.on_failure(uc(errc::timeout), false, false, r).delay, milliseconds(8));
  const decision last = s.on_failure(uc(errc::connection_refused), false, false, r);
  EXPECT_EQ(last, decision::give_up(uc(errc::connection_refused), uc(errc::connection_refused)));
  EXPECT_EQ(s.failures(), 4u);
  ASSERT_EQ(log.calls.size(), 4u);  // the hook saw every failure, the last one too
  for (std::uint32_t i = 0; i < 4; ++i) {
    EXPECT_EQ(log.calls[i].failures, i + 1);
    EXPECT_EQ(log.calls[i].verdict.retrying(), i < 3);
  }
  EXPECT_EQ(log.calls[3].error, uc(errc::connection_refused));

  s.reset();
  EXPECT_EQ(s.failures(), 0u);
  EXPECT_TRUE(s.on_failure(uc(errc::timeout), false, false, r).retrying());
}

TEST(RetryPolicy, zero_retries_never_retries) {
  const retry_policy p = retry_policy::never();
  retry_state s(p);
  rng r(seed);
  EXPECT_EQ(s.on_failure(uc(errc::timeout), false, true, r),
            decision::give_up(uc(errc::timeout), uc(errc::timeout)));
}

TEST(RetryPolicy, negative_retries_retry_forever) {
  hook_log log;
  retry_policy p(backoff::exponential(milliseconds(1), milliseconds(50)), -1);
  p.on_failure(&hook_log::record, &log);
  EXPECT_TRUE(p.forever());
  retry_state s(p);
  rng r(seed);
  for (int i = 0; i < 10000; ++i) {
    const decision d = s.on_failure(uc(errc::connection_refused), false, false, r);
    ASSERT_TRUE(d.retrying()) << i;
    EXPECT_LE(d.delay, milliseconds(50));
  }
  EXPECT_EQ(log.calls.size(), 10000u);
  EXPECT_EQ(log.calls.back().verdict.delay, milliseconds(50));
  // Even at the last failure count the decision logic can represent.
  backoff b = p.strategy();
  EXPECT_TRUE(p.decide(uc(errc::timeout), UINT32_MAX, true, true, b, r).retrying());
}

TEST(RetryPolicy, custom_predicate) {
  retry_policy p(backoff::none(), 5);
  p.retry_on(
      [](const std::error_code& ec) noexcept { return ec == uredis::errc::handshake_failed; });
  backoff b = p.strategy();
  rng r(seed);
  EXPECT_TRUE(p.decide(uc(errc::handshake_failed), 1, false, false, b, r).retrying());
  EXPECT_FALSE(p.decide(uc(errc::timeout), 1, false, false, b, r).retrying());
  EXPECT_TRUE(p.retryable(uc(errc::handshake_failed)));
  EXPECT_FALSE(p.retryable(uc(errc::timeout)));
}

TEST(RetryPolicy, hook_sees_give_ups_and_can_be_removed) {
  hook_log log;
  retry_policy p(backoff::none(), 5);
  p.on_failure(&hook_log::record, &log);
  backoff b = p.strategy();
  rng r(seed);
  p.decide(uc(errc::invalid_length), 1, false, false, b, r);  // not retryable
  p.decide(uc(errc::timeout), 2, true, false, b, r);          // outcome unknown
  ASSERT_EQ(log.calls.size(), 2u);
  EXPECT_EQ(log.calls[0].verdict.error, uc(errc::invalid_length));
  EXPECT_EQ(log.calls[1].verdict.error, uc(errc::outcome_unknown));
  EXPECT_TRUE(log.calls[1].written);
  EXPECT_FALSE(log.calls[1].idempotent);
  EXPECT_EQ(log.calls[1].failures, 2u);
  p.on_failure(nullptr);
  p.decide(uc(errc::timeout), 1, false, false, b, r);
  EXPECT_EQ(log.calls.size(), 2u);
}

TEST(RetryPolicy, each_state_gets_a_fresh_decorrelated_backoff) {
  const retry_policy p(backoff::decorrelated_jitter(), -1);
  rng r(seed);
  retry_state a(p);
  for (int i = 0; i < 5; ++i)
    a.on_failure(uc(errc::timeout), false, false, r);
  retry_state b(p);
  // uniform(base, max(base, 3 * 0)) = base: the state of `a` did not leak into `b`.
  EXPECT_EQ(b.on_failure(uc(errc::timeout), false, false, r).delay, p.strategy().base());
  a.reset();
  EXPECT_EQ(a.on_failure(uc(errc::timeout), false, false, r).delay, p.strategy().base());
}

TEST(RetryPolicy, delays_follow_the_backoff_formula_exactly) {
  const retry_policy p;  // exponential with jitter, 10 ms, 1 s
  retry_state s(p);
  rng r(7), expect(7);
  for (std::uint32_t f = 1; f <= 10; ++f) {
    const double v = std::min(1e9, expect.uniform() * 1e7 * std::ldexp(1.0, static_cast<int>(f)));
    const nanoseconds want =
        v >= 1e9 ? nanoseconds(1'000'000'000) : nanoseconds(static_cast<std::int64_t>(v));
    EXPECT_EQ(s.on_failure(uc(errc::timeout), false, false, r).delay, want) << f;
  }
  EXPECT_FALSE(s.on_failure(uc(errc::timeout), false, false, r).retrying());
}

TEST(RetryPolicy, a_retry_cycle_allocates_nothing) {
  std::uint64_t hook_calls = 0;
  retry_policy p(backoff::decorrelated_jitter(), 5);
  p.on_failure([](void* n, const failure&) noexcept { ++*static_cast<std::uint64_t*>(n); },
               &hook_calls);
  rng r(seed);
  uredis::dev::allocation_scope scope;
  retry_state s(p);
  int retried = 0;
  while (s.on_failure(uc(errc::connection_reset), false, false, r).retrying())
    ++retried;
  const bool read = is_read_only("hgetall") && !is_read_only("INCR");
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(retried, 5);
  EXPECT_EQ(hook_calls, 6u);
  EXPECT_TRUE(read);
}

TEST(RetryPolicyIsReadOnly, common_reads_any_case) {
  for (const char* name :
       {"GET",      "MGET",    "EXISTS",     "TTL",     "PTTL",         "STRLEN",
        "HGET",     "HGETALL", "LRANGE",     "LLEN",    "SMEMBERS",     "SISMEMBER",
        "ZRANGE",   "ZSCORE",  "SCAN",       "PING",    "ECHO",         "get",
        "hGetAll",  "zscore",  "EVALSHA_RO", "eval_ro", "GEORADIUS_RO", "georadiusbymember_ro",
        "BITCOUNT", "ZUNION",  "FCALL_RO",   "fcall_ro"})
    EXPECT_TRUE(is_read_only(name)) << name;
}

TEST(RetryPolicyIsReadOnly, writes_and_unknowns_are_not) {
  for (const char* name : {"SET",    "INCR",   "DEL",         "LPUSH",       "RPOP",  "HSET",
                           "ZADD",   "EXPIRE", "EVAL",        "EVALSHA",     "FCALL", "GETSET",
                           "GETDEL", "GETEX",  "ZRANGESTORE", "ZUNIONSTORE", "SORT",  "BLPOP",
                           "XADD",   "CLIENT", "MULTI",       "EXEC",        "",      "G",
                           "GE",     "GETX",   "GET ",        " GET",        "ZZZZ",  "A",
                           "PINGS"})
    EXPECT_FALSE(is_read_only(name)) << name;
  EXPECT_FALSE(is_read_only(std::string_view("GET\0", 4)));
  EXPECT_TRUE(is_read_only(std::string_view("GETX", 3)));
}

}  // namespace

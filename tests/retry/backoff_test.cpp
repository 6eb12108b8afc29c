#include "uredis/retry/backoff.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>

namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using uredis::retry::backoff;
using uredis::util::rng;

constexpr std::uint64_t seed = 0x5eed'1234;

// The formulas, written out again from the redis-py reference in double nanoseconds, so the
// expected values below come from the formula and an identically seeded rng, not from the code
// under test.
double ns(nanoseconds d) {
  return static_cast<double>(d.count());
}
double py_uniform(rng& r, double a, double b) {
  return a + (b - a) * r.uniform();
}
nanoseconds trunc_ns(double v) {
  return nanoseconds(static_cast<std::int64_t>(v));
}

TEST(Backoff, defaults_are_redis_py) {
  EXPECT_EQ(backoff::default_base, milliseconds(8));
  EXPECT_EQ(backoff::default_cap, milliseconds(512));
  const backoff b = backoff::exponential();
  EXPECT_EQ(b.base(), milliseconds(8));
  EXPECT_EQ(b.cap(), milliseconds(512));
  EXPECT_EQ(b.strategy(), backoff::kind::exponential);
  EXPECT_EQ(backoff{}.strategy(), backoff::kind::none);
}

TEST(Backoff, none_is_zero_and_draws_nothing) {
  rng r(seed);
  const rng before = r;
  backoff b = backoff::none();
  for (std::uint32_t f = 1; f < 50; ++f)
    EXPECT_EQ(b.compute(f, r), nanoseconds::zero());
  EXPECT_EQ(r.state(), before.state());
}

TEST(Backoff, constant_is_the_value) {
  rng r(seed);
  backoff b = backoff::constant(milliseconds(250));
  for (std::uint32_t f : {1u, 2u, 10u, 1000u, UINT32_MAX})
    EXPECT_EQ(b.compute(f, r), milliseconds(250));
}

TEST(Backoff, exponential_doubles_then_caps) {
  rng r(seed);
  backoff b = backoff::exponential();
  // base * 2^f: 16, 32, 64, 128, 256 ms, then the 512 ms cap.
  EXPECT_EQ(b.compute(1, r), milliseconds(16));
  EXPECT_EQ(b.compute(2, r), milliseconds(32));
  EXPECT_EQ(b.compute(3, r), milliseconds(64));
  EXPECT_EQ(b.compute(4, r), milliseconds(128));
  EXPECT_EQ(b.compute(5, r), milliseconds(256));
  EXPECT_EQ(b.compute(6, r), milliseconds(512));
  EXPECT_EQ(b.compute(7, r), milliseconds(512));
  EXPECT_EQ(b.compute(0, r), milliseconds(8));  // 2^0
  backoff custom = backoff::exponential(milliseconds(1), milliseconds(100));
  EXPECT_EQ(custom.compute(6, r), milliseconds(64));
  EXPECT_EQ(custom.compute(7, r), milliseconds(100));
}

TEST(Backoff, full_jitter_matches_formula) {
  rng r(seed), expect(seed);
  backoff b = backoff::full_jitter();
  for (std::uint32_t f = 1; f <= 40; ++f) {
    const double t = std::min(ns(b.cap()), ns(b.base()) * std::pow(2.0, f));
    const nanoseconds got = b.compute(f, r);
    EXPECT_EQ(got, trunc_ns(py_uniform(expect, 0, t))) << f;
    EXPECT_GE(got, nanoseconds::zero());
    EXPECT_LE(got, b.cap());
  }
}

TEST(Backoff, equal_jitter_matches_formula) {
  rng r(seed), expect(seed);
  backoff b = backoff::equal_jitter(milliseconds(3), milliseconds(700));
  for (std::uint32_t f = 1; f <= 40; ++f) {
    const double t = std::min(ns(b.cap()), ns(b.base()) * std::pow(2.0, f));
    const nanoseconds got = b.compute(f, r);
    EXPECT_EQ(got, trunc_ns(t / 2 + py_uniform(expect, 0, t / 2))) << f;
    EXPECT_GE(got, trunc_ns(t / 2));
    EXPECT_LE(got, b.cap());
  }
}

TEST(Backoff, exponential_with_jitter_matches_formula) {
  rng r(seed), expect(seed);
  backoff b = backoff::exponential_with_jitter(milliseconds(10), std::chrono::seconds(1));
  for (std::uint32_t f = 1; f <= 40; ++f) {
    const double v = std::min(ns(b.cap()), expect.uniform() * ns(b.base()) * std::pow(2.0, f));
    const nanoseconds got = b.compute(f, r);
    EXPECT_EQ(got, v >= ns(b.cap()) ? b.cap() : trunc_ns(v)) << f;
    EXPECT_LE(got, b.cap());
  }
}

TEST(Backoff, decorrelated_jitter_matches_formula_and_resets) {
  rng r(seed), expect(seed);
  backoff b = backoff::decorrelated_jitter();
  const double base = ns(b.base()), cap = ns(b.cap());
  double previous = 0;
  bool above_base = false;
  for (std::uint32_t f = 1; f <= 30; ++f) {
    const double temp = py_uniform(expect, base, std::max(base, 3 * previous));
    previous = std::min(cap, temp);
    const nanoseconds got = b.compute(f, r);
    EXPECT_EQ(got, previous >= cap ? b.cap() : trunc_ns(previous)) << f;
    EXPECT_GE(got, b.base());
    EXPECT_LE(got, b.cap());
    above_base = above_base || got > b.base();
  }
  EXPECT_TRUE(above_base);  // the state really grew the range

  // The first delay after a reset is uniform(base, base) = base again, one draw consumed.
  b.reset();
  rng before = r;
  EXPECT_EQ(b.compute(1, r), b.base());
  before.uniform();
  EXPECT_EQ(r.state(), before.state());
  // And the sequence continues from previous = base.
  const double temp = py_uniform(before, base, std::max(base, 3 * base));
  EXPECT_EQ(b.compute(2, r), trunc_ns(std::min(cap, temp)));
}

TEST(Backoff, copies_keep_separate_state) {
  rng r1(seed), r2(seed);
  backoff a = backoff::decorrelated_jitter();
  for (std::uint32_t f = 1; f <= 5; ++f)
    a.compute(f, r1);
  backoff fresh = backoff::decorrelated_jitter();
  backoff copy = a;
  copy.reset();
  EXPECT_EQ(copy, fresh);
  EXPECT_NE(a, fresh);
  EXPECT_EQ(copy.compute(1, r2), fresh.base());
}

TEST(Backoff, huge_failure_counts_cap_without_overflow) {
  rng r(seed);
  for (backoff b : {backoff::exponential(), backoff::full_jitter(), backoff::equal_jitter(),
                    backoff::exponential_with_jitter()}) {
    for (std::uint32_t f : {62u, 63u, 64u, 127u, 128u, 129u, 1024u, 100000u, UINT32_MAX}) {
      const nanoseconds got = b.compute(f, r);
      EXPECT_GE(got, nanoseconds::zero()) << f;
      EXPECT_LE(got, b.cap()) << f;
    }
  }
  backoff e = backoff::exponential();
  EXPECT_EQ(e.compute(UINT32_MAX, r), e.cap());
  // Above 2^116 even the smallest nonzero random() times 1 ns reaches any cap.
  backoff w = backoff::exponential_with_jitter(nanoseconds(1), nanoseconds::max());
  rng draws(seed), expect(seed);
  for (int i = 0; i < 100; ++i) {
    const nanoseconds got = w.compute(UINT32_MAX, draws);
    EXPECT_EQ(got, expect.uniform() == 0 ? nanoseconds::zero() : nanoseconds::max());
  }
}

TEST(Backoff, zero_base_and_cap) {
  rng r(seed);
  backoff b = backoff::full_jitter(nanoseconds(0), nanoseconds(0));
  EXPECT_EQ(b.compute(1, r), nanoseconds::zero());
  backoff d = backoff::decorrelated_jitter(nanoseconds(0), milliseconds(5));
  for (std::uint32_t f = 1; f < 10; ++f)
    EXPECT_EQ(d.compute(f, r), nanoseconds::zero());  // uniform(0, max(0, 0)) forever
}

TEST(Backoff, is_a_small_value) {
  static_assert(std::is_trivially_copyable_v<backoff>);
  static_assert(sizeof(backoff) <= 32);
  constexpr backoff b = backoff::constant(milliseconds(1));
  static_assert(b == backoff::constant(milliseconds(1)));
  SUCCEED();
}

}  // namespace

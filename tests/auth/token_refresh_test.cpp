// token_refresh with a manual clock and no I/O: when a refresh is due (ratio, lower bound),
// failures and stalls retried with the backoff, the old token kept until its expiry, and the
// expiry with no replacement reported once.

#include "uredis/auth/token_refresh.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace uredis::auth {
namespace {

using namespace std::chrono_literals;
using time_point = token_refresh::time_point;

struct harness {
  util::manual_clock clock{time_point{} + 1h};
  token_refresh_options options;
  std::optional<token_refresh> refresh;

  harness() { options.backoff = retry::backoff::exponential(100ms, 1s); }

  token_refresh& start() {
    refresh.emplace(options, clock);
    refresh->start();
    return *refresh;
  }
  time_point now() const { return clock.now(); }
  // Moves the clock to the next deadline and runs the timer.
  void to_deadline() {
    clock.set(refresh->next_deadline());
    refresh->on_timer();
  }
};

TEST(TokenRefresh, StartAsksForATokenAtOnce) {
  harness h;
  token_refresh& r = h.start();
  const token_refresh::actions a = r.take_actions();
  EXPECT_TRUE(a.fetch);
  EXPECT_FALSE(a.expired);
  EXPECT_TRUE(r.fetching());
  EXPECT_FALSE(r.valid());
  EXPECT_FALSE(r.take_actions().fetch) << "taken once";
}

TEST(TokenRefresh, RefreshesAtTheRatioOfTheLifetime) {
  harness h;
  token_refresh& r = h.start();
  (void)r.take_actions();
  const time_point received = h.now();
  r.on_token(received + 10s);
  EXPECT_TRUE(r.valid());
  EXPECT_EQ(r.refresh_at(), received + 8s) << "0.8 of 10 s, redis-py's default ratio";
  EXPECT_EQ(r.next_deadline(), received + 8s);

  h.clock.advance(7999ms);
  r.on_timer();
  EXPECT_FALSE(r.take_actions().fetch) << "not due yet";
  h.clock.advance(1ms);
  r.on_timer();
  EXPECT_TRUE(r.take_actions().fetch);

  h.options.ratio = 0.5;  // read at each token
  r.on_token(h.now() + 4s);
  EXPECT_EQ(r.refresh_at(), h.now() + 2s);
}

TEST(TokenRefresh, TheLowerBoundWinsWhenItIsEarlier) {
  harness h;
  h.options.lower_bound = 3s;
  token_refresh& r = h.start();
  (void)r.take_actions();
  r.on_token(h.now() + 10s);
  EXPECT_EQ(r.refresh_at(), h.now() + 7s) << "10 s - 3 s comes before 8 s";

  // The ratio wins when it is earlier.
  h.clock.set(r.refresh_at());
  r.on_timer();
  ASSERT_TRUE(r.take_actions().fetch);
  r.on_token(h.now() + 100s);
  EXPECT_EQ(r.refresh_at(), h.now() + 80s);

  // A bound longer than the lifetime: refresh at once (never in the past).
  h.options.lower_bound = 1h;
  h.clock.set(r.refresh_at());
  r.on_timer();
  ASSERT_TRUE(r.take_actions().fetch);
  r.on_token(h.now() + 10s);
  EXPECT_EQ(r.refresh_at(), h.now());
}

TEST(TokenRefresh, ATokenThatNeverExpiresIsNeverRefreshed) {
  harness h;
  token_refresh& r = h.start();
  (void)r.take_actions();
  r.on_token(time_point::max());
  EXPECT_TRUE(r.valid());
  EXPECT_EQ(r.next_deadline(), time_point::max());
}

TEST(TokenRefresh, FailuresAreRetriedWithTheBackoffAndTheOldTokenStaysValid) {
  harness h;
  token_refresh& r = h.start();
  (void)r.take_actions();
  r.on_token(h.now() + 10s);
  h.to_deadline();  // 8 s: refresh
  ASSERT_TRUE(r.take_actions().fetch);

  // exponential(100 ms): base * 2^f for f failures in a row: 200, 400, 800 ms.
  const std::chrono::milliseconds expected[] = {200ms, 400ms, 800ms};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto delay = r.on_failure();
    EXPECT_EQ(delay, expected[i]) << i;
    EXPECT_EQ(r.failures(), i + 1);
    EXPECT_EQ(r.retry_at(), h.now() + expected[i]);
    EXPECT_TRUE(r.valid()) << "the old token is still good until its expiry";
    h.to_deadline();
    const token_refresh::actions a = r.take_actions();
    EXPECT_TRUE(a.fetch) << i;
    EXPECT_FALSE(a.expired) << i;
  }
  // Success resets the count and the backoff.
  r.on_token(h.now() + 10s);
  EXPECT_EQ(r.failures(), 0u);
  h.to_deadline();
  ASSERT_TRUE(r.take_actions().fetch);
  EXPECT_EQ(r.on_failure(), 200ms);
}

TEST(TokenRefresh, AStalledFetchTimesOutAndIsRetried) {
  harness h;
  h.options.fetch_timeout = 500ms;
  token_refresh& r = h.start();
  ASSERT_TRUE(r.take_actions().fetch);
  EXPECT_EQ(r.next_deadline(), h.now() + 500ms);
  h.to_deadline();
  token_refresh::actions a = r.take_actions();
  EXPECT_TRUE(a.abandon_fetch);
  EXPECT_FALSE(a.fetch);
  EXPECT_EQ(r.failures(), 1u);
  EXPECT_FALSE(r.fetching());
  r.on_token(h.now() + 10s);  // the late answer: nobody waits for it
  EXPECT_FALSE(r.valid());
  h.to_deadline();  // the backoff passes
  a = r.take_actions();
  EXPECT_TRUE(a.fetch);
  EXPECT_FALSE(a.abandon_fetch);
}

TEST(TokenRefresh, ExpiryWithNoReplacementIsReportedOnceAndFetchingGoesOn) {
  harness h;
  h.options.backoff = retry::backoff::constant(1s);
  h.options.fetch_timeout = 0ms;  // never give up on a fetch: only failures count here
  token_refresh& r = h.start();
  (void)r.take_actions();
  const time_point expiry = h.now() + 10s;
  r.on_token(expiry);
  h.to_deadline();  // 8 s
  ASSERT_TRUE(r.take_actions().fetch);
  int expired = 0;
  while (h.now() < expiry + 3s) {
    (void)r.on_failure();
    h.to_deadline();
    const token_refresh::actions a = r.take_actions();
    if (a.expired) {
      ++expired;
      EXPECT_EQ(h.now(), expiry) << "reported at the expiry itself";
      EXPECT_FALSE(r.valid());
    }
    if (!a.fetch) {  // the expiry came before the retry, which is still scheduled
      h.to_deadline();
      ASSERT_TRUE(r.take_actions().fetch);
    }
  }
  EXPECT_EQ(expired, 1);
  r.on_token(h.now() + 10s);
  EXPECT_TRUE(r.valid()) << "a new token makes it valid again";
}

TEST(TokenRefresh, ATokenAlreadyExpiredIsNotValidAndIsRefreshedAtOnce) {
  harness h;
  token_refresh& r = h.start();
  (void)r.take_actions();
  r.on_token(h.now() - 1s);
  EXPECT_FALSE(r.valid());
  EXPECT_EQ(r.refresh_at(), h.now());
}

}  // namespace
}  // namespace uredis::auth

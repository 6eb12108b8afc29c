#pragma once
// eventually: runs a reactor until a condition holds or a wall-clock limit passes, so a test
// whose condition never comes true (a lost command, a connection stuck somewhere) fails in
// bounded time instead of hanging the suite.
//
//   ASSERT_TRUE(test::run_until(*r, [&] { return done == n; }, 5s)) << "stuck at " << done;
//
// Why a ticker: an idle reactor sleeps in the kernel until a completion or its next timer, so
// a condition that never comes true would leave it asleep for good and the limit would never
// be looked at. A reactor timer that re-arms itself every `tick` wakes it, so the limit is
// checked at least that often. The ticker is an ordinary caller-owned reactor::timer: it
// allocates nothing (the allocation tests use this too) and is cancelled when run_until
// returns.

#include <chrono>

#include "uredis/reactor/reactor.hpp"
#include "uredis/reactor/timer.hpp"

namespace uredis::test {

// GCC 12 takes the ticker, linked into the reactor's timer wheel and unlinked by its destructor
// before run_until returns, for a dangling pointer in some instances.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wunknown-warning-option"
#pragma GCC diagnostic ignored "-Wdangling-pointer"
/// Turns `r` until `done()` is true or `limit` of wall-clock time has passed (or the reactor
/// fails); returns done().
template <class Predicate>
bool run_until(reactor::reactor& r, Predicate&& done, std::chrono::milliseconds limit,
               std::chrono::milliseconds tick = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  reactor::timer_wheel& wheel = r.timers();
  reactor::timer ticker;
  ticker.set_callback([&wheel, &ticker, tick] { wheel.arm_in(ticker, tick); });
  wheel.arm_in(ticker, tick);
  r.run_until([&] { return done() || std::chrono::steady_clock::now() >= deadline; });
  return done();
}
#pragma GCC diagnostic pop

/// Turns `r` for `span` of wall-clock time, whatever happens meanwhile.
inline void run_for(reactor::reactor& r, std::chrono::milliseconds span) {
  (void)run_until(
      r, [] { return false; }, span);
}

}  // namespace uredis::test

#pragma once
// Running a test's coroutine on a reactor: the body of most coroutine-API tests.
//
//   test::run_coroutine(*r, [&]() -> task<> {
//     co_await test::connect_or_fail(c);
//     EXPECT_EQ(*co_await c.incr("n"), 1);
//   });

#include <gtest/gtest.h>

#include <chrono>

#include "eventually.hpp"
#include "uredis/client/client.hpp"
#include "uredis/client/task.hpp"
#include "uredis/reactor/reactor.hpp"

namespace uredis::test {

/// Awaits `t`, then sets `done`.
inline task<> signal_when_done(task<> t, bool& done) {
  co_await std::move(t);
  done = true;
}

/// Spawns the coroutine `body()` makes (a named lambda: its captures must outlive the coroutine)
/// and runs `r` until it finishes; fails the test if that takes longer than `limit`.
template <class Body>
void run_coroutine(reactor::reactor& r, Body body,
                   std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  bool done = false;
  spawn(signal_when_done(body(), done));
  ASSERT_TRUE(test::run_until(
      r, [&] { return done; }, limit))
      << "the coroutine did not finish in " << limit.count() << " ms";
}

/// Connects `c`, failing the test (not the coroutine) if it cannot.
inline task<> connect_or_fail(client& c) {
  const result<void> connected = co_await c.connect();
  EXPECT_TRUE(connected.has_value())
      << (connected               ? ""
          : connected.has_error() ? connected.error().message()
                                  : connected.server_error().message);
}

}  // namespace uredis::test

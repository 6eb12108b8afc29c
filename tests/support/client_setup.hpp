#pragma once
// What the tests above the io layer start from: a reactor on the test's thread, a connection
// config that points at a test server, directly or through a fault proxy, and a connect or a
// command waited for with a limit.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <utility>

#include "eventually.hpp"
#include "fault_proxy.hpp"
#include "redis_server.hpp"
#include "uredis/client/config.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/reactor/reactor.hpp"
#include "uredis/result.hpp"

namespace uredis::test {

/// A reactor with the default options. When it cannot be created the test fails, with the
/// reason, and this returns null.
inline std::unique_ptr<reactor::reactor> make_reactor() {
  auto r = reactor::reactor::create();
  if (!r) {
    ADD_FAILURE() << "cannot create a reactor: " << r.error().message();
    return nullptr;
  }
  return std::move(*r);
}

/// Defaults, pointed at `server` over TCP.
inline connection_config config_for(const redis_server& server) {
  connection_config c;
  c.host = server.host();
  c.port = server.port();
  return c;
}

/// Defaults, pointed at `proxy` (which forwards to a test server).
inline connection_config config_through(const fault_proxy& proxy) {
  connection_config c;
  c.host = proxy.host();
  c.port = proxy.port();
  return c;
}

/// Connects `c` and runs `r` until the outcome, for at most `limit`; nullopt when none came.
inline std::optional<result<void>> connect_within(
    reactor::reactor& r, connection& c,
    std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  std::optional<result<void>> done;
  c.connect([&done](const result<void>& outcome) { done = outcome; });
  if (!run_until(
          r, [&done] { return done.has_value(); }, limit))
    return std::nullopt;
  return done;
}

/// Sends `command` on `c` and runs `r` until its result, for at most `limit`; nullopt when none
/// came.
template <class Command>
std::optional<result<typename Command::response>> exec_within(
    reactor::reactor& r, connection& c, const Command& command,
    std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  std::optional<result<typename Command::response>> out;
  c.exec(command, [&out](result<typename Command::response> reply) { out = std::move(reply); });
  if (!run_until(
          r, [&out] { return out.has_value(); }, limit))
    return std::nullopt;
  return out;
}

}  // namespace uredis::test

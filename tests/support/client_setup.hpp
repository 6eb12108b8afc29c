#pragma once
// What the tests above the io layer start from: a reactor on the test's thread, and a
// connection config that points at a test server, directly or through a fault proxy.

#include <gtest/gtest.h>

#include <memory>
#include <utility>

#include "fault_proxy.hpp"
#include "redis_server.hpp"
#include "uredis/client/config.hpp"
#include "uredis/reactor/reactor.hpp"

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

}  // namespace uredis::test

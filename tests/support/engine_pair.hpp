#pragma once
// engine_pair: a client and a server tls::engine wired to each other in memory, no socket.
// A fixture derives from it (beside ::testing::Test), starts both engines, then pump()s: each
// side's output goes to the other until neither has any; the handshake advances, and the
// plaintext each side reads collects in its *_received string. The first error of each side is
// kept in its *_error.

#include <gtest/gtest.h>

#include <string>
#include <system_error>

#include "tls/engine.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis::test {

class engine_pair {
 protected:
  void pump() {
    util::byte_buffer wire;
    for (int round = 0; round < 20; ++round) {
      bool moved = false;
      if (client.has_output()) {
        client.take_output(wire);
        server.on_ciphertext(wire.data());
        moved = true;
      }
      step(server, server_error);
      if (server.has_output()) {
        server.take_output(wire);
        client.on_ciphertext(wire.data());
        moved = true;
      }
      step(client, client_error);
      if (!moved) return;
    }
  }

  // Runs the handshake, then drains the plaintext `e` has into its side's string.
  void step(tls::engine& e, std::error_code& error) {
    if (error) return;
    if (!e.handshake_done()) {
      const result<bool> done = e.handshake();
      if (!done) {
        error = done.error();
        return;
      }
      if (!*done) return;
    }
    std::string& into = &e == &client ? client_received : server_received;
    for (;;) {
      const result<std::string_view> p = e.read();
      if (!p) {
        error = p.error();
        return;
      }
      if (p->empty()) return;
      EXPECT_LE(p->size(), tls::engine::max_record_plaintext);
      into.append(*p);
    }
  }

  tls::engine client;
  tls::engine server;
  std::error_code client_error;
  std::error_code server_error;
  std::string client_received;
  std::string server_received;
};

}  // namespace uredis::test

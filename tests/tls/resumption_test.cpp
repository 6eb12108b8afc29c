// TLS session resumption (tls::session_cache through the TLS transport) against a real
// redis-server: a reconnect resumes the session the first socket was given (TLS 1.3 tickets,
// and TLS 1.2), the event and the counters say so, turning it off gives full handshakes, and a
// server that no longer knows the ticket (restarted: new ticket keys) gets a full handshake and
// serves as before, and a session is never offered to another name than the one it was made
// with.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/redis_server.hpp"
#include "../support/test_certificates.hpp"
#include "uredis/client/address_provider.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/cmd/all.hpp"
#include "uredis/event/dispatcher.hpp"

namespace uredis {
namespace {

using namespace std::chrono_literals;
constexpr auto limit = 8s;

class Resumption : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certs = new test::test_certificates(); }
  static void TearDownTestSuite() {
    delete certs;
    certs = nullptr;
  }

  static test::redis_server_options tls_server(bool auth_clients = false) {
    test::redis_server_options o;
    o.tls = test::redis_tls_options{certs->cert("server"), certs->key("server"), certs->cert("ca"),
                                    auth_clients};
    return o;
  }

  static connection_config tls_config(const test::redis_server& server) {
    connection_config c = test::config_for(server);
    c.tls = true;
    c.tls_options.ca_file = certs->cert("ca");
    c.connect_timeout = 3s;
    c.retry = {retry::backoff::constant(20ms), 50};
    return c;
  }

  // connect() and wait; then one command, whose reply brings the TLS 1.3 tickets along.
  static void connect_and_ping(reactor::reactor& r, connection& c) {
    std::optional<result<void>> connected;
    c.connect([&](const result<void>& o) { connected = o; });
    ASSERT_TRUE(test::run_until(
        r, [&] { return connected.has_value(); }, limit));
    ASSERT_TRUE(connected->has_value()) << connected->error().message();
    ping(r, c);
  }

  static void ping(reactor::reactor& r, connection& c) {
    std::optional<result<std::string>> pong;
    c.exec(cmd::ping{}, [&](result<std::string> v) { pong.emplace(std::move(v)); });
    ASSERT_TRUE(test::run_until(
        r, [&] { return pong.has_value(); }, limit));
    ASSERT_TRUE(pong->has_value());
    EXPECT_EQ(**pong, "PONG");
  }

  static test::test_certificates* certs;
};

test::test_certificates* Resumption::certs = nullptr;

TEST_F(Resumption, AReconnectResumesTheSessionOfTheFirstSocket) {
  test::redis_server server(tls_server());
  auto r = test::make_reactor();
  ASSERT_TRUE(r);
  std::optional<bool> first_event, second_event;
  event::listener<event::connected> on_connected(r->events(), [&](const event::connected& e) {
    (first_event ? second_event : first_event) = e.tls_resumed;
  });
  connection c{*r, tls_config(server)};
  connect_and_ping(*r, c);
  EXPECT_FALSE(c.tls_resumed()) << "nothing to resume on the first connect";
  c.close();
  connect_and_ping(*r, c);
  EXPECT_TRUE(c.tls_resumed());
  EXPECT_EQ(c.tls_resumptions(), 1u);
  ASSERT_TRUE(first_event && second_event);
  EXPECT_FALSE(*first_event);
  EXPECT_TRUE(*second_event);
}

TEST_F(Resumption, TheSelfHealingReconnectResumesAndSaysSoInItsEvent) {
  test::redis_server server(tls_server());
  auto r = test::make_reactor();
  ASSERT_TRUE(r);
  std::optional<bool> resumed;
  event::listener<event::reconnected> on_reconnected(
      r->events(), [&](const event::reconnected& e) { resumed = e.tls_resumed; });
  connection c{*r, tls_config(server)};
  connect_and_ping(*r, c);
  // Killed by the server: the connection heals itself through the retry policy.
  EXPECT_EQ(server.command({"CLIENT", "KILL", "TYPE", "normal"}), ":1\r\n");
  ASSERT_TRUE(test::run_until(
      *r, [&] { return resumed.has_value(); }, limit));
  EXPECT_TRUE(*resumed);
  EXPECT_TRUE(c.tls_resumed());
  ping(*r, c);
}

TEST_F(Resumption, OffEveryConnectIsAFullHandshake) {
  test::redis_server server(tls_server());
  auto r = test::make_reactor();
  ASSERT_TRUE(r);
  connection_config config = tls_config(server);
  config.tls_options.session_resumption = false;
  connection c{*r, config};
  for (int i = 0; i < 3; ++i) {
    connect_and_ping(*r, c);
    EXPECT_FALSE(c.tls_resumed()) << i;
    c.close();
  }
  EXPECT_EQ(c.tls_resumptions(), 0u);
}

TEST_F(Resumption, ARestartedServerRefusesTheTicketAndGetsAFullHandshake) {
  test::redis_server server(tls_server());
  auto r = test::make_reactor();
  ASSERT_TRUE(r);
  connection c{*r, tls_config(server)};
  connect_and_ping(*r, c);
  c.close();
  // A new process has new ticket keys: the ticket offered is not accepted.
  server.stop();
  server.start();
  connect_and_ping(*r, c);
  EXPECT_FALSE(c.tls_resumed());
  c.close();
  // The full handshake brought a new ticket, which this server does accept.
  connect_and_ping(*r, c);
  EXPECT_TRUE(c.tls_resumed());
  EXPECT_EQ(c.tls_resumptions(), 1u);
}

TEST_F(Resumption, Tls12ResumesToo) {
  test::redis_server_options o = tls_server();
  o.args = {"--tls-protocols", "TLSv1.2"};
  test::redis_server server(o);
  auto r = test::make_reactor();
  ASSERT_TRUE(r);
  connection c{*r, tls_config(server)};
  connect_and_ping(*r, c);
  c.close();
  connect_and_ping(*r, c);
  EXPECT_TRUE(c.tls_resumed());
}

TEST_F(Resumption, MutualTlsResumesWithTheClientCertificate) {
  test::redis_server server(tls_server(/*auth_clients=*/true));
  auto r = test::make_reactor();
  ASSERT_TRUE(r);
  connection_config config = tls_config(server);
  config.tls_options.cert_file = certs->cert("client");
  config.tls_options.key_file = certs->key("client");
  connection c{*r, config};
  connect_and_ping(*r, c);
  c.close();
  connect_and_ping(*r, c);
  EXPECT_TRUE(c.tls_resumed());
}

// Answers `at`, whatever it is at the time.
class movable_provider final : public address_provider {
 public:
  void locate(address_request& request) override { request.answer(at); }
  endpoint at;
};

TEST_F(Resumption, ASessionIsNeverOfferedToAnotherName) {
  // One server at two addresses, only 127.0.0.1 in its certificate (not ::1); the address
  // provider names the first, then the second (a failover, a DNS answer that changed). Resuming
  // the first name's session there would skip checking the certificate against the new name:
  // a server sharing ticket keys would be trusted for a name it has no certificate for.
  test::redis_server_options o = tls_server();
  o.args = {"--bind", "127.0.0.1", "::1"};
  test::redis_server server(std::move(o));
  auto r = test::make_reactor();
  ASSERT_TRUE(r);
  auto provider = std::make_shared<movable_provider>();
  provider->at = {"127.0.0.1", server.port()};
  connection_config config = tls_config(server);
  config.address = provider;
  config.retry_first_connect = false;
  connection c{*r, config};
  connect_and_ping(*r, c);
  c.close();

  provider->at = {"::1", server.port()};
  std::optional<result<void>> connected;
  c.connect([&](const result<void>& o) { connected = o; });
  ASSERT_TRUE(test::run_until(
      *r, [&] { return connected.has_value(); }, limit));
  ASSERT_TRUE(connected->has_error()) << "connected to ::1, which the certificate does not name";
  EXPECT_EQ(connected->error(), errc::tls_host_name_mismatch) << connected->error().message();
  EXPECT_EQ(c.tls_resumptions(), 0u);

  // Back at the name it was made with, a session is offered again (the one the first connect
  // kept, or none: never one from another name).
  provider->at = {"127.0.0.1", server.port()};
  connect_and_ping(*r, c);
}

}  // namespace
}  // namespace uredis

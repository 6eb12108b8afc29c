// OCSP responder checks end to end: uredis connections (ocsp_mode::responder) to a real
// redis-server listening for TLS, asking a real responder (openssl ocsp, from an index.txt made
// at test time) from the reactor after the handshake. A good answer connects, a revoked one is
// refused before any command reaches Redis, a responder that is down or silent fails the
// connect closed (a silent one as unavailable, or as a timeout when the setup's deadline cut
// the check short), an alert the server sends meanwhile is the error, a resumed reconnect
// is checked as well, and the shard's cache answers the next connect without asking again.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <system_error>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/ocsp_responder.hpp"
#include "../support/ocsp_suite.hpp"
#include "../support/redis_server.hpp"
#include "../support/test_certificates.hpp"
#include "tls/ocsp_cache.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/cmd/all.hpp"
#include "uredis/error.hpp"

namespace uredis {
namespace {

using namespace std::chrono_literals;

// A responder that never answers: a listener that never accepts (the connect succeeds into
// its backlog; no byte ever comes back).
class silent_responder {
 public:
  silent_responder() : port_(test::free_loopback_port()), fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port_);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    listening_ = fd_ >= 0 &&
                 ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                 ::listen(fd_, 8) == 0;
  }
  ~silent_responder() {
    if (fd_ >= 0) ::close(fd_);
  }
  silent_responder(const silent_responder&) = delete;
  silent_responder& operator=(const silent_responder&) = delete;

  bool listening() const noexcept { return listening_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/ocsp"; }

 private:
  std::uint16_t port_;
  int fd_;
  bool listening_ = false;
};

class OcspResponder : public test::ocsp_suite {
 protected:
  void SetUp() override {
    tls::ocsp_cache::this_shard().clear();  // every test starts with nothing known
    test::redis_server_options o;
    o.tls = test::redis_tls_options{certs->cert("server"), certs->key("server"), certs->cert("ca"),
                                    false};
    redis.emplace(o);
    ASSERT_EQ(redis->command({"CONFIG", "RESETSTAT"}), "+OK\r\n");
    loop = test::make_reactor();
    ASSERT_NE(loop, nullptr);
  }

  // A responder that knows the server's certificate as `status`.
  static std::unique_ptr<test::ocsp_responder> responder(test::cert_status status,
                                                         bool next_update = true) {
    const std::string index =
        responses->index({{"server", status}}, certs->dir() + "/responder_index.txt");
    return std::make_unique<test::ocsp_responder>(*certs, *responses, index, next_update);
  }

  connection_config config(const std::string& responder_url) const {
    connection_config c = test::config_for(*redis);
    c.tls = true;
    c.tls_options.ca_file = certs->cert("ca");
    c.tls_options.ocsp = tls::ocsp_mode::responder;
    c.tls_options.ocsp_responder_url = responder_url;
    c.retry_first_connect = false;
    c.connect_timeout = 5s;
    return c;
  }

  // Connects a new connection on the test's shard: the outcome, within 10 s.
  result<void> connect(const connection_config& c) {
    connection conn{*loop, c};
    std::optional<result<void>> outcome;
    conn.connect([&](const result<void>& o) { outcome = o; });
    if (!test::run_until(
            *loop, [&] { return outcome.has_value(); }, 10s))
      return errc::timeout;  // the test fails on the code below
    return *outcome;
  }

  bool redis_saw_a_client_command() const {
    const std::string stats = redis->command({"INFO", "commandstats"});
    for (const char* name : {"cmdstat_hello", "cmdstat_ping", "cmdstat_client"})
      if (stats.find(name) != std::string::npos) return true;
    return false;
  }

  std::optional<test::redis_server> redis;
  std::unique_ptr<reactor::reactor> loop;
};

TEST_F(OcspResponder, AGoodAnswerConnects) {
  const auto r = responder(test::cert_status::good);
  const result<void> outcome = connect(config(r->url()));
  EXPECT_TRUE(outcome.has_value()) << outcome.error().message();
  EXPECT_TRUE(redis_saw_a_client_command());
}

TEST_F(OcspResponder, ARevokedCertificateIsRefusedBeforeAnyCommand) {
  const auto r = responder(test::cert_status::revoked);
  const result<void> outcome = connect(config(r->url()));
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error(), make_error_code(errc::tls_certificate_revoked));
  EXPECT_FALSE(redis_saw_a_client_command());
}

TEST_F(OcspResponder, AnUnknownCertificateIsRefused) {
  const auto r = responder(test::cert_status::unknown);
  const result<void> outcome = connect(config(r->url()));
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error(), make_error_code(errc::ocsp_response_invalid));
}

TEST_F(OcspResponder, AResponderThatIsDownFailsClosed) {
  const std::string nobody = "http://127.0.0.1:" + std::to_string(test::free_loopback_port()) + "/";
  const result<void> outcome = connect(config(nobody));
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error(), make_error_code(errc::ocsp_responder_unavailable));
  EXPECT_FALSE(redis_saw_a_client_command());
}

TEST_F(OcspResponder, ASilentResponderTimesOutClosed) {
  const silent_responder silent;
  ASSERT_TRUE(silent.listening());
  connection_config c = config(silent.url());
  c.tls_options.ocsp_responder_timeout = 300ms;
  const auto start = std::chrono::steady_clock::now();
  const result<void> outcome = connect(c);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error(), make_error_code(errc::ocsp_responder_unavailable));
  EXPECT_LT(took, 3s) << "the responder timeout did not bound the wait";
}

TEST_F(OcspResponder, ASilentResponderIsUnavailableUnlessTheSetupCutItShort) {
  // With the defaults (the responder's 2 s inside the setup's 5 s) a responder that never
  // answers is reported as unavailable, not retried. A responder timeout longer than what the
  // setup has left is cut short at the setup's deadline, and that is a timeout (retried).
  const silent_responder silent;
  ASSERT_TRUE(silent.listening());
  connection_config c = config(silent.url());
  ASSERT_LT(c.tls_options.ocsp_responder_timeout, connection_config{}.connect_timeout);
  c.connect_timeout = connection_config{}.connect_timeout;
  const result<void> unanswered = connect(c);
  ASSERT_FALSE(unanswered.has_value());
  EXPECT_EQ(unanswered.error(), make_error_code(errc::ocsp_responder_unavailable))
      << unanswered.error().message();

  c.connect_timeout = 1s;
  c.tls_options.ocsp_responder_timeout = 5s;
  const result<void> cut_short = connect(c);
  ASSERT_FALSE(cut_short.has_value());
  EXPECT_EQ(cut_short.error(), make_error_code(errc::timeout)) << cut_short.error().message();
}

TEST_F(OcspResponder, AnAlertWhileTheResponderIsAskedIsTheError) {
  // Under TLS 1.3 a server that requires a client certificate refuses a missing one after the
  // client's side of the handshake is done: while the (silent) responder is asked. Its alert,
  // not the close behind it, says why (tls_peer_alert is not retried; connection_closed is).
  test::redis_server_options o;
  o.tls = test::redis_tls_options{certs->cert("server"), certs->key("server"), certs->cert("ca"),
                                  /*auth_clients=*/true};
  test::redis_server strict(o);
  const silent_responder silent;
  ASSERT_TRUE(silent.listening());
  connection_config c = config(silent.url());
  c.port = strict.port();
  const result<void> outcome = connect(c);
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error(), make_error_code(errc::tls_peer_alert)) << outcome.error().message();
}

TEST_F(OcspResponder, AResumedReconnectIsCheckedToo) {
  // A resumed handshake carries no certificate: the check must still find the server's (the
  // session keeps it), ask (or find the cached answer), and let the connection through.
  const auto r = responder(test::cert_status::good);
  connection conn{*loop, config(r->url())};
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::optional<result<void>> outcome;
    conn.connect([&](const result<void>& o) { outcome = o; });
    ASSERT_TRUE(test::run_until(
        *loop, [&] { return outcome.has_value(); }, 10s));
    ASSERT_TRUE(outcome->has_value()) << attempt << ": " << outcome->error().message();
    // A reply brings the TLS 1.3 tickets along, for the next connect to resume.
    std::optional<result<std::string>> pong;
    conn.exec(cmd::ping{}, [&](result<std::string> v) { pong.emplace(std::move(v)); });
    ASSERT_TRUE(test::run_until(
        *loop, [&] { return pong.has_value(); }, 10s));
    ASSERT_TRUE(pong->has_value()) << attempt;
    conn.close();
    tls::ocsp_cache::this_shard().clear();  // the second check asks the responder again
  }
  EXPECT_EQ(conn.tls_resumptions(), 1u) << "the second connect did not resume";
}

TEST_F(OcspResponder, TheShardCachesAnAnswerUntilItsNextUpdate) {
  auto r = responder(test::cert_status::good);
  const std::string url = r->url();
  ASSERT_TRUE(connect(config(url)).has_value());
  EXPECT_EQ(tls::ocsp_cache::this_shard().size(), 1u);
  // The responder is gone: only the cached answer can let the second connect through.
  r->stop();
  const result<void> again = connect(config(url));
  EXPECT_TRUE(again.has_value()) << again.error().message();
  // Without the cache the same connect fails closed.
  tls::ocsp_cache::this_shard().clear();
  const result<void> uncached = connect(config(url));
  ASSERT_FALSE(uncached.has_value());
  EXPECT_EQ(uncached.error(), make_error_code(errc::ocsp_responder_unavailable));
}

TEST_F(OcspResponder, AnAnswerWithoutANextUpdateIsNeverCached) {
  // No nextUpdate: the responder always has newer information (RFC 6960 4.2.2.1), so a later
  // revocation must be seen by the next connect.
  auto r = responder(test::cert_status::good, false);
  const std::string url = r->url();
  const result<void> first = connect(config(url));
  ASSERT_TRUE(first.has_value()) << first.error().message();
  EXPECT_EQ(tls::ocsp_cache::this_shard().size(), 0u);
  r = responder(test::cert_status::revoked, false);
  const result<void> revoked = connect(config(r->url()));
  ASSERT_FALSE(revoked.has_value());
  EXPECT_EQ(revoked.error(), make_error_code(errc::tls_certificate_revoked));
}

TEST_F(OcspResponder, AServerTwoIntermediatesBelowTheCaIsChecked) {
  // The chain the server sends names deep_server's issuer (intermediate_2) only through
  // intermediate_1: each must be trusted before the one it signed.
  test::redis_server_options o;
  o.tls = test::redis_tls_options{certs->cert("deep_server_chain"), certs->key("deep_server"),
                                  certs->cert("ca"), false};
  redis.emplace(o);
  for (const test::cert_status status : {test::cert_status::good, test::cert_status::revoked}) {
    const std::string index =
        responses->index({{"deep_server", status}}, certs->dir() + "/deep_index.txt");
    test::ocsp_responder r(*certs, *responses, index, true, "intermediate_2");
    tls::ocsp_cache::this_shard().clear();
    const result<void> outcome = connect(config(r.url()));
    if (status == test::cert_status::good) {
      EXPECT_TRUE(outcome.has_value()) << outcome.error().message();
    } else {
      ASSERT_FALSE(outcome.has_value());
      EXPECT_EQ(outcome.error(), make_error_code(errc::tls_certificate_revoked));
    }
  }
}

}  // namespace
}  // namespace uredis

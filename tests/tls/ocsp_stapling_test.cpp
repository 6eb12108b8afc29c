// OCSP stapling end to end: uredis connections through haproxy, a real TLS terminator that
// staples the OCSP response beside its certificate, to a plaintext redis-server. The responses
// are made at test time with openssl (and libfaketime for a stale one): a good staple connects,
// a revoked one is refused, must_staple refuses a server without a staple, and a staple about
// another certificate or past its nextUpdate cannot be trusted. A refused connection never
// reaches Redis: no command is counted there.

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <system_error>

#include "../support/haproxy_terminator.hpp"
#include "../support/ocsp_suite.hpp"
#include "../support/openssl_stapling_server.hpp"
#include "../support/redis_server.hpp"
#include "../support/test_certificates.hpp"
#include "uredis/client/blocking_client.hpp"
#include "uredis/cmd/all.hpp"
#include "uredis/exceptions.hpp"

namespace uredis {
namespace {

class OcspStapling : public test::ocsp_suite {
 protected:
  void SetUp() override {
    redis.emplace();
    ASSERT_EQ(redis->command({"CONFIG", "RESETSTAT"}), "+OK\r\n");
  }

  // haproxy in front of `redis`, presenting server.crt with `staple` (none when empty).
  test::haproxy_options terminator(const std::string& staple) const {
    test::haproxy_options o;
    o.cert_file = certs->cert("server");
    o.key_file = certs->key("server");
    o.ocsp_response_file = staple;
    o.issuer_file = certs->cert("ca");
    o.backend_port = redis->port();
    return o;
  }

  static std::string response_path(const std::string& name) {
    return certs->dir() + "/" + name + ".der";
  }

  static connection_config tls_config(const test::haproxy_terminator& proxy, tls::ocsp_mode mode) {
    connection_config c;
    c.host = "127.0.0.1";
    c.port = proxy.port();
    c.tls = true;
    c.tls_options.ca_file = certs->cert("ca");
    c.tls_options.ocsp = mode;
    c.retry_first_connect = false;
    c.connect_timeout = std::chrono::seconds(3);
    return c;
  }

  // The code a blocking connect fails with; none when it connects and a command works.
  static std::error_code connect_error(const connection_config& config) {
    try {
      blocking_client c{config};
      if (c.incr("n") < 1) return make_error_code(errc::type_mismatch);
      return {};
    } catch (const error& e) {
      return e.code();
    }
  }

  // Whether a client command (the handshake's HELLO, or anything after it) reached Redis since
  // SetUp: the fixture's own CONFIG and INFO do not count.
  bool redis_saw_a_client_command() const {
    const std::string stats = redis->command({"INFO", "commandstats"});
    for (const char* name : {"cmdstat_hello", "cmdstat_ping", "cmdstat_incr", "cmdstat_client"})
      if (stats.find(name) != std::string::npos) return true;
    return false;
  }

  std::optional<test::redis_server> redis;
};

TEST_F(OcspStapling, AGoodStapleConnects) {
  const std::string good =
      responses->response("server", test::cert_status::good, response_path("good"));
  test::haproxy_terminator proxy(terminator(good));
  EXPECT_FALSE(connect_error(tls_config(proxy, tls::ocsp_mode::stapling))) << proxy.log();
  EXPECT_FALSE(connect_error(tls_config(proxy, tls::ocsp_mode::must_staple))) << proxy.log();
  EXPECT_EQ(redis->command({"GET", "n"}), "$1\r\n2\r\n");
}

TEST_F(OcspStapling, TheDefaultModeChecksAStaple) {
  const std::string revoked =
      responses->response("server", test::cert_status::revoked, response_path("revoked"));
  test::haproxy_terminator proxy(terminator(revoked));
  connection_config c = tls_config(proxy, tls::ocsp_mode::off);
  c.tls_options = tls::options{};
  c.tls_options.ca_file = certs->cert("ca");
  EXPECT_EQ(connect_error(c), make_error_code(errc::tls_certificate_revoked));
}

TEST_F(OcspStapling, ARevokedCertificateIsRefusedBeforeAnyCommand) {
  const std::string revoked =
      responses->response("server", test::cert_status::revoked, response_path("revoked"));
  test::haproxy_terminator proxy(terminator(revoked));
  EXPECT_EQ(connect_error(tls_config(proxy, tls::ocsp_mode::stapling)),
            make_error_code(errc::tls_certificate_revoked));
  EXPECT_EQ(connect_error(tls_config(proxy, tls::ocsp_mode::must_staple)),
            make_error_code(errc::tls_certificate_revoked));
  EXPECT_FALSE(redis_saw_a_client_command())
      << "a command reached Redis over a revoked certificate";
}

TEST_F(OcspStapling, OffDoesNotLookAtTheStaple) {
  const std::string revoked =
      responses->response("server", test::cert_status::revoked, response_path("revoked"));
  test::haproxy_terminator proxy(terminator(revoked));
  EXPECT_FALSE(connect_error(tls_config(proxy, tls::ocsp_mode::off)));
}

TEST_F(OcspStapling, MustStapleRefusesAServerWithoutAStaple) {
  test::haproxy_terminator proxy(terminator(""));
  EXPECT_EQ(connect_error(tls_config(proxy, tls::ocsp_mode::must_staple)),
            make_error_code(errc::ocsp_staple_missing));
  EXPECT_FALSE(redis_saw_a_client_command());
  // Plain stapling takes a server that sends none.
  EXPECT_FALSE(connect_error(tls_config(proxy, tls::ocsp_mode::stapling)));
}

TEST_F(OcspStapling, AStapleAboutAnotherCertificateIsInvalid) {
  // A good response, correctly signed, about the wrong_host certificate. haproxy will not staple
  // a response that does not name its certificate, so openssl s_server staples it, unchecked.
  const std::string other =
      responses->response("wrong_host", test::cert_status::good, response_path("other_cert"));
  test::openssl_stapling_server server(certs->cert("server"), certs->key("server"), other);
  connection_config c;
  c.host = "127.0.0.1";
  c.port = server.port();
  c.tls = true;
  c.tls_options.ca_file = certs->cert("ca");
  c.retry_first_connect = false;
  c.connect_timeout = std::chrono::seconds(3);
  EXPECT_EQ(connect_error(c), make_error_code(errc::ocsp_response_invalid));
}

TEST_F(OcspStapling, AStaplePastItsNextUpdateIsInvalid) {
  // Signed in January 2020, valid for a day; haproxy, believing it is then, staples it now.
  const std::string stale = responses->response(
      "server", test::cert_status::good, response_path("stale"), "ca", "2020-01-05 00:00:00");
  test::haproxy_options o = terminator(stale);
  o.fake_time = "2020-01-05 12:00:00";
  test::haproxy_terminator proxy(o);
  ASSERT_EQ(proxy.log().find("ignored"), std::string::npos) << proxy.log();
  EXPECT_EQ(connect_error(tls_config(proxy, tls::ocsp_mode::stapling)),
            make_error_code(errc::ocsp_response_invalid));
  EXPECT_FALSE(redis_saw_a_client_command());
}

}  // namespace
}  // namespace uredis

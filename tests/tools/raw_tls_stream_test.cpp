// raw_tls_stream through raw_connection, in-process, against a real TLS redis-server: a round
// trip (a 1 MiB value, many records each way), the certificate checks the session's connection
// makes (a wrong CA, a wrong name, a plaintext server; a silent one times out), and
// ocsp_mode::responder against a real responder (openssl ocsp): a good answer connects, a revoked
// one and a responder that is down are refused, and the thread's cache answers without a query.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "../support/ocsp_responder.hpp"
#include "../support/ocsp_suite.hpp"
#include "../support/redis_server.hpp"
#include "../support/test_certificates.hpp"
#include "raw_connection.hpp"
#include "tls/ocsp_cache.hpp"
#include "uredis/error.hpp"

namespace uredis::cli {
namespace {

class RawTlsStream : public test::ocsp_suite {
 protected:
  void SetUp() override {
    tls::ocsp_cache::this_shard().clear();
    test::redis_server_options o;
    o.tls = test::redis_tls_options{certs->cert("server"), certs->key("server"), certs->cert("ca"),
                                    false};
    redis.emplace(o);
  }

  server_options tls_server() const {
    server_options s;
    s.host = redis->host();
    s.port = redis->port();
    s.tls.enabled = true;
    s.tls.options.ca_file = certs->cert("ca");
    return s;
  }

  std::unique_ptr<raw_connection> open(const server_options& s, std::error_code& ec) {
    return raw_connection::open(s, session_setup{}, ec);
  }

  // Sends `args` as RESP and reads the reply.
  static std::error_code call(raw_connection& c, const std::vector<std::string>& args,
                              resp::reply& r) {
    std::string request = "*" + std::to_string(args.size()) + "\r\n";
    for (const std::string& a : args)
      request.append("$").append(std::to_string(a.size())).append("\r\n").append(a).append("\r\n");
    if (const std::error_code ec = c.write_all(request)) return ec;
    return c.read_reply(r);
  }

  static std::unique_ptr<test::ocsp_responder> responder(test::cert_status status) {
    const std::string index =
        responses->index({{"server", status}}, certs->dir() + "/responder_index.txt");
    return std::make_unique<test::ocsp_responder>(*certs, *responses, index);
  }

  std::optional<test::redis_server> redis;
};

TEST_F(RawTlsStream, CarriesCommandsAndLongValuesBothWays) {
  std::error_code ec;
  const std::unique_ptr<raw_connection> c = open(tls_server(), ec);
  ASSERT_NE(c, nullptr) << ec.message();
  resp::reply r;
  ASSERT_FALSE(call(*c, {"PING"}, r));
  EXPECT_EQ(r.text(), "PONG");
  const std::string big(1 << 20, 'v');
  ASSERT_FALSE(call(*c, {"SET", "big", big}, r));
  EXPECT_EQ(r.text(), "OK");
  ASSERT_FALSE(call(*c, {"GET", "big"}, r));
  EXPECT_EQ(r.text(), big);
}

TEST_F(RawTlsStream, TheReplyBeforeTheServerClosesComesFirst) {
  std::error_code ec;
  const std::unique_ptr<raw_connection> c = open(tls_server(), ec);
  ASSERT_NE(c, nullptr) << ec.message();
  resp::reply r;
  // The server kills this very connection after its reply.
  ASSERT_FALSE(call(*c, {"CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no"}, r));
  EXPECT_EQ(r.type(), resp::type::integer);
  EXPECT_EQ(c->read_reply(r), make_error_code(errc::connection_closed));
}

TEST_F(RawTlsStream, AWrongCaIsUntrusted) {
  server_options s = tls_server();
  s.tls.options.ca_file = certs->cert("other_ca");
  std::error_code ec;
  EXPECT_EQ(open(s, ec), nullptr);
  EXPECT_EQ(ec, make_error_code(errc::tls_certificate_untrusted));
}

TEST_F(RawTlsStream, AWrongNameIsRefusedUnlessInsecure) {
  server_options s = tls_server();
  s.tls.options.server_name = "wrong.test";
  std::error_code ec;
  EXPECT_EQ(open(s, ec), nullptr);
  EXPECT_EQ(ec, make_error_code(errc::tls_host_name_mismatch));
  s.tls.options.verify_peer = false;
  EXPECT_NE(open(s, ec), nullptr) << ec.message();
}

// A listener on a free loopback port; `answer`, if not empty, is written to the first client.
class fake_server {
 public:
  explicit fake_server(std::string answer) {
    port = test::free_loopback_port();
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    if (answer.empty()) return;  // silent: the kernel completes the connect, nobody answers
    thread_ = std::thread([this, answer] {
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      (void)::send(client, answer.data(), answer.size(), MSG_NOSIGNAL);
      char buffer[4096];
      while (::recv(client, buffer, sizeof buffer, 0) > 0) {
      }
      ::close(client);
    });
  }
  ~fake_server() {
    ::shutdown(fd_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  fake_server(const fake_server&) = delete;
  fake_server& operator=(const fake_server&) = delete;

  std::uint16_t port = 0;

 private:
  int fd_ = -1;
  std::thread thread_;
};

TEST_F(RawTlsStream, APlaintextServerThatAnswersIsNotTls) {
  const fake_server plain{"-ERR Protocol error\r\n"};
  server_options s = tls_server();
  s.port = plain.port;
  std::error_code ec;
  EXPECT_EQ(open(s, ec), nullptr);
  EXPECT_EQ(ec, make_error_code(errc::tls_peer_not_tls));
}

TEST_F(RawTlsStream, ASilentServerTimesTheHandshakeOut) {
  const fake_server silent{""};
  server_options s = tls_server();
  s.port = silent.port;
  std::error_code ec;
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(open(s, ec), nullptr);
  EXPECT_EQ(ec, make_error_code(errc::timeout));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(8));
}

TEST_F(RawTlsStream, OcspResponderGoodConnectsAndIsCached) {
  const std::unique_ptr<test::ocsp_responder> r = responder(test::cert_status::good);
  server_options s = tls_server();
  s.tls.options.ocsp = tls::ocsp_mode::responder;
  s.tls.options.ocsp_responder_url = r->url();
  std::error_code ec;
  EXPECT_NE(open(s, ec), nullptr) << ec.message();
  EXPECT_EQ(tls::ocsp_cache::this_shard().size(), 1u);
  // The cache answers: a responder URL nobody listens on does not matter now.
  s.tls.options.ocsp_responder_url =
      "http://127.0.0.1:" + std::to_string(test::free_loopback_port()) + "/";
  EXPECT_NE(open(s, ec), nullptr) << ec.message();
}

TEST_F(RawTlsStream, OcspResponderRevokedIsRefused) {
  const std::unique_ptr<test::ocsp_responder> r = responder(test::cert_status::revoked);
  server_options s = tls_server();
  s.tls.options.ocsp = tls::ocsp_mode::responder;
  s.tls.options.ocsp_responder_url = r->url();
  std::error_code ec;
  EXPECT_EQ(open(s, ec), nullptr);
  EXPECT_EQ(ec, make_error_code(errc::tls_certificate_revoked));
}

TEST_F(RawTlsStream, OcspResponderDownIsUnavailable) {
  server_options s = tls_server();
  s.tls.options.ocsp = tls::ocsp_mode::responder;
  s.tls.options.ocsp_responder_url =
      "http://127.0.0.1:" + std::to_string(test::free_loopback_port()) + "/";
  std::error_code ec;
  EXPECT_EQ(open(s, ec), nullptr);
  EXPECT_EQ(ec, make_error_code(errc::ocsp_responder_unavailable));
}

}  // namespace
}  // namespace uredis::cli

// Bad input on a TLS connection, each failing with its own error, fast, with every pending
// command accounted for: a plaintext server answering the ClientHello (tls_peer_not_tls at
// once) or keeping silent (the connect timeout), a handshake cut short by the fault proxy (a
// dropped connection: retried, then working), and a record corrupted after the handshake
// (tls_record_invalid for the commands it took down; the client reconnects and carries on).

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/fault_proxy.hpp"
#include "../support/redis_server.hpp"
#include "../support/test_certificates.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/cmd/all.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/retry/retry_policy.hpp"

namespace uredis {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
constexpr auto limit = 8s;
constexpr auto s2c = test::direction::server_to_client;

// A one-connection loopback peer that reads whatever comes and, when `answer` is not empty,
// writes it back once: a stand-in for servers that do not speak TLS.
class plaintext_peer {
 public:
  explicit plaintext_peer(std::string answer) : answer_(std::move(answer)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof a;
    if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&a), size) != 0 ||
        ::listen(listener_, 4) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &size) != 0)
      throw std::runtime_error("plaintext_peer: cannot listen");
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~plaintext_peer() {
    stop_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    thread_.join();
    ::close(listener_);
  }
  plaintext_peer(const plaintext_peer&) = delete;
  plaintext_peer& operator=(const plaintext_peer&) = delete;

  std::uint16_t port() const noexcept { return port_; }

 private:
  void serve() {
    std::vector<int> clients;
    while (!stop_) {
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) break;
      clients.push_back(fd);
      char buffer[4096];
      if (::recv(fd, buffer, sizeof buffer, 0) > 0 && !answer_.empty())
        (void)::send(fd, answer_.data(), answer_.size(), MSG_NOSIGNAL);
    }
    for (const int fd : clients)
      ::close(fd);
  }

  std::string answer_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

class BadInput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { certs = new test::test_certificates(); }
  static void TearDownTestSuite() {
    delete certs;
    certs = nullptr;
  }

  static test::redis_server_options tls_server() {
    test::redis_server_options o;
    o.tls = test::redis_tls_options{certs->cert("server"), certs->key("server"), certs->cert("ca"),
                                    false};
    return o;
  }

  static connection_config tls_config(std::uint16_t port) {
    connection_config c;
    c.host = "127.0.0.1";
    c.port = port;
    c.tls = true;
    c.tls_options.ca_file = certs->cert("ca");
    c.connect_timeout = 3s;
    c.retry = {retry::backoff::constant(20ms), 50};
    return c;
  }

  static result<void> connect(reactor::reactor& r, connection& c) {
    std::optional<result<void>> outcome;
    c.connect([&](const result<void>& o) { outcome = o; });
    if (!test::run_until(
            r, [&] { return outcome.has_value(); }, limit))
      return make_error_code(errc::timeout);
    return *outcome;
  }

  static test::test_certificates* certs;
};

test::test_certificates* BadInput::certs = nullptr;

TEST_F(BadInput, APlaintextServerAnsweringTheClientHelloIsNamedAtOnce) {
  plaintext_peer peer("-ERR unknown command '\x16\x03\x01', with args beginning with: \r\n");
  auto r = test::make_reactor();
  ASSERT_TRUE(r);
  connection_config config = tls_config(peer.port());
  config.retry_first_connect = true;  // not retried anyway: a plaintext server stays one
  connection c{*r, config};
  const auto started = steady::now();
  const result<void> outcome = connect(*r, c);
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error(), make_error_code(errc::tls_peer_not_tls)) << outcome.error().message();
  EXPECT_LT(steady::now() - started, 1s) << "named from the first bytes, not the timeout";
  EXPECT_EQ(r->events().stats().reconnect_scheduled, 0u);
}

TEST_F(BadInput, ASilentPeerEndsByTheConnectTimeout) {
  plaintext_peer peer("");
  auto r = test::make_reactor();
  ASSERT_TRUE(r);
  connection_config config = tls_config(peer.port());
  config.retry_first_connect = false;
  config.connect_timeout = 300ms;
  connection c{*r, config};
  const auto started = steady::now();
  const result<void> outcome = connect(*r, c);
  ASSERT_FALSE(outcome.has_value());
  EXPECT_EQ(outcome.error(), make_error_code(errc::timeout)) << outcome.error().message();
  EXPECT_LT(steady::now() - started, 2s);
}

TEST_F(BadInput, ARealPlaintextRedisIsNamedOrTimesOut) {
  test::redis_server server;  // plaintext only
  auto r = test::make_reactor();
  ASSERT_TRUE(r);
  connection_config config = tls_config(server.port());
  config.retry_first_connect = false;
  config.connect_timeout = 1s;
  connection c{*r, config};
  // redis reads the ClientHello as an inline command: it answers (-ERR) only when the random
  // bytes hold a newline, and otherwise waits for one.
  const result<void> outcome = connect(*r, c);
  ASSERT_FALSE(outcome.has_value());
  EXPECT_TRUE(outcome.error() == make_error_code(errc::tls_peer_not_tls) ||
              outcome.error() == make_error_code(errc::timeout))
      << outcome.error().message();
}

// The proxy passes the ClientHello, then cuts the server's first flight short: an end of
// stream mid-handshake, retried like any dropped connection; the next handshake completes.
TEST_F(BadInput, AHandshakeCutShortIsRetriedAndTheNextOneCompletes) {
  test::redis_server server(tls_server());
  test::fault_proxy proxy(server.host(), server.port());
  auto r = test::make_reactor();
  ASSERT_TRUE(r);
  connection_config config = tls_config(proxy.port());
  connection c{*r, config};
  proxy.cut_after(40, s2c);  // inside the ServerHello
  ASSERT_TRUE(connect(*r, c).has_value());
  EXPECT_GE(proxy.connections_accepted(), 2u);
  EXPECT_GE(r->events().stats().reconnect_scheduled, 1u);

  // Once ready: the next handshake (after a kill) is cut too; commands issued meanwhile wait
  // and succeed on the socket after it.
  proxy.cut_after(40, s2c);
  proxy.close_all();
  ASSERT_TRUE(test::run_until(
      *r, [&] { return r->events().stats().disconnected == 1; }, limit));
  std::optional<result<std::int64_t>> n;
  c.exec(cmd::incr{"after-cut"}, [&](result<std::int64_t> v) { n.emplace(std::move(v)); });
  ASSERT_TRUE(test::run_until(
      *r, [&] { return n.has_value(); }, limit));
  ASSERT_TRUE(n->has_value()) << n->error().message();
  EXPECT_EQ(**n, 1);
  EXPECT_EQ(r->events().stats().retries_exhausted, 0u);
}

// One byte of the reply stream flipped: the record fails its integrity check. The commands
// written on that socket complete once, with tls_record_invalid (an INCR may or may not have
// run, but never twice) or their reply; the client reconnects and later commands succeed.
TEST_F(BadInput, ACorruptedRecordFailsItsCommandsAndTheClientCarriesOn) {
  test::redis_server server(tls_server());
  test::fault_proxy proxy(server.host(), server.port());
  auto r = test::make_reactor();
  ASSERT_TRUE(r);
  connection c{*r, tls_config(proxy.port())};
  ASSERT_TRUE(connect(*r, c).has_value());

  constexpr int count = 2000;
  std::vector<std::uint32_t> completions(count);
  std::vector<std::optional<result<std::int64_t>>> outcome(count);
  proxy.flip_byte(3000, s2c);  // a few records into the replies
  for (int i = 0; i < count; ++i)
    c.exec(cmd::incr{"corrupt:" + std::to_string(i)}, [&, i](result<std::int64_t> v) {
      ++completions[i];
      outcome[i].emplace(std::move(v));
    });
  ASSERT_TRUE(test::run_until(
      *r,
      [&] {
        for (const auto& o : outcome)
          if (!o) return false;
        return true;
      },
      limit));

  int ok = 0, invalid = 0, other = 0;
  for (int i = 0; i < count; ++i) {
    EXPECT_EQ(completions[i], 1u) << i;
    if (outcome[i]->has_value()) {
      ++ok;
      EXPECT_EQ(**outcome[i], 1) << i;
    } else if (outcome[i]->has_error() &&
               outcome[i]->error() == make_error_code(errc::tls_record_invalid)) {
      ++invalid;
    } else {
      ++other;
    }
  }
  EXPECT_GT(invalid, 0) << "the corruption missed the replies";
  EXPECT_GT(ok, 0);
  EXPECT_EQ(other, 0);
  // No INCR ran twice (the uncertain ones were not resent).
  for (int i = 0; i < count; ++i) {
    const std::string reply = server.command({"GET", "corrupt:" + std::to_string(i)});
    EXPECT_TRUE(reply == "$1\r\n1\r\n" || reply == "$-1\r\n") << i << ": " << reply;
    if (outcome[i]->has_value()) {
      EXPECT_EQ(reply, "$1\r\n1\r\n") << i;
    }
  }
  const event::stats& st = r->events().stats();
  EXPECT_EQ(st.disconnected, 1u);
  EXPECT_EQ(st.retries_exhausted, 0u);

  std::optional<result<std::int64_t>> after;
  c.exec(cmd::incr{"after"}, [&](result<std::int64_t> v) { after.emplace(std::move(v)); });
  ASSERT_TRUE(test::run_until(
      *r, [&] { return after.has_value(); }, limit));
  ASSERT_TRUE(after->has_value()) << after->error().message();
  EXPECT_EQ(**after, 1);
  EXPECT_EQ(st.reconnected, 1u);
}

}  // namespace
}  // namespace uredis

// tcp_transport: the byte stream under a connection, against a real redis-server over TCP and a
// Unix socket: connect, send straight from the caller's bytes (a send larger than the socket
// buffers included), receive in place, EOF, refusal, and close from inside its own report.

#include "io/tcp_transport.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/redis_server.hpp"
#include "uredis/reactor/reactor.hpp"

namespace uredis::io {
namespace {

using test::make_reactor;

// Registers with the reactor, forwards completions to the transport, records its reports.
class harness final : reactor::io_target, transport_events {
 public:
  // provided_buffers false: the fallback path of kernels without them (one-shot recv).
  explicit harness(reactor::reactor& r, tcp_transport::options o = {}, bool provided_buffers = true)
      : transport(r.ring(), provided_buffers ? r.receive_buffers() : nullptr, *this, o),
        r_(r),
        slot_(r.attach(*this)) {}
  ~harness() { r_.detach(slot_); }

  std::error_code open(const socket_address& a) { return transport.open(a, slot_); }

  tcp_transport transport;
  bool connected = false;
  bool sent = false;
  std::string received;
  std::optional<std::error_code> failed;
  bool close_on_data = false;
  std::optional<socket_address> reopen_on_data;  // close, then open again here, once
  int one_shot_receives = 0;                     // op::recv completions

 private:
  void on_completion(op o, const io_uring_cqe& cqe) override {
    if (o == op::recv) ++one_shot_receives;
    transport.on_completion(o, cqe);
  }
  void on_transport_connected() override { connected = true; }
  void on_transport_data(std::string_view bytes) override {
    received.append(bytes);
    if (close_on_data) transport.close();
    if (reopen_on_data) {
      const socket_address to = *std::exchange(reopen_on_data, std::nullopt);
      transport.close();
      connected = false;
      (void)transport.open(to, slot_);
    }
  }
  void on_transport_sent() override { sent = true; }
  void on_transport_failed(std::error_code ec) override { failed = ec; }

  reactor::reactor& r_;
  std::uint64_t slot_;
};

socket_address address_of(const test::redis_server& s) {
  return *resolve(s.host(), s.port());
}

TEST(TcpTransport, ConnectsSendsAndReceivesInPlace) {
  test::redis_server server;
  auto r = make_reactor();
  harness h(*r);
  ASSERT_FALSE(h.open(address_of(server)));
  r->run_until([&] { return h.connected || h.failed; });
  ASSERT_TRUE(h.connected);
  const std::string ping = "*1\r\n$4\r\nPING\r\n";
  ASSERT_FALSE(h.transport.send(ping));
  EXPECT_TRUE(h.transport.sending());
  r->run_until([&] { return h.received.size() >= 7; });
  EXPECT_TRUE(h.sent);
  EXPECT_FALSE(h.transport.sending());
  EXPECT_EQ(h.received, "+PONG\r\n");
}

TEST(TcpTransport, ASendLargerThanTheSocketBuffersGoesOutWhole) {
  test::redis_server server;
  auto r = make_reactor();
  harness h(*r);
  ASSERT_FALSE(h.open(address_of(server)));
  r->run_until([&] { return h.connected || h.failed; });
  const std::string value(8 * 1024 * 1024, 'v');
  const std::string set = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$" + std::to_string(value.size()) +
                          "\r\n" + value + "\r\n*2\r\n$6\r\nSTRLEN\r\n$1\r\nk\r\n";
  ASSERT_FALSE(h.transport.send(set));
  r->run_until([&] { return h.received.size() >= 15 || h.failed; });
  EXPECT_TRUE(h.sent);
  EXPECT_EQ(h.received, "+OK\r\n:8388608\r\n");
}

TEST(TcpTransport, ReopenedFromItsOwnReceiveOnTheSameFdNumberKeepsOneReceiveArmed) {
  // One-shot receives: closing and opening again from inside a receive's report gets the same
  // descriptor number back, and the receive that reported must not arm another on it.
  test::redis_server server;
  auto r = make_reactor();
  harness h(*r, {}, /*provided_buffers=*/false);
  ASSERT_FALSE(h.open(address_of(server)));
  r->run_until([&] { return h.connected || h.failed; });
  ASSERT_TRUE(h.connected);
  const int first_fd = h.transport.native_handle();
  h.reopen_on_data = address_of(server);
  ASSERT_FALSE(h.transport.send("*1\r\n$4\r\nPING\r\n"));
  r->run_until([&] { return (h.received.size() >= 7 && h.connected) || h.failed; });
  ASSERT_FALSE(h.failed) << h.failed->message();
  ASSERT_EQ(h.transport.native_handle(), first_fd) << "not the case under test: a new number";
  ASSERT_FALSE(h.transport.send("*1\r\n$4\r\nPING\r\n"));
  r->run_until([&] { return h.received.size() >= 14 || h.failed; });
  EXPECT_EQ(h.received, "+PONG\r\n+PONG\r\n");
  const int before = h.one_shot_receives;
  h.transport.close();  // every receive still armed completes now
  for (int i = 0; i < 20; ++i)
    r->poll();
  EXPECT_EQ(h.one_shot_receives - before, 1) << "two receives were armed on one socket";
}

TEST(TcpTransport, UnixSocket) {
  test::redis_server server;
  auto r = make_reactor();
  harness h(*r);
  ASSERT_FALSE(h.open(*unix_socket_address(server.unix_socket())));
  r->run_until([&] { return h.connected || h.failed; });
  ASSERT_TRUE(h.connected);
  ASSERT_FALSE(h.transport.send("*1\r\n$4\r\nPING\r\n"));
  r->run_until([&] { return h.received.size() >= 7; });
  EXPECT_EQ(h.received, "+PONG\r\n");
}

TEST(TcpTransport, RefusedAndEndOfStreamAreReported) {
  socket_address nobody;
  {
    test::redis_server server;
    nobody = address_of(server);
  }
  auto r = make_reactor();
  harness refused(*r);
  ASSERT_FALSE(refused.open(nobody));
  r->run_until([&] { return refused.failed.has_value(); });
  EXPECT_EQ(*refused.failed, make_error_code(errc::connection_refused));

  test::redis_server server;
  harness h(*r);
  ASSERT_FALSE(h.open(address_of(server)));
  r->run_until([&] { return h.connected; });
  ASSERT_FALSE(h.transport.send("*1\r\n$4\r\nQUIT\r\n"));
  r->run_until([&] { return h.failed.has_value(); });
  EXPECT_EQ(h.received, "+OK\r\n");
  EXPECT_EQ(*h.failed, make_error_code(errc::connection_closed));
}

TEST(TcpTransport, ClosedFromItsOwnDataReportStopsAtOnce) {
  test::redis_server server;
  auto r = make_reactor();
  harness h(*r);
  ASSERT_FALSE(h.open(address_of(server)));
  r->run_until([&] { return h.connected; });
  h.close_on_data = true;
  ASSERT_FALSE(h.transport.send("*1\r\n$4\r\nPING\r\n"));
  r->run_until([&] { return !h.received.empty(); });
  for (int i = 0; i < 3; ++i)
    r->poll();
  EXPECT_FALSE(h.transport.is_open());
  EXPECT_FALSE(h.failed.has_value()) << "a closed transport reports nothing more";
}

TEST(TcpTransport, NagleIsOnlyOffWhenAsked) {
  test::redis_server server;
  auto r = make_reactor();
  for (const bool nodelay : {true, false}) {
    harness h(*r, {.tcp_nodelay = nodelay});
    ASSERT_FALSE(h.open(address_of(server)));
    int on = -1;
    socklen_t len = sizeof on;
    ASSERT_EQ(::getsockopt(h.transport.native_handle(), IPPROTO_TCP, TCP_NODELAY, &on, &len), 0);
    EXPECT_EQ(on != 0, nodelay);
  }
}

}  // namespace
}  // namespace uredis::io

// The fault proxy itself, against a real redis-server, with plain blocking sockets as the
// client: the fault tests stand on it, so each fault is shown to do exactly what it says.

#include "fault_proxy.hpp"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

#include "redis_server.hpp"

namespace uredis::test {
namespace {

using namespace std::chrono_literals;
using std::chrono::steady_clock;

constexpr auto c2s = direction::client_to_server;
constexpr auto s2c = direction::server_to_client;

std::string resp(std::initializer_list<std::string_view> args) {
  std::string out = "*" + std::to_string(args.size()) + "\r\n";
  for (const auto a : args) {
    out += "$" + std::to_string(a.size()) + "\r\n";
    out += a;
    out += "\r\n";
  }
  return out;
}

const std::string ping = resp({"PING"});
const std::string pong = "+PONG\r\n";

// How a read to the end of the stream finished.
struct ending {
  std::string bytes;
  int error = 0;  // 0: end of stream; ECONNRESET: reset; ETIMEDOUT: still open at the deadline
};

// A blocking loopback client that never hangs: every read has a deadline.
class client {
 public:
  explicit client(std::uint16_t port) : fd_(test::connect_loopback(port)) {
    if (fd_ < 0) throw std::runtime_error("connect");
  }
  ~client() { ::close(fd_); }
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  void send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw std::runtime_error("send");
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
  }

  /// Reads until `count` bytes came, the stream ended, or the deadline passed.
  std::string receive(std::size_t count, std::chrono::milliseconds timeout = 2000ms) {
    return read(count, timeout).bytes;
  }

  /// Reads everything until the stream ends (or the deadline passes).
  ending read_to_end(std::chrono::milliseconds timeout = 2000ms) {
    return read(std::string::npos, timeout);
  }

 private:
  ending read(std::size_t count, std::chrono::milliseconds timeout) {
    ending out;
    const auto deadline = steady_clock::now() + timeout;
    char buffer[64 * 1024];
    while (out.bytes.size() < count) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      const int ready = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) {
        out.error = ETIMEDOUT;
        return out;
      }
      const std::size_t want = std::min(sizeof buffer, count - out.bytes.size());
      const ssize_t n = ::recv(fd_, buffer, want, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        out.error = errno;
        return out;
      }
      if (n == 0) return out;
      out.bytes.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
  }

  int fd_;
};

// Polls `condition` until it holds or two seconds pass: the proxy thread accepts and closes
// on its own time.
bool eventually(const std::function<bool()>& condition) {
  const auto deadline = steady_clock::now() + 2s;
  while (!condition()) {
    if (steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

class FaultProxy : public ::testing::Test {
 protected:
  redis_server server_;
  fault_proxy proxy_{server_.host(), server_.port()};
};

TEST_F(FaultProxy, ForwardsBothWaysAndCounts) {
  EXPECT_EQ(proxy_.host(), "127.0.0.1");
  EXPECT_NE(proxy_.port(), server_.port());
  EXPECT_EQ(proxy_.url(), "redis://127.0.0.1:" + std::to_string(proxy_.port()));

  client c{proxy_.port()};
  c.send(ping);
  EXPECT_EQ(c.receive(pong.size()), pong);
  EXPECT_EQ(proxy_.connections_accepted(), 1u);
  EXPECT_EQ(proxy_.open_connections(), 1u);
  EXPECT_EQ(proxy_.bytes_forwarded(c2s), ping.size());
  EXPECT_EQ(proxy_.bytes_forwarded(s2c), pong.size());
}

TEST_F(FaultProxy, ForwardsLargeValuesWholeAndInOrder) {
  // 4 MiB each way: more than the proxy holds per direction and than a socket buffer takes,
  // so partial writes and back-pressure both happen.
  std::string value(4 << 20, '\0');
  for (std::size_t i = 0; i < value.size(); ++i)
    value[i] = static_cast<char>('a' + i % 23);
  client c{proxy_.port()};
  c.send(resp({"SET", "big", value}) + resp({"GET", "big"}));
  const std::string expected = "+OK\r\n$" + std::to_string(value.size()) + "\r\n" + value + "\r\n";
  EXPECT_TRUE(c.receive(expected.size(), 5000ms) == expected);
  EXPECT_EQ(proxy_.bytes_forwarded(s2c), expected.size());
}

TEST_F(FaultProxy, ClientClosingClosesTheUpstreamConnection) {
  {
    client c{proxy_.port()};
    c.send(ping);
    EXPECT_EQ(c.receive(pong.size()), pong);
  }
  EXPECT_TRUE(eventually([&] { return proxy_.open_connections() == 0; }));
  // Only the connection asking remains on the server.
  EXPECT_TRUE(eventually([&] {
    const auto list = server_.command({"CLIENT", "LIST"});
    return list.find("id=") == list.rfind("id=");
  }));
}

TEST_F(FaultProxy, ServerClosingReachesTheClient) {
  client c{proxy_.port()};
  c.send(resp({"QUIT"}));
  const auto end = c.read_to_end();
  EXPECT_EQ(end.bytes, "+OK\r\n");
  EXPECT_EQ(end.error, 0);
}

TEST_F(FaultProxy, ServerDownEndsClientConnections) {
  client before{proxy_.port()};
  before.send(ping);
  EXPECT_EQ(before.receive(pong.size()), pong);
  server_.kill();
  EXPECT_EQ(before.read_to_end().error, 0);

  client during{proxy_.port()};  // the proxy accepts, its upstream connect is refused
  const auto end = during.read_to_end();
  EXPECT_EQ(end.bytes, "");
  EXPECT_EQ(end.error, 0);

  server_.start();  // same port: the proxy reaches the new process
  client after{proxy_.port()};
  after.send(ping);
  EXPECT_EQ(after.receive(pong.size()), pong);
}

TEST_F(FaultProxy, DelaysEachDirection) {
  client c{proxy_.port()};
  c.send(ping);
  ASSERT_EQ(c.receive(pong.size()), pong);

  proxy_.set_delay(100ms);
  auto start = steady_clock::now();
  c.send(ping);
  EXPECT_EQ(c.receive(pong.size()), pong);
  EXPECT_GE(steady_clock::now() - start, 200ms);  // 100 ms each way

  proxy_.set_delay(0ms);
  proxy_.set_delay(100ms, s2c);
  start = steady_clock::now();
  c.send(ping);
  EXPECT_EQ(c.receive(pong.size()), pong);
  EXPECT_GE(steady_clock::now() - start, 100ms);
  // The request went through at once: the server saw it before the reply came back.
  EXPECT_EQ(proxy_.bytes_forwarded(c2s), 3 * ping.size());
}

TEST_F(FaultProxy, LoweringTheDelayNeverReordersBytes) {
  client c{proxy_.port()};
  proxy_.set_delay(150ms, c2s);
  const auto start = steady_clock::now();
  c.send(resp({"ECHO", "first"}));
  EXPECT_TRUE(eventually([&] { return proxy_.open_connections() == 1; }));
  std::this_thread::sleep_for(10ms);  // let the proxy read and hold the first chunk
  proxy_.set_delay(0ms, c2s);
  c.send(resp({"ECHO", "second"}));
  // In order ("second" went out behind "first", not past it), and "first" kept its delay. (The
  // time is counted from "first": from "second" it depends on how long the sleep above took.)
  const std::string expected = "$5\r\nfirst\r\n$6\r\nsecond\r\n";
  EXPECT_EQ(c.receive(expected.size()), expected);
  EXPECT_GE(steady_clock::now() - start, 150ms);
}

TEST_F(FaultProxy, CutAfterDeliversExactlyThatManyBytesThenEndOfStream) {
  client c{proxy_.port()};
  proxy_.cut_after(10, s2c);
  c.send(ping + ping + ping);
  const auto end = c.read_to_end();
  EXPECT_EQ(end.bytes, "+PONG\r\n+PO");
  EXPECT_EQ(end.error, 0);
  EXPECT_EQ(proxy_.bytes_forwarded(s2c), 10u);
  EXPECT_EQ(proxy_.open_connections(), 0u);

  // One-shot: the next connection is forwarded normally.
  client again{proxy_.port()};
  again.send(ping + ping);
  EXPECT_EQ(again.receive(2 * pong.size()), pong + pong);
}

TEST_F(FaultProxy, CutWithResetDeliversTheBytesThenAReset) {
  client c{proxy_.port()};
  proxy_.cut_after(10, s2c, cut_mode::reset);
  c.send(ping + ping + ping);
  const auto end = c.read_to_end();
  EXPECT_EQ(end.bytes, "+PONG\r\n+PO");
  EXPECT_EQ(end.error, ECONNRESET);
}

TEST_F(FaultProxy, CutTowardsTheServerStopsMidCommand) {
  // Two INCRs in one write; the cut lets the first and five bytes of the second through.
  const std::string incr = resp({"INCR", "n"});
  client c{proxy_.port()};
  proxy_.cut_after(incr.size() + 5, c2s);
  c.send(incr + incr);
  const auto end = c.read_to_end();
  EXPECT_EQ(std::string_view{":1\r\n"}.substr(0, end.bytes.size()), end.bytes);  // may race
  EXPECT_EQ(proxy_.bytes_forwarded(c2s), incr.size() + 5);
  EXPECT_EQ(server_.command({"GET", "n"}), "$1\r\n1\r\n");  // executed once, never twice
}

TEST_F(FaultProxy, CutAfterZeroIsCloseAll) {
  client c{proxy_.port()};
  EXPECT_TRUE(eventually([&] { return proxy_.open_connections() == 1; }));
  proxy_.cut_after(0, c2s, cut_mode::reset);
  EXPECT_EQ(proxy_.open_connections(), 0u);
  EXPECT_EQ(c.read_to_end().error, ECONNRESET);
}

TEST_F(FaultProxy, CorruptsExactlyOneByteOnce) {
  client c{proxy_.port()};
  proxy_.corrupt_byte(0, s2c);
  c.send(ping + ping);
  EXPECT_EQ(c.receive(2 * pong.size()), "?PONG\r\n" + pong);

  // Towards the server: the third letter of the value. The server stores the damage.
  const std::string set = resp({"SET", "k", "hello"});
  proxy_.corrupt_byte(set.find("hello") + 2, c2s, 'X');
  c.send(set);
  EXPECT_EQ(c.receive(5), "+OK\r\n");
  EXPECT_EQ(server_.command({"GET", "k"}), "$5\r\nheXlo\r\n");
  c.send(set);
  EXPECT_EQ(c.receive(5), "+OK\r\n");
  EXPECT_EQ(server_.command({"GET", "k"}), "$5\r\nhello\r\n");
}

TEST_F(FaultProxy, CorruptionOffsetCountsAcrossChunks) {
  client c{proxy_.port()};
  proxy_.corrupt_byte(pong.size() + 1, s2c, 'X');  // the 'P' of the second reply
  c.send(ping);
  EXPECT_EQ(c.receive(pong.size()), pong);
  c.send(ping);
  EXPECT_EQ(c.receive(pong.size()), "+XONG\r\n");
}

TEST_F(FaultProxy, BlackHoleHoldsBytesAndReleasesThemInOrder) {
  client c{proxy_.port()};
  c.send(ping);
  ASSERT_EQ(c.receive(pong.size()), pong);

  proxy_.set_black_hole(true);
  c.send(resp({"INCR", "n"}));
  const auto stalled = c.read_to_end(200ms);
  EXPECT_EQ(stalled.bytes, "");
  EXPECT_EQ(stalled.error, ETIMEDOUT);                  // open, silent
  EXPECT_EQ(server_.command({"GET", "n"}), "$-1\r\n");  // the server never saw it
  EXPECT_EQ(proxy_.bytes_forwarded(c2s), ping.size());
  EXPECT_EQ(proxy_.open_connections(), 1u);

  c.send(resp({"INCR", "n"}));
  proxy_.set_black_hole(false);
  EXPECT_EQ(c.receive(8), ":1\r\n:2\r\n");
}

TEST_F(FaultProxy, BlackHoleHoldsTheEndOfStreamToo) {
  client c{proxy_.port()};
  const std::string ping = resp({"PING"});
  c.send(ping);
  ASSERT_EQ(c.receive(7), "+PONG\r\n");  // the upstream connection is up
  proxy_.set_black_hole(true);
  // The server closes the proxied connection (SKIPME: not the one asking) while it is
  // black-holed: the end of stream must be held like any byte.
  EXPECT_EQ(server_.command({"CLIENT", "KILL", "TYPE", "normal"}), ":1\r\n");
  const auto stalled = c.read_to_end(150ms);
  EXPECT_EQ(stalled.bytes, "");
  EXPECT_EQ(stalled.error, ETIMEDOUT);
  proxy_.set_black_hole(false);
  const auto end = c.read_to_end();
  EXPECT_EQ(end.bytes, "");
  EXPECT_EQ(end.error, 0);
}

TEST_F(FaultProxy, CloseAllEndsEveryConnectionAtOnce) {
  client a{proxy_.port()};
  client b{proxy_.port()};
  ASSERT_TRUE(eventually([&] { return proxy_.open_connections() == 2; }));
  proxy_.close_all();
  EXPECT_EQ(proxy_.open_connections(), 0u);  // done when close_all returns
  EXPECT_EQ(a.read_to_end().error, 0);
  EXPECT_EQ(b.read_to_end().error, 0);

  client c{proxy_.port()};
  ASSERT_TRUE(eventually([&] { return proxy_.open_connections() == 1; }));
  proxy_.close_all(cut_mode::reset);
  EXPECT_EQ(c.read_to_end().error, ECONNRESET);

  client d{proxy_.port()};
  d.send(ping);
  EXPECT_EQ(d.receive(pong.size()), pong);
  EXPECT_EQ(proxy_.connections_accepted(), 4u);
}

TEST_F(FaultProxy, RefuseClosesNewConnectionsAtOnce) {
  proxy_.set_refuse(true);
  {
    client c{proxy_.port()};
    const auto end = c.read_to_end();
    EXPECT_EQ(end.bytes, "");
    EXPECT_EQ(end.error, 0);
  }
  EXPECT_EQ(proxy_.connections_accepted(), 1u);
  EXPECT_EQ(proxy_.open_connections(), 0u);

  proxy_.set_refuse(false);
  client c{proxy_.port()};
  c.send(ping);
  EXPECT_EQ(c.receive(pong.size()), pong);
  EXPECT_EQ(proxy_.connections_accepted(), 2u);
}

TEST_F(FaultProxy, ClearRemovesEveryFault) {
  proxy_.set_delay(1000ms);
  proxy_.set_black_hole(true);
  proxy_.set_refuse(true);
  proxy_.cut_after(1, c2s);
  proxy_.corrupt_byte(0, s2c);
  proxy_.clear();
  client c{proxy_.port()};
  const auto start = steady_clock::now();
  c.send(ping);
  EXPECT_EQ(c.receive(pong.size()), pong);
  EXPECT_LT(steady_clock::now() - start, 500ms);
}

}  // namespace
}  // namespace uredis::test

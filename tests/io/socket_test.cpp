// socket: address parsing and resolution, the errno mapping, socket options, and the whole io
// layer against a real redis-server: TCP and Unix connects through io_uring, PING/PONG over a
// send SQE and a multishot recv from a buffer ring (and over plain recv), refused connects,
// 10,000 pipelined PINGs through a small recycled buffer ring, a linked timeout, cancelling a
// multishot recv, and a late completion caught by its stale slot generation.

#include "uredis/io/socket.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "io/buffer_ring.hpp"
#include "io/user_data.hpp"
#include "support/kernel_feature.hpp"
#include "support/redis_server.hpp"
#include "uredis/io/ring.hpp"
#include "uredis/util/slot_table.hpp"

namespace uredis::io {
namespace {

using namespace std::chrono_literals;

// --- addresses --------------------------------------------------------------------------

TEST(SocketAddress, numeric_ipv4) {
  result<socket_address> a = resolve("127.0.0.1", 6379);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(a->family(), AF_INET);
  EXPECT_EQ(a->length, sizeof(sockaddr_in));
  EXPECT_EQ(a->port(), 6379);
  EXPECT_EQ(a->to_string(), "127.0.0.1:6379");
}

TEST(SocketAddress, numeric_ipv6_bare_and_bracketed) {
  for (std::string_view host : {"::1", "[::1]"}) {
    result<socket_address> a = resolve(host, 7000);
    ASSERT_TRUE(a.has_value()) << host << ": " << a.error().message();
    EXPECT_EQ(a->family(), AF_INET6) << host;
    EXPECT_EQ(a->length, sizeof(sockaddr_in6));
    EXPECT_EQ(a->port(), 7000);
    EXPECT_EQ(a->to_string(), "[::1]:7000");
  }
  result<socket_address> full = resolve("fe80::1:2", 1);
  ASSERT_TRUE(full.has_value());
  EXPECT_EQ(full->to_string(), "[fe80::1:2]:1");
}

TEST(SocketAddress, resolve_numeric_answers_only_what_needs_no_dns) {
  const std::optional<result<socket_address>> v4 = resolve_numeric("127.0.0.1", 6379);
  ASSERT_TRUE(v4.has_value() && v4->has_value());
  EXPECT_EQ((*v4)->to_string(), "127.0.0.1:6379");
  const std::optional<result<socket_address>> v6 = resolve_numeric("[::1]", 7000);
  ASSERT_TRUE(v6.has_value() && v6->has_value());
  EXPECT_EQ((*v6)->to_string(), "[::1]:7000");
  const std::optional<result<socket_address>> empty = resolve_numeric("", 1);
  ASSERT_TRUE(empty.has_value() && empty->has_error());
  EXPECT_EQ(empty->error(), std::errc::invalid_argument);
  // Names, bracketed or not, are left to getaddrinfo.
  EXPECT_FALSE(resolve_numeric("localhost", 1).has_value());
  EXPECT_FALSE(resolve_numeric("[localhost]", 1).has_value());
  EXPECT_FALSE(resolve_numeric("127.0.0.1.example", 1).has_value());
}

TEST(SocketAddress, localhost_resolves_to_loopback_preferring_ipv4) {
  result<socket_address> a = resolve("localhost", 6380);
  ASSERT_TRUE(a.has_value()) << a.error().message();
  EXPECT_EQ(a->port(), 6380);
  if (a->family() == AF_INET) {
    EXPECT_EQ(a->to_string(), "127.0.0.1:6380");
  } else {
    EXPECT_EQ(a->to_string(), "[::1]:6380") << "no IPv4 localhost on this machine?";
  }
}

TEST(SocketAddress, unresolvable_names_report_the_resolver_error) {
  result<socket_address> a = resolve("no-such-host.invalid", 6379);
  ASSERT_TRUE(a.has_error());
  EXPECT_EQ(&a.error().category(), &resolver_category());
  EXPECT_FALSE(a.error().message().empty());
  std::cout << "no-such-host.invalid: " << a.error().message() << "\n";

  result<socket_address> empty = resolve("", 6379);
  ASSERT_TRUE(empty.has_error());
  EXPECT_EQ(empty.error(), std::errc::invalid_argument);
}

TEST(SocketAddress, unix_paths) {
  result<socket_address> a = unix_socket_address("/tmp/redis.sock");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->family(), AF_UNIX);
  EXPECT_EQ(a->port(), 0);
  EXPECT_EQ(a->to_string(), "/tmp/redis.sock");
  EXPECT_EQ(a->length, offsetof(sockaddr_un, sun_path) + std::strlen("/tmp/redis.sock") + 1);

  const std::string longest(sizeof(sockaddr_un{}.sun_path) - 1, 'x');
  EXPECT_TRUE(unix_socket_address(longest).has_value());
  result<socket_address> too_long = unix_socket_address(longest + "x");
  ASSERT_TRUE(too_long.has_error());
  EXPECT_EQ(too_long.error(), std::errc::filename_too_long);
  for (std::string_view bad : {std::string_view{}, std::string_view("a\0b", 3)}) {
    result<socket_address> r = unix_socket_address(bad);
    ASSERT_TRUE(r.has_error());
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
  }
}

// --- errno mapping ----------------------------------------------------------------------

TEST(SocketFromErrno, maps_connection_errnos_to_uredis_codes) {
  EXPECT_FALSE(from_errno(0));
  EXPECT_EQ(from_errno(ECONNREFUSED), errc::connection_refused);
  EXPECT_EQ(from_errno(ENOENT), errc::connection_refused);
  EXPECT_EQ(from_errno(ECONNRESET), errc::connection_reset);
  EXPECT_EQ(from_errno(EPIPE), errc::connection_reset);
  EXPECT_EQ(from_errno(ECONNABORTED), errc::connection_reset);
  EXPECT_EQ(from_errno(ETIMEDOUT), errc::timeout);
  EXPECT_EQ(from_errno(ETIME), errc::timeout);
  EXPECT_EQ(from_errno(ENOTCONN), errc::not_connected);
  // The mapped codes still compare equal to the errno conditions.
  EXPECT_EQ(from_errno(ECONNREFUSED), std::errc::connection_refused);
  EXPECT_EQ(from_errno(ETIMEDOUT), std::errc::timed_out);
}

TEST(SocketFromErrno, keeps_other_errnos_as_system_errors) {
  for (int err : {ECANCELED, EHOSTUNREACH, ENETUNREACH, EACCES, EMFILE}) {
    const std::error_code ec = from_errno(err);
    EXPECT_EQ(&ec.category(), &std::system_category()) << err;
    EXPECT_EQ(ec.value(), err);
  }
  EXPECT_EQ(from_errno(ECANCELED), std::errc::operation_canceled);
}

// --- sockets ----------------------------------------------------------------------------

TEST(SocketOpenStreamSocket, is_nonblocking_cloexec_and_nodelay_for_tcp) {
  for (int family : {AF_INET, AF_INET6, AF_UNIX}) {
    result<int> fd = open_stream_socket(family);
    if (family == AF_INET6 && fd.has_error()) {
      std::cout << "no IPv6 here: " << fd.error().message() << "\n";
      continue;
    }
    ASSERT_TRUE(fd.has_value()) << family << ": " << fd.error().message();
    EXPECT_NE(::fcntl(*fd, F_GETFL) & O_NONBLOCK, 0);
    EXPECT_NE(::fcntl(*fd, F_GETFD) & FD_CLOEXEC, 0);
    if (family != AF_UNIX) {
      int nodelay = 0;
      socklen_t len = sizeof nodelay;
      ASSERT_EQ(::getsockopt(*fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
      EXPECT_EQ(nodelay, 1);
    }
    ::close(*fd);
  }
  result<int> plain = open_stream_socket(AF_INET, /*tcp_nodelay=*/false);
  ASSERT_TRUE(plain.has_value());
  int nodelay = 1;
  socklen_t len = sizeof nodelay;
  ASSERT_EQ(::getsockopt(*plain, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len), 0);
  EXPECT_EQ(nodelay, 0) << "tcp_nodelay = false leaves Nagle on";
  ::close(*plain);
  result<int> bad = open_stream_socket(12345);
  ASSERT_TRUE(bad.has_error());
  EXPECT_EQ(bad.error(), std::errc::address_family_not_supported);
}

// --- against a real server --------------------------------------------------------------

// A CQE's fields by value (io_uring_cqe ends in a flexible array, which std::optional rejects).
struct completion {
  std::uint64_t user_data = 0;
  std::int32_t res = 0;
  std::uint32_t flags = 0;

  io_uring_cqe raw() const {
    io_uring_cqe c{};
    c.user_data = user_data;
    c.res = res;
    c.flags = flags;
    return c;
  }
};

class SocketAgainstRedis : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { server_ = new test::redis_server(); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  void SetUp() override {
    result<ring> r = ring::create({.entries = 64});
    ASSERT_TRUE(r.has_value()) << r.error().message();
    ring_.emplace(std::move(r).value());
  }
  void TearDown() override {
    for (int fd : fds_)
      ::close(fd);
  }

  ring& r() { return *ring_; }

  int open(int family) {
    result<int> fd = open_stream_socket(family);
    EXPECT_TRUE(fd.has_value());
    if (!fd) return -1;
    fds_.push_back(*fd);
    return *fd;
  }

  // Waits for the next CQE (up to 2 s) and returns a copy.
  std::optional<completion> next_cqe() {
    for (int i = 0; i < 20; ++i) {
      std::optional<completion> got;
      if (r().cq_ready() == 0 && !r().submit_and_wait(1, 100ms)) return std::nullopt;
      // Take exactly one, so the caller sees completions in order.
      io_uring_cqe* cqe = nullptr;
      if (io_uring_peek_cqe(&r().native(), &cqe) == 0 && cqe != nullptr) {
        got = completion{cqe->user_data, cqe->res, cqe->flags};
        io_uring_cqe_seen(&r().native(), cqe);
        return got;
      }
    }
    return std::nullopt;
  }

  // Connects fd to address through the ring; returns the CQE's res.
  int connect(int fd, const socket_address& address) {
    io_uring_sqe* sqe = r().get_sqe();
    EXPECT_NE(sqe, nullptr);
    prep_connect(sqe, fd, address, encode_user_data(1, op::connect));
    std::optional<completion> cqe = next_cqe();
    EXPECT_TRUE(cqe.has_value());
    if (!cqe) return -ETIMEDOUT;
    EXPECT_EQ(decode_op(cqe->user_data), op::connect);
    return cqe->res;
  }

  int connect_tcp() {
    const int fd = open(AF_INET);
    result<socket_address> address = resolve(server_->host(), server_->port());
    EXPECT_TRUE(address.has_value());
    EXPECT_EQ(connect(fd, *address), 0);
    return fd;
  }

  // Sends all of `bytes` with send SQEs (resending the rest after a short send).
  void send_all(int fd, std::string_view bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      io_uring_sqe* sqe = r().get_sqe();
      ASSERT_NE(sqe, nullptr);
      const auto* data = reinterpret_cast<const std::byte*>(bytes.data()) + done;
      prep_send(sqe, fd, {data, bytes.size() - done}, encode_user_data(2, op::send));
      std::optional<completion> cqe = next_cqe();
      ASSERT_TRUE(cqe.has_value());
      ASSERT_EQ(decode_op(cqe->user_data), op::send);
      ASSERT_GT(cqe->res, 0) << from_errno(-cqe->res).message();
      done += static_cast<std::size_t>(cqe->res);
    }
  }

  static test::redis_server* server_;
  std::optional<ring> ring_;
  std::vector<int> fds_;
};

test::redis_server* SocketAgainstRedis::server_ = nullptr;

TEST_F(SocketAgainstRedis, tcp_ping_pong_with_multishot_recv_and_a_buffer_ring) {
  const int fd = connect_tcp();
  if (test::lacks(r().features().multishot_recv, {6, 0, 0}, "multishot recv")) return;
  result<buffer_ring> br = buffer_ring::create(r(), {.count = 8, .size = 4096, .group_id = 5});
  ASSERT_TRUE(br.has_value()) << br.error().message();

  io_uring_sqe* sqe = r().get_sqe();
  ASSERT_NE(sqe, nullptr);
  prep_recv_multishot(sqe, fd, br->group_id(), encode_user_data(3, op::recv_multishot));
  send_all(fd, "PING\r\n");

  std::optional<completion> cqe = next_cqe();
  ASSERT_TRUE(cqe.has_value());
  EXPECT_EQ(decode_op(cqe->user_data), op::recv_multishot);
  EXPECT_NE(cqe->flags & IORING_CQE_F_MORE, 0u) << "the request stays armed";
  const std::optional<std::uint16_t> bid = buffer_id(cqe->raw());
  ASSERT_TRUE(bid.has_value());
  ASSERT_GT(cqe->res, 0);
  const auto bytes = br->buffer(*bid, static_cast<std::size_t>(cqe->res));
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
            "+PONG\r\n");
  br->recycle(*bid);

  // Cancel the armed recv before closing: it ends with -ECANCELED and no F_MORE.
  sqe = r().get_sqe();
  prep_cancel_fd(sqe, fd, encode_user_data(3, op::cancel));
  bool recv_ended = false;
  bool cancel_done = false;
  for (int i = 0; i < 4 && !(recv_ended && cancel_done); ++i) {
    cqe = next_cqe();
    ASSERT_TRUE(cqe.has_value());
    if (decode_op(cqe->user_data) == op::cancel) {
      EXPECT_EQ(cqe->res, 1) << "one operation cancelled";
      cancel_done = true;
    } else {
      EXPECT_EQ(decode_op(cqe->user_data), op::recv_multishot);
      EXPECT_EQ(cqe->res, -ECANCELED);
      EXPECT_EQ(cqe->flags & IORING_CQE_F_MORE, 0u);
      recv_ended = true;
    }
  }
  EXPECT_TRUE(recv_ended && cancel_done);
}

TEST_F(SocketAgainstRedis, tcp_ping_pong_with_plain_recv) {
  const int fd = connect_tcp();
  send_all(fd, "PING\r\n");
  std::byte buffer[64];
  io_uring_sqe* sqe = r().get_sqe();
  ASSERT_NE(sqe, nullptr);
  prep_recv(sqe, fd, buffer, encode_user_data(4, op::recv));
  std::optional<completion> cqe = next_cqe();
  ASSERT_TRUE(cqe.has_value());
  EXPECT_EQ(decode_op(cqe->user_data), op::recv);
  ASSERT_EQ(cqe->res, 7);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(buffer), 7), "+PONG\r\n");

  // Close through the ring.
  sqe = r().get_sqe();
  prep_close(sqe, fd, encode_user_data(4, op::close));
  cqe = next_cqe();
  ASSERT_TRUE(cqe.has_value());
  EXPECT_EQ(decode_op(cqe->user_data), op::close);
  EXPECT_EQ(cqe->res, 0);
  std::erase(fds_, fd);
}

TEST_F(SocketAgainstRedis, unix_socket_ping_pong) {
  const int fd = open(AF_UNIX);
  result<socket_address> address = unix_socket_address(server_->unix_socket());
  ASSERT_TRUE(address.has_value());
  const int res = connect(fd, *address);
  ASSERT_EQ(res, 0) << from_errno(-res).message();
  send_all(fd, "PING\r\n");
  std::byte buffer[64];
  io_uring_sqe* sqe = r().get_sqe();
  prep_recv(sqe, fd, buffer, encode_user_data(5, op::recv));
  std::optional<completion> cqe = next_cqe();
  ASSERT_TRUE(cqe.has_value());
  ASSERT_EQ(cqe->res, 7);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(buffer), 7), "+PONG\r\n");
}

TEST_F(SocketAgainstRedis, a_closed_port_is_connection_refused) {
  const int fd = open(AF_INET);
  result<socket_address> address = resolve("127.0.0.1", test::free_loopback_port());
  ASSERT_TRUE(address.has_value());
  const int res = connect(fd, *address);
  EXPECT_EQ(res, -ECONNREFUSED);
  EXPECT_EQ(from_errno(-res), errc::connection_refused);
}

TEST_F(SocketAgainstRedis, a_missing_unix_socket_is_connection_refused) {
  const int fd = open(AF_UNIX);
  result<socket_address> address = unix_socket_address(server_->dir() + "/no-such.sock");
  ASSERT_TRUE(address.has_value());
  const int res = connect(fd, *address);
  EXPECT_EQ(res, -ENOENT);
  EXPECT_EQ(from_errno(-res), errc::connection_refused);
}

TEST_F(SocketAgainstRedis, ten_thousand_pipelined_pings_through_a_recycled_buffer_ring) {
  const int fd = connect_tcp();
  constexpr std::size_t pings = 10'000;
  const std::string_view pong = "+PONG\r\n";
  std::string request;
  for (std::size_t i = 0; i < pings; ++i)
    request += "PING\r\n";

  // 8 buffers x 1 KiB against 70,000 bytes of replies: every buffer is recycled many times.
  std::optional<buffer_ring> br;
  const bool multishot = r().features().multishot_recv;
  if (multishot) {
    result<buffer_ring> created =
        buffer_ring::create(r(), {.count = 8, .size = 1024, .group_id = 6});
    ASSERT_TRUE(created.has_value()) << created.error().message();
    br.emplace(std::move(created).value());
  } else {
    // Pipelining over plain recv instead, on a kernel that really has no multishot recv.
    std::cout << "kernel " << test::kernel_release() << " has no multishot recv: plain recv\n";
    test::expect_kernel_predates({6, 0, 0}, "multishot recv");
  }
  std::vector<std::size_t> uses(8, 0);
  std::byte own_buffer[1024];

  auto arm = [&] {
    io_uring_sqe* sqe = r().get_sqe();
    ASSERT_NE(sqe, nullptr);
    if (multishot) {
      prep_recv_multishot(sqe, fd, br->group_id(), encode_user_data(6, op::recv_multishot));
    } else {
      prep_recv(sqe, fd, own_buffer, encode_user_data(6, op::recv));
    }
  };
  arm();
  send_all(fd, request);

  std::string received;
  int rearms = 0;
  bool armed = true;
  while (received.size() < pings * pong.size()) {
    if (!armed) {
      arm();
      armed = true;
      ++rearms;
    }
    ASSERT_TRUE(r().submit_and_wait(1, 2s).has_value());
    ASSERT_GT(r().cq_ready(), 0u) << "stalled at " << received.size() << " bytes";
    r().for_each_cqe([&](const io_uring_cqe& cqe) {
      ASSERT_EQ(decode_slot_id(cqe.user_data), 6u);
      if ((cqe.flags & IORING_CQE_F_MORE) == 0) armed = false;
      if (cqe.res == -ENOBUFS) return;  // the ring ran dry: re-arm after recycling
      ASSERT_GT(cqe.res, 0) << from_errno(-cqe.res).message();
      const auto len = static_cast<std::size_t>(cqe.res);
      if (multishot) {
        const std::optional<std::uint16_t> bid = buffer_id(cqe);
        ASSERT_TRUE(bid.has_value());
        const auto bytes = br->buffer(*bid, len);
        received.append(reinterpret_cast<const char*>(bytes.data()), len);
        ++uses[*bid];
        br->recycle(*bid);
      } else {
        received.append(reinterpret_cast<const char*>(own_buffer), len);
      }
    });
  }
  ASSERT_EQ(received.size(), pings * pong.size());
  std::size_t matched = 0;
  for (std::size_t at = 0; at < received.size(); at += pong.size())
    matched += std::string_view(received).substr(at, pong.size()) == pong;
  EXPECT_EQ(matched, pings);
  if (multishot) {
    std::size_t total_uses = 0;
    for (std::size_t u : uses) {
      EXPECT_GT(u, 1u) << "each buffer came back more than once";
      total_uses += u;
    }
    EXPECT_GE(total_uses, received.size() / 1024);
    std::cout << total_uses << " chunks through 8 buffers, " << rearms << " re-arms\n";
  }
}

TEST_F(SocketAgainstRedis, a_linked_timeout_bounds_an_operation) {
  const int fd = connect_tcp();
  std::byte buffer[16];
  io_uring_sqe* sqe = r().get_sqe();
  prep_recv(sqe, fd, buffer, encode_user_data(7, op::recv));  // the server sends nothing
  sqe->flags |= IOSQE_IO_LINK;
  __kernel_timespec ts{.tv_sec = 0, .tv_nsec = 50'000'000};
  sqe = r().get_sqe();
  prep_link_timeout(sqe, ts, encode_user_data(7, op::link_timeout));

  const auto start = std::chrono::steady_clock::now();
  int recv_res = 1;
  int timeout_res = 1;
  for (int i = 0; i < 2; ++i) {
    std::optional<completion> cqe = next_cqe();
    ASSERT_TRUE(cqe.has_value());
    (decode_op(cqe->user_data) == op::recv ? recv_res : timeout_res) = cqe->res;
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, 45ms);
  EXPECT_EQ(recv_res, -ECANCELED);
  EXPECT_EQ(timeout_res, -ETIME);
  EXPECT_EQ(from_errno(-timeout_res), errc::timeout);
}

TEST_F(SocketAgainstRedis, a_late_completion_for_a_freed_slot_is_dropped) {
  // A connection-like owner per slot; its recv is in flight when the owner goes away and a new
  // owner takes the same slot. The old recv's completion must not reach the new owner.
  struct owner {
    int completions = 0;
  };
  util::slot_table<owner> owners(4);
  const int fd = connect_tcp();
  const std::uint64_t old_id = owners.insert(owner{});
  std::byte buffer[64];
  io_uring_sqe* sqe = r().get_sqe();
  prep_recv(sqe, fd, buffer, encode_user_data(old_id, op::recv));
  ASSERT_TRUE(r().submit().has_value());

  ASSERT_TRUE(owners.erase(old_id));                    // the old owner is gone...
  const std::uint64_t new_id = owners.insert(owner{});  // ...and its slot is reused
  ASSERT_EQ(util::decode_slot_index(new_id), util::decode_slot_index(old_id));
  ASSERT_NE(new_id, old_id);

  send_all(fd, "PING\r\n");  // makes the old recv complete, late
  int dropped = 0;
  int delivered = 0;
  for (int i = 0; i < 20 && dropped + delivered == 0; ++i) {
    ASSERT_TRUE(r().submit_and_wait(1, 100ms).has_value());
    r().for_each_cqe([&](const io_uring_cqe& cqe) {
      ASSERT_EQ(decode_op(cqe.user_data), op::recv);
      EXPECT_EQ(cqe.res, 7);
      if (owner* o = owners.find(decode_slot_id(cqe.user_data))) {
        ++o->completions;
        ++delivered;
      } else {
        ++dropped;
      }
    });
  }
  EXPECT_EQ(dropped, 1);
  EXPECT_EQ(delivered, 0);
  EXPECT_EQ(owners.find(new_id)->completions, 0);
}

}  // namespace
}  // namespace uredis::io

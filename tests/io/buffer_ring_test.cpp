// buffer_ring: option checks, the fallback when the kernel lacks provided-buffer rings, and a
// multishot recv over a socket pair: data intact across buffers, buffers recycled, -ENOBUFS
// when the ring runs dry, and the re-arm after recycling.

#include "io/buffer_ring.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <iostream>
#include <set>
#include <string>

#include "io/user_data.hpp"
#include "support/kernel_feature.hpp"
#include "uredis/io/ring.hpp"
#include "uredis/io/socket.hpp"

namespace uredis::io {
namespace {

using namespace std::chrono_literals;

ring make_ring() {
  result<ring> r = ring::create({.entries = 64});
  EXPECT_TRUE(r.has_value()) << (r.has_error() ? r.error().message() : "");
  return std::move(r).value();
}

struct socket_pair {
  int reader = -1;
  int writer = -1;
  socket_pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    reader = fds[0];
    writer = fds[1];
  }
  ~socket_pair() {
    ::close(reader);
    ::close(writer);
  }
};

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i)
    s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

void write_all(int fd, const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    ASSERT_GT(n, 0);
    done += static_cast<std::size_t>(n);
  }
}

TEST(BufferRing, rejects_bad_options) {
  ring r = make_ring();
  for (std::uint32_t count : {0u, 3u, 100u, 65536u}) {
    result<buffer_ring> br = buffer_ring::create(r, {.count = count});
    ASSERT_TRUE(br.has_error()) << count;
    EXPECT_EQ(br.error(), std::errc::invalid_argument) << count;
  }
  result<buffer_ring> zero = buffer_ring::create(r, {.size = 0});
  ASSERT_TRUE(zero.has_error());
  EXPECT_EQ(zero.error(), std::errc::invalid_argument);
}

TEST(BufferRing, falls_back_cleanly) {
  ring r = make_ring();
  result<buffer_ring> br = buffer_ring::create(r, {.count = 8, .size = 512, .group_id = 3});
  if (r.features().provided_buffer_ring) {
    ASSERT_TRUE(br.has_value()) << br.error().message();
    EXPECT_EQ(br->count(), 8u);
    EXPECT_EQ(br->buffer_size(), 512u);
    EXPECT_EQ(br->group_id(), 3);
  } else {
    std::cout << "no provided-buffer rings on this kernel: connections use plain recv\n";
    ASSERT_TRUE(br.has_error());
    EXPECT_EQ(br.error(), std::errc::operation_not_supported);
  }
}

TEST(BufferRing, a_group_id_is_registered_once) {
  ring r = make_ring();
  if (test::lacks(r.features().provided_buffer_ring, {5, 19, 0}, "provided-buffer ring")) return;
  result<buffer_ring> first = buffer_ring::create(r, {.count = 4, .size = 64, .group_id = 9});
  ASSERT_TRUE(first.has_value());
  result<buffer_ring> second = buffer_ring::create(r, {.count = 4, .size = 64, .group_id = 9});
  ASSERT_TRUE(second.has_error());
  EXPECT_EQ(second.error(), std::errc::file_exists);
  // Destroying the first frees the id.
  first = std::error_code(std::make_error_code(std::errc::interrupted));
  result<buffer_ring> third = buffer_ring::create(r, {.count = 4, .size = 64, .group_id = 9});
  EXPECT_TRUE(third.has_value());
}

TEST(BufferRing, buffer_id_reads_the_cqe_flags) {
  io_uring_cqe cqe{};
  EXPECT_FALSE(buffer_id(cqe).has_value());
  cqe.flags = IORING_CQE_F_BUFFER | (37u << IORING_CQE_BUFFER_SHIFT) | IORING_CQE_F_MORE;
  ASSERT_TRUE(buffer_id(cqe).has_value());
  EXPECT_EQ(*buffer_id(cqe), 37);
}

// Arms a multishot recv and receives `sent` through buffers of a tiny ring, recycling each
// buffer once its bytes are copied (or holding them, to provoke -ENOBUFS).
struct multishot_reader {
  multishot_reader(ring& ring_ref, buffer_ring& buffers, int socket)
      : r(ring_ref), br(buffers), fd(socket) {}

  ring& r;
  buffer_ring& br;
  int fd;
  std::string received;
  std::set<std::uint16_t> bids_seen;
  std::size_t chunks = 0;
  bool armed = false;
  int ended_with = 1;  // res of the CQE that ended the request (1: not ended)

  void arm() {
    io_uring_sqe* sqe = r.get_sqe();
    ASSERT_NE(sqe, nullptr);
    prep_recv_multishot(sqe, fd, br.group_id(), encode_user_data(1, op::recv_multishot));
    armed = true;
    ended_with = 1;
  }

  // One wait and reap; `recycle` false keeps every buffer out.
  void turn(bool recycle) {
    ASSERT_TRUE(r.submit_and_wait(1, 500ms).has_value());
    r.for_each_cqe([&](const io_uring_cqe& cqe) {
      ASSERT_EQ(decode_op(cqe.user_data), op::recv_multishot);
      if (const auto bid = buffer_id(cqe)) {
        ASSERT_GT(cqe.res, 0);
        const auto bytes = br.buffer(*bid, static_cast<std::size_t>(cqe.res));
        received.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
        bids_seen.insert(*bid);
        ++chunks;
        if (recycle) br.recycle(*bid);
      }
      if ((cqe.flags & IORING_CQE_F_MORE) == 0) {
        armed = false;
        ended_with = cqe.res;
      }
    });
  }
};

TEST(BufferRing, multishot_recv_recycles_buffers) {
  ring r = make_ring();
  if (test::lacks(r.features().multishot_recv, {6, 0, 0}, "multishot recv")) return;
  result<buffer_ring> br = buffer_ring::create(r, {.count = 4, .size = 256, .group_id = 1});
  ASSERT_TRUE(br.has_value()) << br.error().message();
  socket_pair pair;
  multishot_reader reader(r, *br, pair.reader);
  reader.arm();
  const std::string sent = pattern(256 * 40 + 17);  // ten times the ring's capacity
  for (std::size_t at = 0; at < sent.size(); at += 1000) {
    write_all(pair.writer, sent.substr(at, 1000));
    while (reader.received.size() < std::min(sent.size(), at + 1000)) {
      reader.turn(true);
      ASSERT_TRUE(reader.armed) << "ended with " << reader.ended_with;
    }
  }
  EXPECT_EQ(reader.received, sent);
  EXPECT_GT(reader.chunks, 40u) << "each 256-byte buffer holds at most 256 bytes";
  EXPECT_EQ(reader.bids_seen.size(), 4u) << "every buffer went round";

  // EOF ends the request: res 0, no F_MORE.
  ::shutdown(pair.writer, SHUT_WR);
  for (int i = 0; i < 10 && reader.armed; ++i)
    reader.turn(true);
  EXPECT_FALSE(reader.armed);
  EXPECT_EQ(reader.ended_with, 0);
}

TEST(BufferRing, a_dry_ring_ends_the_request_with_enobufs_and_rearming_resumes) {
  ring r = make_ring();
  if (test::lacks(r.features().multishot_recv, {6, 0, 0}, "multishot recv")) return;
  result<buffer_ring> br = buffer_ring::create(r, {.count = 2, .size = 64, .group_id = 2});
  ASSERT_TRUE(br.has_value()) << br.error().message();
  socket_pair pair;
  multishot_reader reader(r, *br, pair.reader);
  reader.arm();
  const std::string sent = pattern(64 * 5);
  write_all(pair.writer, sent);
  for (int i = 0; i < 10 && reader.armed; ++i)
    reader.turn(false);  // hold every buffer
  EXPECT_FALSE(reader.armed);
  EXPECT_EQ(reader.ended_with, -ENOBUFS);
  EXPECT_EQ(reader.received, sent.substr(0, 128)) << "both buffers filled, nothing lost";

  // The reactor's rule: recycle, and re-arm whenever the request ended with -ENOBUFS. With
  // two buffers and 192 bytes waiting, the kernel drains the ring again before the first
  // recycle, so this takes several rounds.
  for (std::uint16_t bid : reader.bids_seen)
    br->recycle(bid);
  int rearms = 0;
  for (int i = 0; i < 50 && reader.received.size() < sent.size(); ++i) {
    if (!reader.armed) {
      ASSERT_EQ(reader.ended_with, -ENOBUFS);
      reader.arm();
      ++rearms;
    }
    reader.turn(true);
  }
  EXPECT_EQ(reader.received, sent) << "the bytes waited in the socket";
  EXPECT_GE(rearms, 1);
}

TEST(BufferRing, buffers_can_come_from_a_shard_heap) {
  ring r = make_ring();
  if (test::lacks(r.features().provided_buffer_ring, {5, 19, 0}, "provided-buffer ring")) return;
  mi_heap_t* heap = mi_heap_new();
  ASSERT_NE(heap, nullptr);
  {
    result<buffer_ring> br =
        buffer_ring::create(r, {.count = 16, .size = 1024, .group_id = 4, .heap = heap});
    ASSERT_TRUE(br.has_value()) << br.error().message();
    const auto first = br->buffer(0, 1024);
    EXPECT_TRUE(mi_heap_check_owned(heap, first.data()));
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(first.data()) % 4096, 0u);
  }
  mi_heap_delete(heap);
}

}  // namespace
}  // namespace uredis::io

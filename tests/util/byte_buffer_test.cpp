#include "uredis/util/byte_buffer.hpp"

#include <gtest/gtest.h>
#include <mimalloc.h>

#include <cstring>
#include <string>
#include <type_traits>
#include <utility>

namespace uredis::util {
namespace {

static_assert(!std::is_copy_constructible_v<byte_buffer>);
static_assert(!std::is_copy_assignable_v<byte_buffer>);
static_assert(std::is_nothrow_move_constructible_v<byte_buffer>);
static_assert(std::is_nothrow_move_assignable_v<byte_buffer>);

void write(byte_buffer& b, std::string_view s) {
  auto span = b.prepare(s.size());
  ASSERT_GE(span.size(), s.size());
  std::memcpy(span.data(), s.data(), s.size());
  b.commit(s.size());
}

TEST(ByteBuffer, starts_empty_without_memory) {
  byte_buffer b;
  EXPECT_EQ(b.size(), 0u);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.capacity(), 0u);
  EXPECT_EQ(b.growths(), 0u);
  EXPECT_EQ(b.data(), "");
  EXPECT_EQ(b.heap(), nullptr);
}

TEST(ByteBuffer, prepare_commit_data_consume) {
  byte_buffer b;
  write(b, "hello ");
  write(b, "world");
  EXPECT_EQ(b.data(), "hello world");
  EXPECT_EQ(b.size(), 11u);
  b.consume(6);
  EXPECT_EQ(b.data(), "world");
  EXPECT_EQ(b.size(), 5u);
  b.consume(5);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.data(), "");
}

TEST(ByteBuffer, prepare_gives_at_least_n_and_commit_less_is_fine) {
  byte_buffer b;
  auto span = b.prepare(10);
  EXPECT_GE(span.size(), 10u);
  EXPECT_GE(b.capacity(), byte_buffer::min_capacity);
  span[0] = 'x';
  b.commit(1);
  EXPECT_EQ(b.data(), "x");
  // Commit nothing: nothing appears.
  (void)b.prepare(100);
  b.commit(0);
  EXPECT_EQ(b.data(), "x");
}

TEST(ByteBuffer, append_keeps_binary_bytes) {
  byte_buffer b;
  const std::string bytes("a\0b\r\nc", 6);
  b.append(bytes);
  b.append("");
  EXPECT_EQ(b.data(), bytes);
}

TEST(ByteBuffer, grows_by_doubling_and_keeps_unread_bytes) {
  byte_buffer b;
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    const std::string piece = std::to_string(i) + ",";
    b.append(piece);
    expected += piece;
  }
  EXPECT_EQ(b.data(), expected);
  const std::size_t cap = b.capacity();
  // A power-of-two multiple of the minimum: growth only ever doubles.
  EXPECT_EQ(cap % byte_buffer::min_capacity, 0u);
  EXPECT_EQ((cap / byte_buffer::min_capacity) & (cap / byte_buffer::min_capacity - 1), 0u);
  EXPECT_GE(cap, expected.size());
  EXPECT_LT(cap, 2 * expected.size());
}

TEST(ByteBuffer, a_large_request_grows_at_once) {
  byte_buffer b;
  b.append("abc");
  auto span = b.prepare(10000);
  EXPECT_GE(span.size(), 10000u);
  EXPECT_EQ(b.capacity(), 16384u);
  EXPECT_EQ(b.growths(), 2u);
  EXPECT_EQ(b.data(), "abc");
}

TEST(ByteBuffer, compacts_before_growing) {
  byte_buffer b;
  b.reserve(256);
  ASSERT_EQ(b.capacity(), 256u);
  const std::uint64_t growths = b.growths();
  b.append(std::string(200, 'a'));
  b.append("tail");
  b.consume(200);
  // 4 unread bytes at offset 200: 52 free at the end, but 252 after compacting.
  auto span = b.prepare(100);
  EXPECT_GE(span.size(), 100u);
  EXPECT_EQ(b.capacity(), 256u);
  EXPECT_EQ(b.growths(), growths);
  EXPECT_EQ(b.data(), "tail");
  // The unread bytes moved to the front: all the rest is writable.
  EXPECT_EQ(span.size(), 252u);
}

TEST(ByteBuffer, consuming_everything_rewinds_without_moving_bytes) {
  byte_buffer b;
  b.reserve(256);
  b.append(std::string(250, 'x'));
  b.consume(250);
  EXPECT_EQ(b.prepare(256).size(), 256u);
  EXPECT_EQ(b.capacity(), 256u);
  EXPECT_EQ(b.growths(), 1u);
}

TEST(ByteBuffer, consume_keeps_views_of_the_rest_valid) {
  byte_buffer b;
  b.append("0123456789");
  const std::string_view view = b.data();
  b.consume(3);
  EXPECT_EQ(view.substr(3), b.data());
  EXPECT_EQ(b.data().data(), view.data() + 3);
}

TEST(ByteBuffer, grows_when_compaction_is_not_enough) {
  byte_buffer b;
  b.reserve(256);
  b.append(std::string(200, 'a'));
  b.consume(10);
  (void)b.prepare(100);  // 190 unread + 100 > 256
  EXPECT_EQ(b.capacity(), 512u);
  EXPECT_EQ(b.data(), std::string(190, 'a'));
}

TEST(ByteBuffer, never_shrinks_and_warm_means_no_growth) {
  byte_buffer b;
  b.append(std::string(5000, 'z'));
  const std::size_t cap = b.capacity();
  const std::uint64_t growths = b.growths();
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.capacity(), cap);
  for (int round = 0; round < 1000; ++round) {
    b.append(std::string_view("*1\r\n$4\r\nPING\r\n"));
    if (round % 3 == 0) b.consume(b.size() / 2);
    if (b.size() > 2000) b.clear();
  }
  EXPECT_EQ(b.capacity(), cap);
  EXPECT_EQ(b.growths(), growths);
}

TEST(ByteBuffer, reserve_rounds_up_and_keeps_bytes) {
  byte_buffer b;
  b.append("keep");
  b.reserve(1000);
  EXPECT_EQ(b.capacity(), 1024u);
  EXPECT_EQ(b.data(), "keep");
  b.reserve(10);  // never shrinks
  EXPECT_EQ(b.capacity(), 1024u);
}

TEST(ByteBuffer, move_transfers_the_bytes) {
  byte_buffer a;
  a.append("payload");
  const std::size_t cap = a.capacity();
  byte_buffer b(std::move(a));
  EXPECT_EQ(b.data(), "payload");
  EXPECT_EQ(b.capacity(), cap);
  EXPECT_EQ(a.capacity(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_TRUE(a.empty());

  byte_buffer c;
  c.append("old");
  c = std::move(b);
  EXPECT_EQ(c.data(), "payload");
  EXPECT_TRUE(b.empty());  // NOLINT(bugprone-use-after-move)
  // A moved-from buffer is usable again.
  b.append("again");
  EXPECT_EQ(b.data(), "again");
}

TEST(ByteBuffer, allocates_from_the_given_heap) {
  mi_heap_t* heap = mi_heap_new();
  ASSERT_NE(heap, nullptr);
  {
    byte_buffer b(heap);
    EXPECT_EQ(b.heap(), heap);
    b.append(std::string(3000, 'h'));
    EXPECT_TRUE(mi_heap_contains_block(heap, b.data().data()));
    EXPECT_EQ(b.data(), std::string(3000, 'h'));
  }
  mi_heap_delete(heap);
}

TEST(ByteBuffer, absurd_request_throws_bad_alloc) {
  byte_buffer b;
  b.append("x");
  EXPECT_THROW((void)b.prepare(std::numeric_limits<std::size_t>::max()), std::bad_alloc);
  EXPECT_EQ(b.data(), "x");
}

}  // namespace
}  // namespace uredis::util

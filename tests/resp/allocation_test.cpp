// Proves the hot paths allocate nothing once warm: the parser, the encoder into a warm
// byte_buffer, and the adapters into non-owning or warm targets. The counter
// (tools/common/allocation_counter.hpp) sees every heap allocation of this thread: operator new
// and mimalloc (the byte_buffer's memory) alike.

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "allocation_counter.hpp"
#include "uredis/resp/adapter.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/resp/parser.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis {
namespace {

using dev::allocation_scope;
using dev::do_not_optimize;

// ---- the parser -----------------------------------------------------------------------------

// Parses every node in `bytes`; returns the number of complete replies.
std::size_t parse_all(resp::parser& p, std::string_view bytes, bool& ok) {
  std::size_t replies = 0;
  resp::node n;
  while (!bytes.empty()) {
    const resp::step s = p.next(bytes, n);
    if (s.status != resp::outcome::node) {
      ok = false;
      return replies;
    }
    do_not_optimize(n);
    bytes.remove_prefix(s.consumed);
    replies += p.done();
  }
  return replies;
}

TEST(Allocation, parser_stream_of_bulk_replies) {
  std::string stream;
  for (int i = 0; i < 1000; ++i)
    stream += "$" + std::to_string(5 + i % 3) + "\r\nhello" + std::string(i % 3, '!') + "\r\n";
  resp::parser p;
  bool ok = true;
  ASSERT_EQ(parse_all(p, stream, ok), 1000u);  // warm-up
  allocation_scope scope;
  const std::size_t replies = parse_all(p, stream, ok);
  const std::uint64_t allocations = scope.allocations();
  EXPECT_TRUE(ok);
  EXPECT_EQ(replies, 1000u);
  EXPECT_EQ(allocations, 0u);
}

TEST(Allocation, parser_array_of_1000) {
  std::string reply = "*1000\r\n";
  for (int i = 0; i < 1000; ++i)
    reply += i % 2 == 0 ? "$3\r\nabc\r\n" : ":" + std::to_string(i) + "\r\n";
  resp::parser p;
  bool ok = true;
  allocation_scope scope;
  const std::size_t replies = parse_all(p, reply, ok);
  const std::uint64_t allocations = scope.allocations();
  EXPECT_TRUE(ok);
  EXPECT_EQ(replies, 1u);
  EXPECT_EQ(allocations, 0u);
}

// ---- the encoder ----------------------------------------------------------------------------

void encode_batch(resp::encoder& enc, const std::string& value, const std::string& key) {
  for (int i = 0; i < 100; ++i) {
    enc.command("SET", key, value);
    enc.command("GET", key);
    enc.command("INCRBY", "counter", std::int64_t{i} - 50);
    enc.command("MSET", "k1", value, "k2", 3.25, "k3", std::uint64_t{18446744073709551615u});
    const std::string_view keys[] = {"a", "b", "c"};
    enc.begin(1 + 3);
    enc.arg("DEL");
    enc.args(keys);
  }
}

TEST(Allocation, encoder_into_a_warm_buffer) {
  util::byte_buffer buf;
  resp::encoder enc{buf};
  const std::string value(200, 'v');  // long strings: built before the scope
  const std::string key = "some:fairly:long:key:name:0001";
  encode_batch(enc, value, key);  // warm-up: the buffer grows to the batch's size
  const std::size_t batch = buf.size();
  buf.clear();
  const std::size_t capacity = buf.capacity();

  allocation_scope scope;
  for (int round = 0; round < 10; ++round) {
    encode_batch(enc, value, key);
    buf.consume(buf.size());  // the socket drained it
  }
  const std::uint64_t allocations = scope.allocations();
  EXPECT_EQ(allocations, 0u);  // operator new and the buffer's mimalloc alike
  EXPECT_EQ(buf.capacity(), capacity);
  EXPECT_GT(batch, 0u);
}

// ---- the adapters ---------------------------------------------------------------------------

// Feeds every reply in `bytes` to a fresh adapter<T> into `out`; false on any error.
template <class T>
bool adapt_all(std::string_view bytes, T& out, std::size_t& replies) {
  resp::parser p;
  resp::node n;
  std::optional<resp::adapter<T>> a;
  std::error_code ec;
  while (!bytes.empty()) {
    const resp::step s = p.next(bytes, n);
    if (s.status != resp::outcome::node) return false;
    bytes.remove_prefix(s.consumed);
    if (!a) a.emplace(out);
    a->on_node(n, ec);
    if (ec) return false;
    if (p.done()) {
      if (!a->done()) return false;
      do_not_optimize(out);
      a.reset();
      ++replies;
    }
  }
  return true;
}

template <class T>
void expect_no_allocation(std::string_view bytes, std::size_t expected_replies, T out = T{}) {
  std::size_t warm = 0;
  ASSERT_TRUE(adapt_all(bytes, out, warm)) << bytes.substr(0, 40);
  allocation_scope scope;
  std::size_t replies = 0;
  const bool ok = adapt_all(bytes, out, replies);
  const std::uint64_t allocations = scope.allocations();
  EXPECT_TRUE(ok);
  EXPECT_EQ(replies, expected_replies);
  EXPECT_EQ(allocations, 0u);
}

std::string repeat(std::string_view reply, int times) {
  std::string s;
  for (int i = 0; i < times; ++i)
    s += reply;
  return s;
}

TEST(Allocation, adapter_string_view) {
  expect_no_allocation<std::string_view>(repeat("$11\r\nhello world\r\n+OK\r\n:12\r\n", 100), 300);
}

TEST(Allocation, adapter_int64) {
  expect_no_allocation<std::int64_t>(repeat(":-9223372036854775808\r\n$3\r\n123\r\n", 100), 200);
}

TEST(Allocation, adapter_double) {
  expect_no_allocation<double>(repeat(",3.25\r\n$4\r\n10.5\r\n:7\r\n,inf\r\n", 100), 400);
}

TEST(Allocation, adapter_optional_string_view) {
  expect_no_allocation<std::optional<std::string_view>>(repeat("$5\r\nvalue\r\n$-1\r\n_\r\n", 100),
                                                        300);
}

TEST(Allocation, adapter_into_warm_containers) {
  // A reused vector or string keeps its capacity: reading into it again costs nothing.
  expect_no_allocation<std::vector<std::int64_t>>(repeat("*3\r\n:1\r\n:2\r\n:3\r\n", 100), 100);
  expect_no_allocation<std::string>(repeat("$40\r\n" + std::string(40, 's') + "\r\n", 100), 100);
  expect_no_allocation<std::vector<std::optional<std::string_view>>>(
      repeat("*3\r\n$1\r\na\r\n$-1\r\n+c\r\n", 100), 100);
}

TEST(Allocation, read_reply_scalar) {
  const std::string_view bytes = "$5\r\nhello\r\n";
  allocation_scope scope;
  std::size_t total = 0;
  for (int i = 0; i < 100; ++i) {
    const result<std::string_view> r = resp::read_reply<std::string_view>(bytes);
    total += r.has_value() ? r->size() : 1000;
    const result<std::int64_t> n = resp::read_reply<std::int64_t>(":42\r\n");
    total += n.has_value() ? static_cast<std::size_t>(*n) : 1000;
  }
  const std::uint64_t allocations = scope.allocations();
  EXPECT_EQ(total, 100u * (5 + 42));
  EXPECT_EQ(allocations, 0u);
}

}  // namespace
}  // namespace uredis

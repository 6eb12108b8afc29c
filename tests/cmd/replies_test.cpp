// Each descriptor's response type, fed the replies Redis really sends, in both protocols: RESP2
// and RESP3 differ for nulls (_ vs $-1/*-1), doubles (ZSCORE, ZINCRBY, ZADD INCR: a bulk string
// vs a double), HGETALL (a flat array vs a map), SMEMBERS (an array vs a set) and ZRANGE
// WITHSCORES (a flat array vs an array of pairs). The bytes below were checked against
// redis-server 7.0 (see live_test.cpp, which sends every descriptor to a real server).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "uredis/cmd/all.hpp"
#include "uredis/resp/adapter.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/resp/type.hpp"

namespace uredis::cmd {
namespace {

using namespace std::string_view_literals;
using strings = std::vector<std::string>;

// Adapts one whole reply into D's response; the reply must be consumed exactly.
template <class D>
result<response_t<D>> adapt(std::string_view bytes) {
  std::size_t consumed = 0;
  auto r = resp::read_reply<response_t<D>>(bytes, &consumed);
  EXPECT_EQ(consumed, bytes.size()) << bytes;
  return r;
}

// The value of a reply that must adapt.
template <class D>
response_t<D> value(std::string_view bytes) {
  auto r = adapt<D>(bytes);
  EXPECT_TRUE(r.has_value()) << bytes;
  if (!r.has_value()) return {};
  return std::move(*r);
}

constexpr std::string_view null2 = "$-1\r\n";  // RESP2's null bulk string
constexpr std::string_view null_array2 = "*-1\r\n";
constexpr std::string_view null3 = "_\r\n";

// ---- server ---------------------------------------------------------------------------------

TEST(Replies, ping_echo) {
  EXPECT_EQ(value<ping>("+PONG\r\n"), "PONG");
  EXPECT_EQ(value<ping>("$5\r\nhello\r\n"), "hello");
  EXPECT_EQ(value<echo>("$2\r\nhi\r\n"), "hi");
  EXPECT_EQ(value<echo>("$0\r\n\r\n"), "");
}

// ---- strings --------------------------------------------------------------------------------

TEST(Replies, get_family) {
  for (const auto bytes : {null2, null3}) {
    EXPECT_EQ(value<get>(bytes), std::nullopt);
    EXPECT_EQ(value<getdel>(bytes), std::nullopt);
    EXPECT_EQ(value<getex>(bytes), std::nullopt);
    EXPECT_EQ(value<set_get>(bytes), std::nullopt);
  }
  EXPECT_EQ(value<get>("$5\r\nvalue\r\n"), "value");
  EXPECT_EQ(value<get>("$3\r\na\0b\r\n"sv), "a\0b"sv);
  EXPECT_EQ(value<getdel>("$1\r\nv\r\n"), "v");
  EXPECT_EQ(value<getex>("$1\r\nv\r\n"), "v");
  EXPECT_EQ(value<set_get>("$3\r\nold\r\n"), "old");
}

TEST(Replies, set_and_mset) {
  EXPECT_TRUE(value<set>("+OK\r\n"));
  EXPECT_FALSE(value<set>(null2));  // NX or XX stopped it
  EXPECT_FALSE(value<set>(null3));
  EXPECT_TRUE(value<mset>("+OK\r\n"));
  EXPECT_EQ(adapt<set>(":1\r\n").error(), errc::type_mismatch);
}

TEST(Replies, mget) {
  const std::vector<std::optional<std::string>> expected = {"a", std::nullopt, "c"};
  EXPECT_EQ(value<mget>("*3\r\n$1\r\na\r\n$-1\r\n$1\r\nc\r\n"), expected);
  EXPECT_EQ(value<mget>("*3\r\n$1\r\na\r\n_\r\n$1\r\nc\r\n"), expected);
  EXPECT_TRUE(value<mget>("*0\r\n").empty());
}

TEST(Replies, integers) {
  EXPECT_EQ(value<incr>(":1\r\n"), 1);
  EXPECT_EQ(value<incrby>(":-9223372036854775808\r\n"), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(value<decr>(":-1\r\n"), -1);
  EXPECT_EQ(value<decrby>(":9223372036854775807\r\n"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(value<append>(":11\r\n"), 11);
  EXPECT_EQ(value<strlen>(":0\r\n"), 0);
  EXPECT_EQ(value<del>(":3\r\n"), 3);
  EXPECT_EQ(value<unlink>(":0\r\n"), 0);
  EXPECT_EQ(value<exists>(":2\r\n"), 2);
  EXPECT_EQ(value<ttl>(":-2\r\n"), -2);
  EXPECT_EQ(value<pttl>(":-1\r\n"), -1);
  EXPECT_EQ(value<hset>(":2\r\n"), 2);
  EXPECT_EQ(value<hdel>(":1\r\n"), 1);
  EXPECT_EQ(value<hincrby>(":-5\r\n"), -5);
  EXPECT_EQ(value<lpush>(":4\r\n"), 4);
  EXPECT_EQ(value<rpush>(":5\r\n"), 5);
  EXPECT_EQ(value<llen>(":0\r\n"), 0);
  EXPECT_EQ(value<sadd>(":2\r\n"), 2);
  EXPECT_EQ(value<srem>(":1\r\n"), 1);
  EXPECT_EQ(value<zadd>(":2\r\n"), 2);
  EXPECT_EQ(value<publish>(":0\r\n"), 0);
  // A counter's error is a server error, not a mismatch.
  const auto err = adapt<incr>("-ERR value is not an integer or out of range\r\n");
  ASSERT_TRUE(err.has_server_error());
  EXPECT_EQ(err.server_error().kind, server_error_kind::err);
}

// ---- keys -----------------------------------------------------------------------------------

TEST(Replies, expire_is_a_bool) {
  EXPECT_TRUE(value<expire>(":1\r\n"));
  EXPECT_FALSE(value<expire>(":0\r\n"));
  EXPECT_TRUE(value<pexpire>(":1\r\n"));
  EXPECT_FALSE(value<pexpire>(":0\r\n"));
  EXPECT_EQ(adapt<expire>(":2\r\n").error(), errc::type_mismatch);
}

TEST(Replies, scan) {
  const auto page = value<scan>("*2\r\n$2\r\n17\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n");
  EXPECT_EQ(page.first, 17u);
  EXPECT_EQ(page.second, (strings{"a", "b"}));
  const auto last = value<scan>("*2\r\n$1\r\n0\r\n*0\r\n");
  EXPECT_EQ(last.first, 0u);
  EXPECT_TRUE(last.second.empty());
  // Cursors are unsigned 64-bit.
  EXPECT_EQ(value<scan>("*2\r\n$20\r\n18446744073709551615\r\n*0\r\n").first,
            18446744073709551615u);
}

// ---- hashes ---------------------------------------------------------------------------------

TEST(Replies, hget) {
  EXPECT_EQ(value<hget>("$1\r\nv\r\n"), "v");
  EXPECT_EQ(value<hget>(null2), std::nullopt);
  EXPECT_EQ(value<hget>(null3), std::nullopt);
}

TEST(Replies, hgetall_flat_array_and_map) {
  const std::unordered_map<std::string, std::string> expected = {{"f", "v"}, {"g", "w"}};
  EXPECT_EQ(value<hgetall>("*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n$1\r\nw\r\n"), expected);
  EXPECT_EQ(value<hgetall>("%2\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n$1\r\nw\r\n"), expected);
  EXPECT_TRUE(value<hgetall>("*0\r\n").empty());
  EXPECT_TRUE(value<hgetall>("%0\r\n").empty());
  EXPECT_EQ(adapt<hgetall>("*3\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n").error(),
            errc::type_mismatch);  // odd: not pairs
}

// ---- lists ----------------------------------------------------------------------------------

TEST(Replies, pops) {
  EXPECT_EQ(value<lpop>("$1\r\na\r\n"), "a");
  EXPECT_EQ(value<rpop>(null2), std::nullopt);
  EXPECT_EQ(value<rpop>(null3), std::nullopt);
  EXPECT_EQ(value<lpop_count>("*2\r\n$1\r\na\r\n$1\r\nb\r\n"), (strings{"a", "b"}));
  EXPECT_EQ(value<rpop_count>("*1\r\n$1\r\nz\r\n"), (strings{"z"}));
  // No such key: RESP2 sends a null array, RESP3 a null.
  EXPECT_EQ(value<lpop_count>(null_array2), std::nullopt);
  EXPECT_EQ(value<lpop_count>(null3), std::nullopt);
}

TEST(Replies, lrange) {
  EXPECT_EQ(value<lrange>("*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n"), (strings{"c", "b", "a"}));
  EXPECT_TRUE(value<lrange>("*0\r\n").empty());
}

// ---- sets -----------------------------------------------------------------------------------

TEST(Replies, smembers_array_and_set) {
  EXPECT_EQ(value<smembers>("*2\r\n$1\r\na\r\n$1\r\nb\r\n"), (strings{"a", "b"}));
  EXPECT_EQ(value<smembers>("~2\r\n$1\r\na\r\n$1\r\nb\r\n"), (strings{"a", "b"}));
  EXPECT_TRUE(value<smembers>("~0\r\n").empty());
}

TEST(Replies, sismember) {
  EXPECT_TRUE(value<sismember>(":1\r\n"));
  EXPECT_FALSE(value<sismember>(":0\r\n"));
}

// ---- sorted sets ----------------------------------------------------------------------------

TEST(Replies, scores_bulk_and_double) {
  EXPECT_EQ(value<zscore>("$3\r\n1.5\r\n"), 1.5);
  EXPECT_EQ(value<zscore>(",1.5\r\n"), 1.5);
  EXPECT_EQ(value<zscore>(null2), std::nullopt);
  EXPECT_EQ(value<zscore>(null3), std::nullopt);
  EXPECT_EQ(value<zscore>("$3\r\ninf\r\n"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(value<zscore>(",-inf\r\n"), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(value<zincrby>("$4\r\n3.25\r\n"), 3.25);
  EXPECT_EQ(value<zincrby>(",3.25\r\n"), 3.25);
  EXPECT_EQ(value<zincrby>(",1e+300\r\n"), 1e300);
  EXPECT_EQ(value<zadd_incr>("$3\r\n3.5\r\n"), 3.5);
  EXPECT_EQ(value<zadd_incr>(",3.5\r\n"), 3.5);
  EXPECT_EQ(value<zadd_incr>(null2), std::nullopt);  // NX/XX/GT/LT stopped it
  EXPECT_EQ(value<zadd_incr>(null3), std::nullopt);
}

TEST(Replies, zrange) {
  EXPECT_EQ(value<zrange>("*2\r\n$1\r\na\r\n$1\r\nb\r\n"), (strings{"a", "b"}));
}

TEST(Replies, zrange_withscores_flat_and_pairs) {
  using scored = std::vector<std::pair<std::string, double>>;
  const scored expected = {{"a", 1}, {"b", 2.5}};
  EXPECT_EQ(value<zrange_withscores>("*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n"),
            expected);
  EXPECT_EQ(value<zrange_withscores>("*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"),
            expected);
  EXPECT_TRUE(value<zrange_withscores>("*0\r\n").empty());
}

// ---- scripting and raw ----------------------------------------------------------------------

TEST(Replies, eval_any_shape) {
  const resp::reply r = value<eval<>>("*2\r\n$1\r\nk\r\n:1\r\n");
  ASSERT_EQ(r.type(), resp::type::array);
  ASSERT_EQ(r.elements().size(), 2u);
  EXPECT_EQ(r.elements()[0].text(), "k");
  EXPECT_EQ(r.elements()[1].integer(), 1);
  EXPECT_TRUE(value<eval<>>(null2).is_null());
  EXPECT_EQ(value<eval<std::int64_t>>(":3\r\n"), 3);
  EXPECT_EQ(value<evalsha<strings>>("*1\r\n$1\r\nx\r\n"), (strings{"x"}));
  EXPECT_EQ(adapt<eval<std::int64_t>>("$1\r\nx\r\n").error(), errc::type_mismatch);
}

TEST(Replies, evalsha_noscript) {
  const auto r = adapt<evalsha<>>("-NOSCRIPT No matching script. Please use EVAL.\r\n");
  ASSERT_TRUE(r.has_server_error());
  EXPECT_EQ(r.server_error().kind, server_error_kind::noscript);
}

TEST(Replies, script_load) {
  EXPECT_EQ(value<script_load>("$40\r\ne0e1f9fabfc9d4800c877a703b823ac0578ff8db\r\n"),
            "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
}

TEST(Replies, raw) {
  const resp::reply r = value<raw<>>("=15\r\ntxt:id=3 addr=x\r\n");
  EXPECT_EQ(r.type(), resp::type::verbatim_string);
  EXPECT_EQ(r.text(), "id=3 addr=x");
  EXPECT_EQ(value<raw<std::string>>("=15\r\ntxt:id=3 addr=x\r\n"), "id=3 addr=x");
  EXPECT_EQ(value<raw<std::int64_t>>(":7\r\n"), 7);
}

// ---- errors ---------------------------------------------------------------------------------

TEST(Replies, server_errors_and_mismatches) {
  const auto wrong =
      adapt<get>("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
  ASSERT_TRUE(wrong.has_server_error());
  EXPECT_EQ(wrong.server_error().kind, server_error_kind::wrongtype);
  EXPECT_EQ(adapt<get>("*1\r\n$1\r\nx\r\n").error(), errc::type_mismatch);
  EXPECT_EQ(adapt<incr>("$-1\r\n").error(), errc::unexpected_null);
  EXPECT_EQ(adapt<mget>("*2\r\n$1\r\na\r\n-ERR x\r\n").error(), errc::unexpected_server_error);
  EXPECT_EQ(adapt<zscore>("$3\r\nabc\r\n").error(), errc::type_mismatch);
}

}  // namespace
}  // namespace uredis::cmd

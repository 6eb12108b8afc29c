#include "uredis/resp/adapter.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "uredis/error.hpp"
#include "uredis/resp/parser.hpp"

namespace uredis::resp {
namespace {

using namespace std::string_literals;
using namespace std::string_view_literals;

template <class T>
T value_of(std::string_view bytes) {
  std::size_t consumed = 0;
  result<T> r = read_reply<T>(bytes, &consumed);
  EXPECT_TRUE(r.has_value()) << bytes << ": "
                             << (r.has_error() ? r.error().message() : "server error");
  EXPECT_EQ(consumed, bytes.size()) << bytes;
  return r.has_value() ? std::move(*r) : T{};
}

// The error reading `bytes` into T; the reply must still have been consumed whole.
template <class T>
std::error_code error_of(std::string_view bytes) {
  std::size_t consumed = 0;
  result<T> r = read_reply<T>(bytes, &consumed);
  EXPECT_TRUE(r.has_error()) << bytes;
  EXPECT_EQ(consumed, bytes.size()) << bytes;
  return r.has_error() ? r.error() : std::error_code{};
}

// ---- strings -------------------------------------------------------------------------------

TEST(AdapterString, every_string_type) {
  EXPECT_EQ(value_of<std::string>("+OK\r\n"), "OK");
  EXPECT_EQ(value_of<std::string>("$5\r\nhello\r\n"), "hello");
  EXPECT_EQ(value_of<std::string>("$0\r\n\r\n"), "");
  EXPECT_EQ(value_of<std::string>("=15\r\ntxt:Some string\r\n"), "Some string");
  EXPECT_EQ(value_of<std::string>("$4\r\na\r\n\0\r\n"sv), "a\r\n\0"s);
}

TEST(AdapterString, numbers_as_their_text) {
  EXPECT_EQ(value_of<std::string>(":-42\r\n"), "-42");
  EXPECT_EQ(value_of<std::string>(",3.14\r\n"), "3.14");
  EXPECT_EQ(value_of<std::string>(",inf\r\n"), "inf");
  EXPECT_EQ(value_of<std::string>("(3492890328409238509324850943850943825024385\r\n"),
            "3492890328409238509324850943850943825024385");
}

TEST(AdapterString, refuses_booleans_nulls_aggregates) {
  EXPECT_EQ(error_of<std::string>("#t\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<std::string>("_\r\n"), errc::unexpected_null);
  EXPECT_EQ(error_of<std::string>("$-1\r\n"), errc::unexpected_null);
  EXPECT_EQ(error_of<std::string>("*2\r\n+a\r\n+b\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<std::string>("%1\r\n+a\r\n*1\r\n+b\r\n"), errc::type_mismatch);
}

TEST(AdapterStringView, views_into_the_bytes) {
  const std::string bytes = "$5\r\nhello\r\n";
  const std::string_view v = value_of<std::string_view>(bytes);
  EXPECT_EQ(v, "hello");
  EXPECT_EQ(v.data(), bytes.data() + 4);
  EXPECT_EQ(value_of<std::string_view>("+PONG\r\n"), "PONG");
  EXPECT_EQ(value_of<std::string_view>(":7\r\n"), "7");
  EXPECT_EQ(error_of<std::string_view>("_\r\n"), errc::unexpected_null);
}

// ---- integers ------------------------------------------------------------------------------

TEST(AdapterInteger, integer_replies) {
  EXPECT_EQ(value_of<std::int64_t>(":42\r\n"), 42);
  EXPECT_EQ(value_of<std::int64_t>(":-9223372036854775808\r\n"),
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(value_of<int>(":-7\r\n"), -7);
  EXPECT_EQ(value_of<std::uint64_t>(":9223372036854775807\r\n"),
            std::numeric_limits<std::int64_t>::max());
}

TEST(AdapterInteger, out_of_range_is_a_mismatch) {
  EXPECT_EQ(error_of<std::int8_t>(":128\r\n"), errc::type_mismatch);
  EXPECT_EQ(value_of<std::int8_t>(":-128\r\n"), -128);
  EXPECT_EQ(error_of<std::uint64_t>(":-1\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<std::uint16_t>(":65536\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<std::int64_t>("$19\r\n9223372036854775808\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<std::uint32_t>("$2\r\n-1\r\n"), errc::type_mismatch);
}

TEST(AdapterInteger, strings_holding_integers) {
  EXPECT_EQ(value_of<std::int64_t>("$2\r\n42\r\n"), 42);  // GET of a counter
  EXPECT_EQ(value_of<std::int64_t>("+-17\r\n"), -17);
  EXPECT_EQ(value_of<std::uint64_t>("$20\r\n18446744073709551615\r\n"),
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(value_of<std::int64_t>("(123\r\n"), 123);
  EXPECT_EQ(value_of<std::int64_t>("(+5\r\n"), 5);
  EXPECT_EQ(error_of<std::int64_t>("(123456789012345678901234567890\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<std::int64_t>("$3\r\nabc\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<std::int64_t>("$3\r\n12a\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<std::int64_t>("$3\r\n 12\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<std::int64_t>("$0\r\n\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<std::int64_t>("$3\r\n1.5\r\n"), errc::type_mismatch);
}

TEST(AdapterInteger, refuses_doubles_booleans_nulls) {
  EXPECT_EQ(error_of<std::int64_t>(",1.0\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<std::int64_t>("#t\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<std::int64_t>("_\r\n"), errc::unexpected_null);
  EXPECT_EQ(error_of<std::int64_t>("*1\r\n:1\r\n"), errc::type_mismatch);
}

// ---- floating point ------------------------------------------------------------------------

TEST(AdapterDouble, doubles_integers_and_numeric_strings) {
  EXPECT_EQ(value_of<double>(",3.5\r\n"), 3.5);
  EXPECT_EQ(value_of<double>(",-1e300\r\n"), -1e300);
  EXPECT_EQ(value_of<double>(":7\r\n"), 7.0);
  EXPECT_EQ(value_of<double>("$4\r\n10.5\r\n"), 10.5);  // INCRBYFLOAT, RESP2 ZSCORE
  EXPECT_EQ(value_of<double>("+0.1\r\n"), 0.1);
  EXPECT_EQ(value_of<double>("$5\r\n1e-10\r\n"), 1e-10);
  EXPECT_EQ(value_of<double>("(12345678901234567890\r\n"), 12345678901234567890.0);
  EXPECT_EQ(value_of<float>(",0.25\r\n"), 0.25f);
}

TEST(AdapterDouble, infinities_and_nan) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(value_of<double>(",inf\r\n"), inf);
  EXPECT_EQ(value_of<double>(",-inf\r\n"), -inf);
  EXPECT_EQ(value_of<double>("$3\r\ninf\r\n"), inf);
  EXPECT_EQ(value_of<double>("$4\r\n-inf\r\n"), -inf);
  EXPECT_EQ(value_of<double>("$4\r\n+inf\r\n"), inf);
  EXPECT_TRUE(std::isnan(value_of<double>(",nan\r\n")));
  EXPECT_TRUE(std::isnan(value_of<double>("$3\r\nnan\r\n")));
}

TEST(AdapterDouble, refuses_other_text) {
  EXPECT_EQ(error_of<double>("$3\r\nabc\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<double>("$8\r\ninfinity\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<double>("$5\r\n0x1p3\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<double>("$0\r\n\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<double>("$4\r\n1.5 \r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<double>("#f\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<double>("$-1\r\n"), errc::unexpected_null);
}

// ---- bool ----------------------------------------------------------------------------------

TEST(AdapterBool, booleans_and_zero_one) {
  EXPECT_TRUE(value_of<bool>("#t\r\n"));
  EXPECT_FALSE(value_of<bool>("#f\r\n"));
  EXPECT_TRUE(value_of<bool>(":1\r\n"));
  EXPECT_FALSE(value_of<bool>(":0\r\n"));
  EXPECT_EQ(error_of<bool>(":2\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<bool>(":-1\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<bool>("+OK\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<bool>("$1\r\n1\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<bool>("_\r\n"), errc::unexpected_null);
}

// ---- optional ------------------------------------------------------------------------------

TEST(AdapterOptional, null_is_nullopt) {
  EXPECT_EQ(value_of<std::optional<std::string>>("_\r\n"), std::nullopt);
  EXPECT_EQ(value_of<std::optional<std::string>>("$-1\r\n"), std::nullopt);
  EXPECT_EQ(value_of<std::optional<std::vector<int>>>("*-1\r\n"), std::nullopt);
  EXPECT_EQ(value_of<std::optional<std::string>>("$1\r\nx\r\n"), "x");
  EXPECT_EQ(value_of<std::optional<std::int64_t>>(":5\r\n"), 5);
  EXPECT_EQ(error_of<std::optional<std::int64_t>>("+x\r\n"), errc::type_mismatch);
}

TEST(AdapterOptional, overwrites_a_previous_value) {
  std::optional<std::string> out = "old";
  adapter<std::optional<std::string>> a(out);
  std::error_code ec;
  node n;
  n.type = type::null;
  a.on_node(n, ec);
  EXPECT_TRUE(a.done());
  EXPECT_FALSE(ec);
  EXPECT_EQ(out, std::nullopt);
}

// ---- vector --------------------------------------------------------------------------------

TEST(AdapterVector, arrays_sets_pushes) {
  EXPECT_EQ(value_of<std::vector<std::string>>("*3\r\n$1\r\na\r\n+b\r\n:3\r\n"),
            (std::vector<std::string>{"a", "b", "3"}));
  EXPECT_EQ(value_of<std::vector<std::int64_t>>("~2\r\n:1\r\n:2\r\n"),
            (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(value_of<std::vector<std::string>>(">2\r\n+message\r\n+hi\r\n"),
            (std::vector<std::string>{"message", "hi"}));
  EXPECT_EQ(value_of<std::vector<int>>("*0\r\n"), std::vector<int>{});
}

TEST(AdapterVector, a_map_flattens_or_gives_pairs) {
  EXPECT_EQ(value_of<std::vector<std::string>>("%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n"),
            (std::vector<std::string>{"a", "1", "b", "2"}));
  using pairs = std::vector<std::pair<std::string, std::int64_t>>;
  EXPECT_EQ(value_of<pairs>("%2\r\n+a\r\n:1\r\n+b\r\n:2\r\n"), (pairs{{"a", 1}, {"b", 2}}));
}

TEST(AdapterVector, pairs_from_flat_and_nested_arrays) {
  using pairs = std::vector<std::pair<std::string, double>>;
  const pairs expected{{"m1", 1.5}, {"m2", 2}};
  // RESP2 ZRANGE ... WITHSCORES
  EXPECT_EQ(value_of<pairs>("*4\r\n$2\r\nm1\r\n$3\r\n1.5\r\n$2\r\nm2\r\n$1\r\n2\r\n"), expected);
  // RESP3 ZRANGE ... WITHSCORES
  EXPECT_EQ(value_of<pairs>("*2\r\n*2\r\n$2\r\nm1\r\n,1.5\r\n*2\r\n$2\r\nm2\r\n,2\r\n"), expected);
  EXPECT_EQ(error_of<pairs>("*3\r\n+a\r\n,1\r\n+b\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<pairs>("*2\r\n*2\r\n+a\r\n,1\r\n*3\r\n+b\r\n,1\r\n,2\r\n"),
            errc::type_mismatch);
}

TEST(AdapterVector, element_errors) {
  EXPECT_EQ(error_of<std::vector<std::string>>("*2\r\n+a\r\n_\r\n"), errc::unexpected_null);
  EXPECT_EQ(error_of<std::vector<std::string>>("*2\r\n-ERR no\r\n+b\r\n"),
            errc::unexpected_server_error);
  EXPECT_EQ(error_of<std::vector<std::string>>("*2\r\n!3\r\nERR\r\n+b\r\n"),
            errc::unexpected_server_error);
  EXPECT_EQ(error_of<std::vector<std::int64_t>>("*3\r\n:1\r\n*2\r\n:1\r\n:2\r\n:3\r\n"),
            errc::type_mismatch);
  EXPECT_EQ(error_of<std::vector<std::string>>("+a\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<std::vector<std::string>>("*-1\r\n"), errc::unexpected_null);
}

TEST(AdapterVector, the_first_error_is_kept) {
  // type_mismatch on "+a", then a null that would be unexpected_null.
  EXPECT_EQ(error_of<std::vector<std::int64_t>>("*2\r\n+a\r\n_\r\n"), errc::type_mismatch);
}

TEST(AdapterVector, clears_the_target_first) {
  std::vector<int> out{9, 9, 9};
  adapter<std::vector<int>> a(out);
  std::error_code ec;
  parser p;
  std::string_view bytes = "*1\r\n:4\r\n";
  node n;
  while (!bytes.empty()) {
    const step s = p.next(bytes, n);
    ASSERT_EQ(s.status, outcome::node);
    bytes.remove_prefix(s.consumed);
    a.on_node(n, ec);
  }
  EXPECT_TRUE(a.done());
  EXPECT_EQ(out, std::vector<int>{4});
}

TEST(AdapterVector, a_hostile_size_does_not_allocate_it) {
  std::vector<std::string> out;
  adapter<std::vector<std::string>> a(out);
  std::error_code ec;
  node n;
  n.type = type::array;
  n.size = 4'000'000'000ull;
  a.on_node(n, ec);
  EXPECT_FALSE(ec);
  EXPECT_FALSE(a.done());
  EXPECT_LE(out.capacity(), 1024u);
  EXPECT_GE(out.capacity(), 1024u);

  std::unordered_map<std::string, std::string> m;
  adapter<std::unordered_map<std::string, std::string>> am(m);
  n.type = type::map;
  am.on_node(n, ec);
  EXPECT_FALSE(ec);
  EXPECT_LE(m.bucket_count(), 4096u);
}

// ---- pair ----------------------------------------------------------------------------------

TEST(AdapterPair, a_two_element_array) {
  using p = std::pair<std::string, std::int64_t>;
  EXPECT_EQ(value_of<p>("*2\r\n$3\r\nkey\r\n:5\r\n"), (p{"key", 5}));
  EXPECT_EQ(error_of<p>("*3\r\n+a\r\n:1\r\n:2\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<p>("*1\r\n+a\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<p>("%1\r\n+a\r\n:1\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<p>("*2\r\n+a\r\n+b\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<p>("_\r\n"), errc::unexpected_null);
  // BLPOP: a pair of key and element, or null on timeout.
  using popped = std::optional<std::pair<std::string, std::string>>;
  EXPECT_EQ(value_of<popped>("*2\r\n$4\r\nlist\r\n$1\r\nx\r\n"), (popped{{"list", "x"}}));
  EXPECT_EQ(value_of<popped>("*-1\r\n"), std::nullopt);
}

TEST(AdapterPair, halves_compose) {
  using p = std::pair<std::vector<int>, std::optional<std::string>>;
  EXPECT_EQ(value_of<p>("*2\r\n*2\r\n:1\r\n:2\r\n_\r\n"), (p{{1, 2}, std::nullopt}));
}

// ---- maps ----------------------------------------------------------------------------------

TEST(AdapterMap, resp3_map_and_resp2_flat_array) {
  using m = std::map<std::string, std::string>;
  const m expected{{"f1", "v1"}, {"f2", "v2"}};
  EXPECT_EQ(value_of<m>("%2\r\n+f1\r\n+v1\r\n+f2\r\n+v2\r\n"), expected);
  EXPECT_EQ(value_of<m>("*4\r\n$2\r\nf1\r\n$2\r\nv1\r\n$2\r\nf2\r\n$2\r\nv2\r\n"), expected);
  EXPECT_EQ(value_of<m>("*0\r\n"), m{});
  EXPECT_EQ(value_of<m>("%0\r\n"), m{});
  EXPECT_EQ(error_of<m>("*3\r\n+a\r\n+b\r\n+c\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<m>("~2\r\n+a\r\n+b\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<m>("_\r\n"), errc::unexpected_null);
  EXPECT_EQ(error_of<m>("+a\r\n"), errc::type_mismatch);
}

TEST(AdapterMap, array_of_pairs_and_repeated_keys) {
  using m = std::unordered_map<std::string, double>;
  EXPECT_EQ(value_of<m>("*2\r\n*2\r\n+a\r\n,1\r\n*2\r\n+b\r\n,2.5\r\n"), (m{{"a", 1}, {"b", 2.5}}));
  EXPECT_EQ(value_of<m>("%2\r\n+a\r\n,1\r\n+a\r\n,2\r\n"), (m{{"a", 2}}));
}

TEST(AdapterMap, nested_values) {
  using m = std::map<std::string, std::vector<std::int64_t>>;
  EXPECT_EQ(value_of<m>("%2\r\n+a\r\n*2\r\n:1\r\n:2\r\n+b\r\n*0\r\n"),
            (m{{"a", {1, 2}}, {"b", {}}}));
  EXPECT_EQ(error_of<m>("%2\r\n+a\r\n*2\r\n:1\r\n+x\r\n+b\r\n*0\r\n"), errc::type_mismatch);
  EXPECT_EQ(error_of<m>("%1\r\n_\r\n*0\r\n"), errc::unexpected_null);
}

TEST(AdapterMap, integer_keys) {
  using m = std::map<std::int64_t, std::string>;
  EXPECT_EQ(value_of<m>("%2\r\n:1\r\n+one\r\n$1\r\n2\r\n+two\r\n"), (m{{1, "one"}, {2, "two"}}));
}

// ---- composition ---------------------------------------------------------------------------

TEST(AdapterCompose, vector_of_optionals) {
  // MGET with a missing key.
  EXPECT_EQ(
      value_of<std::vector<std::optional<std::string>>>("*3\r\n$1\r\na\r\n$-1\r\n$1\r\nc\r\n"),
      (std::vector<std::optional<std::string>>{"a", std::nullopt, "c"}));
}

TEST(AdapterCompose, vector_of_vectors_and_maps) {
  using v = std::vector<std::vector<int>>;
  EXPECT_EQ(value_of<v>("*3\r\n*2\r\n:1\r\n:2\r\n*0\r\n*1\r\n:3\r\n"), (v{{1, 2}, {}, {3}}));
  using vm = std::vector<std::map<std::string, std::int64_t>>;
  EXPECT_EQ(value_of<vm>("*2\r\n%1\r\n+a\r\n:1\r\n*2\r\n+b\r\n:2\r\n"),
            (vm{{{"a", 1}}, {{"b", 2}}}));
}

// ---- ignore --------------------------------------------------------------------------------

TEST(AdapterIgnore, accepts_anything) {
  EXPECT_TRUE(read_reply<ignore_t>("+OK\r\n").has_value());
  EXPECT_TRUE(read_reply<ignore_t>("_\r\n").has_value());
  EXPECT_TRUE(read_reply<ignore_t>("*2\r\n-ERR nested\r\n%1\r\n+a\r\n*1\r\n:1\r\n").has_value());
  EXPECT_EQ(value_of<std::vector<ignore_t>>("*3\r\n:1\r\n*1\r\n+x\r\n_\r\n").size(), 3u);
  EXPECT_TRUE(read_reply<ignore_t>("-ERR top\r\n").has_server_error());
}

// ---- the driver ----------------------------------------------------------------------------

TEST(AdapterReadReply, top_level_errors_are_server_errors) {
  std::size_t consumed = 0;
  const auto r = read_reply<std::string>("-WRONGTYPE Operation against a key\r\n", &consumed);
  ASSERT_TRUE(r.has_server_error());
  EXPECT_EQ(r.server_error().kind, server_error_kind::wrongtype);
  EXPECT_EQ(r.server_error().message, "WRONGTYPE Operation against a key");
  EXPECT_EQ(consumed, 36u);
  const auto b = read_reply<std::vector<int>>("!10\r\nERR failed\r\n");
  ASSERT_TRUE(b.has_server_error());
  EXPECT_EQ(b.server_error().kind, server_error_kind::err);
}

TEST(AdapterReadReply, incomplete_and_malformed) {
  std::size_t consumed = 99;
  auto r = read_reply<std::string>("$5\r\nab", &consumed);
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error(), errc::incomplete_reply);
  EXPECT_EQ(consumed, 0u);
  EXPECT_EQ(read_reply<std::vector<int>>("*2\r\n:1\r\n").error(), errc::incomplete_reply);
  EXPECT_EQ(read_reply<int>("").error(), errc::incomplete_reply);
  EXPECT_EQ(read_reply<int>("?1\r\n", &consumed).error(), errc::invalid_type_byte);
  EXPECT_EQ(consumed, 0u);
}

TEST(AdapterReadReply, reads_only_the_first_reply) {
  std::size_t consumed = 0;
  const auto r = read_reply<std::int64_t>(":1\r\n:2\r\n", &consumed);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 1);
  EXPECT_EQ(consumed, 4u);
}

TEST(AdapterReadReply, attributes_are_skipped) {
  EXPECT_EQ(value_of<std::int64_t>("|1\r\n+ttl\r\n:100\r\n:5\r\n"), 5);
  EXPECT_EQ(value_of<std::vector<std::string>>("*2\r\n|1\r\n+a\r\n*1\r\n:1\r\n+x\r\n+y\r\n"),
            (std::vector<std::string>{"x", "y"}));
}

TEST(AdapterReadReply, limits_apply) {
  limits lim;
  lim.max_depth = 1;
  EXPECT_EQ(read_reply<std::vector<std::vector<int>>>("*1\r\n*1\r\n:1\r\n", nullptr, lim).error(),
            errc::nesting_too_deep);
}

// ---- stepping by hand: done() and errors line up with the element's last node --------------

// Feeds every node of the first reply in `bytes` to `a`; returns done() after each node.
template <class Adapter>
std::vector<bool> feed(Adapter& a, std::string_view bytes, std::error_code& ec) {
  parser p;
  std::vector<bool> done;
  node n;
  do {
    const step s = p.next(bytes, n);
    EXPECT_EQ(s.status, outcome::node);
    if (s.status != outcome::node) break;
    bytes.remove_prefix(s.consumed);
    if (n.in_attribute) continue;
    a.on_node(n, ec);
    done.push_back(a.done());
  } while (!p.done());
  return done;
}

TEST(AdapterStepping, done_only_at_the_last_node) {
  std::map<std::string, std::vector<std::int64_t>> out;
  adapter<decltype(out)> a(out);
  std::error_code ec;
  const auto done = feed(a, "%2\r\n+a\r\n*2\r\n:1\r\n:2\r\n+b\r\n*0\r\n", ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(done, (std::vector<bool>{false, false, false, false, false, false, true}));
}

TEST(AdapterStepping, keeps_consuming_after_an_error) {
  std::vector<std::int64_t> out;
  adapter<decltype(out)> a(out);
  std::error_code ec;
  // The second element is an array: a mismatch at node 3, then its three children are counted.
  const auto done = feed(a, "*3\r\n:1\r\n*2\r\n:1\r\n*1\r\n:2\r\n:3\r\n", ec);
  EXPECT_EQ(ec, errc::type_mismatch);
  EXPECT_EQ(done, (std::vector<bool>{false, false, false, false, false, false, true}));
}

TEST(AdapterStepping, a_scalar_target_skips_a_whole_aggregate) {
  std::string out;
  adapter<std::string> a(out);
  std::error_code ec;
  const auto done = feed(a, "%1\r\n+k\r\n*2\r\n:1\r\n_\r\n", ec);
  EXPECT_EQ(ec, errc::type_mismatch);
  EXPECT_EQ(done, (std::vector<bool>{false, false, false, false, true}));
}

TEST(AdapterStepping, pair_entries_in_a_map_after_an_error) {
  std::map<std::string, std::int64_t> out;
  adapter<decltype(out)> a(out);
  std::error_code ec;
  const auto done = feed(a, "%2\r\n+a\r\n-ERR x\r\n+b\r\n:2\r\n", ec);
  EXPECT_EQ(ec, errc::unexpected_server_error);
  EXPECT_EQ(done, (std::vector<bool>{false, false, false, false, true}));
}

TEST(AdapterStepping, ignore_counts_every_node) {
  ignore_t sink;
  adapter<ignore_t> a(sink);
  std::error_code ec;
  const auto done = feed(a, "*2\r\n%1\r\n+a\r\n~1\r\n:1\r\n-ERR\r\n", ec);
  EXPECT_FALSE(ec);
  EXPECT_EQ(done, (std::vector<bool>{false, false, false, false, false, true}));
}

}  // namespace
}  // namespace uredis::resp

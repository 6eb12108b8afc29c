#include "uredis/resp/encoder.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "uredis/resp/parser.hpp"

namespace uredis::resp {
namespace {

using namespace std::string_view_literals;

// bool and the character types are refused at compile time.
template <class T>
concept can_arg = requires(encoder& e, const T& v) {
  e.arg(v);
};
template <class... T>
concept can_command = requires(encoder& e, const T&... v) {
  e.command(v...);
};

static_assert(can_arg<int>);
static_assert(can_arg<std::uint64_t>);
static_assert(can_arg<double>);
static_assert(can_arg<std::string>);
static_assert(can_arg<const char*>);
static_assert(!can_arg<bool>);
static_assert(!can_arg<char>);
static_assert(!can_arg<char8_t>);
static_assert(!can_arg<std::vector<int>>);
static_assert(!can_command<bool>);
static_assert(!can_command<const char*, bool>);
static_assert(!can_command<char>);
static_assert(can_command<const char*, int, double, std::string_view>);
static_assert(argument_range<std::vector<std::string>>);
static_assert(argument_range<std::map<std::string, int>>);
static_assert(!argument_range<std::vector<bool>>);

struct Encoder : ::testing::Test {
  util::byte_buffer buf;
  encoder enc{buf};

  std::string out() const { return std::string(buf.data()); }
};

TEST_F(Encoder, strings) {
  enc.command("SET", "key", std::string("value"));
  EXPECT_EQ(out(), "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
}

TEST_F(Encoder, commands_append) {
  enc.command("PING");
  enc.command("GET", "k"sv);
  EXPECT_EQ(out(), "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
}

TEST_F(Encoder, empty_string_and_no_arguments) {
  enc.command("SET", "k", "");
  enc.command();
  EXPECT_EQ(out(), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n*0\r\n");
}

// Every way a length and an argument are written: one, two and three digits, and copies of
// 0, 1-3, 4-7, 8-16 and longer arguments, in a command of strings only (written in one go) and
// one with a number (argument by argument).
TEST_F(Encoder, every_argument_length) {
  for (std::size_t n = 0; n <= 130; ++n) {
    std::string arg(n, 'x');
    for (std::size_t i = 0; i < n; ++i)
      arg[i] = static_cast<char>('a' + i % 26);
    const std::string bulk = "$" + std::to_string(n) + "\r\n" + arg + "\r\n";
    buf.clear();
    enc.command("SET", std::string_view(arg), arg);
    EXPECT_EQ(out(), "*3\r\n$3\r\nSET\r\n" + bulk + bulk) << n;
    buf.clear();
    enc.command("SET", std::string_view(arg), 7);
    EXPECT_EQ(out(), "*3\r\n$3\r\nSET\r\n" + bulk + "$1\r\n7\r\n") << n;
  }
}

TEST_F(Encoder, binary_bytes_are_sent_as_they_are) {
  const std::string_view binary("a\r\nb\0c\r\n", 8);
  enc.command("SET", "k", binary);
  EXPECT_EQ(out(), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$8\r\n" + std::string(binary) + "\r\n");
}

TEST_F(Encoder, integers_at_the_edges) {
  enc.command(std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(),
              std::numeric_limits<std::uint64_t>::max(), 0, -1);
  EXPECT_EQ(out(),
            "*5\r\n$20\r\n-9223372036854775808\r\n$19\r\n9223372036854775807\r\n"
            "$20\r\n18446744073709551615\r\n$1\r\n0\r\n$2\r\n-1\r\n");
}

TEST_F(Encoder, small_integer_types) {
  enc.command(std::int8_t{-128}, std::uint8_t{255}, short{-7}, 42u, 7l);
  EXPECT_EQ(out(), "*5\r\n$4\r\n-128\r\n$3\r\n255\r\n$2\r\n-7\r\n$2\r\n42\r\n$1\r\n7\r\n");
}

TEST_F(Encoder, doubles_shortest_round_trip) {
  enc.command(0.1, 1e300, -0.0, 2.5, 1.0, 0.1f);
  EXPECT_EQ(out(),
            "*6\r\n$3\r\n0.1\r\n$6\r\n1e+300\r\n$2\r\n-0\r\n$3\r\n2.5\r\n$1\r\n1\r\n$3\r\n0.1\r\n");
}

TEST_F(Encoder, infinities) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  enc.command("ZADD", "z", inf, "a", -inf, "b");
  EXPECT_EQ(out(),
            "*6\r\n$4\r\nZADD\r\n$1\r\nz\r\n$3\r\ninf\r\n$1\r\na\r\n$4\r\n-inf\r\n$1\r\nb\r\n");
}

TEST_F(Encoder, extreme_doubles_round_trip) {
  const double values[] = {std::numeric_limits<double>::max(),
                           std::numeric_limits<double>::lowest(),
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::min(),
                           1.0 / 3,
                           -123456.789e-200};
  for (const double v : values) {
    buf.clear();
    enc.command(v);
    // Skip "*1\r\n$N\r\n" and the trailing CRLF.
    const std::string text = out();
    const std::size_t start = text.find('\n', 4) + 1;
    const std::string digits = text.substr(start, text.size() - start - 2);
    double back = 0;
    const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), back);
    EXPECT_EQ(r.ec, std::errc{}) << digits;
    EXPECT_EQ(r.ptr, digits.data() + digits.size()) << digits;
    EXPECT_EQ(back, v) << digits;
  }
}

TEST_F(Encoder, long_double) {
  enc.command(0.5L);
  EXPECT_EQ(out(), "*1\r\n$3\r\n0.5\r\n");
}

TEST_F(Encoder, begin_arg_args) {
  const std::vector<std::string> keys{"a", "bb", ""};
  enc.begin(1 + keys.size() + 1);
  EXPECT_EQ(enc.pending_args(), 5u);
  enc.arg("DEL");
  EXPECT_EQ(enc.pending_args(), 4u);
  enc.args(keys);
  enc.arg(7);
  EXPECT_EQ(enc.pending_args(), 0u);
  EXPECT_EQ(out(), "*5\r\n$3\r\nDEL\r\n$1\r\na\r\n$2\r\nbb\r\n$0\r\n\r\n$1\r\n7\r\n");
}

TEST_F(Encoder, args_of_numbers_and_of_pairs) {
  const std::list<int> numbers{1, -2};
  const std::map<std::string, double> fields{{"f1", 1.5}, {"f2", -3}};
  enc.begin(2 + numbers.size() + 2 * fields.size());
  enc.arg("HSET");
  enc.arg("h");
  enc.args(numbers);
  enc.args(fields);
  EXPECT_EQ(enc.pending_args(), 0u);
  EXPECT_EQ(out(),
            "*8\r\n$4\r\nHSET\r\n$1\r\nh\r\n$1\r\n1\r\n$2\r\n-2\r\n"
            "$2\r\nf1\r\n$3\r\n1.5\r\n$2\r\nf2\r\n$2\r\n-3\r\n");
}

TEST_F(Encoder, begin_zero) {
  enc.begin(0);
  EXPECT_EQ(enc.pending_args(), 0u);
  EXPECT_EQ(out(), "*0\r\n");
}

TEST_F(Encoder, large_argument_grows_the_buffer) {
  const std::string big(100000, 'x');
  enc.command("SET", "k", big);
  EXPECT_EQ(out(), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n" + big + "\r\n");
}

TEST_F(Encoder, appends_after_unread_bytes) {
  buf.append("pending");
  enc.command("PING");
  EXPECT_EQ(out(), "pending*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(&enc.buffer(), &buf);
}

#ifndef NDEBUG
TEST(EncoderDeathTest, argument_count_is_checked) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  util::byte_buffer buf;
  encoder enc{buf};
  enc.begin(1);
  enc.arg("PING");
  EXPECT_DEATH(enc.arg("extra"), "more arguments");
  enc.begin(2);
  enc.arg("GET");
  EXPECT_DEATH(enc.command("PING"), "unfinished");
}
#endif

// Everything encoded parses back to the same arguments.
TEST_F(Encoder, round_trip_through_the_parser) {
  const std::string binary("\r\n\0$*\r", 6);
  enc.command("MSET", "k1", binary, "k2", std::numeric_limits<std::int64_t>::min());
  enc.command("INCRBYFLOAT", "f", 0.1);
  enc.begin(3);
  enc.arg("RPUSH");
  enc.arg(std::string_view());
  enc.arg(std::numeric_limits<std::uint64_t>::max());

  const std::vector<std::vector<std::string>> expected{
      {"MSET", "k1", binary, "k2", "-9223372036854775808"},
      {"INCRBYFLOAT", "f", "0.1"},
      {"RPUSH", "", "18446744073709551615"},
  };

  parser p;
  std::string_view input = buf.data();
  std::vector<std::vector<std::string>> commands;
  node n;
  while (!input.empty()) {
    const step s = p.next(input, n);
    ASSERT_EQ(s.status, outcome::node) << p.error().message();
    input.remove_prefix(s.consumed);
    if (n.depth == 0) {
      ASSERT_EQ(n.type, type::array);
      commands.emplace_back();
    } else {
      ASSERT_EQ(n.type, type::bulk_string);
      ASSERT_EQ(n.depth, 1u);
      commands.back().emplace_back(n.value);
    }
  }
  EXPECT_TRUE(p.done());
  EXPECT_EQ(commands, expected);
}

}  // namespace
}  // namespace uredis::resp

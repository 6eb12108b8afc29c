// The incremental parser: every type, every split point, every limit, every malformed form.

#include "uredis/resp/parser.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "uredis/error.hpp"

namespace uredis::resp {
namespace {

// An owning copy of a node, so results from different feeding schedules can be compared.
struct seen {
  resp::type type;
  std::uint32_t depth;
  std::string value;
  std::string format;
  std::uint64_t size;
  std::int64_t integer;
  double real;
  bool in_attribute;
  bool done;

  bool operator==(const seen& o) const {
    const bool reals_equal = (std::isnan(real) && std::isnan(o.real)) || real == o.real;
    return type == o.type && depth == o.depth && value == o.value && format == o.format &&
           size == o.size && integer == o.integer && reals_equal &&
           in_attribute == o.in_attribute && done == o.done;
  }
};

std::ostream& operator<<(std::ostream& os, const seen& s) {
  return os << to_string(s.type) << "@" << s.depth << "[" << s.value << "] size=" << s.size
            << " int=" << s.integer << (s.in_attribute ? " attr" : "") << (s.done ? " done" : "");
}

struct run {
  std::vector<seen> nodes;
  std::error_code error;
  std::size_t left_over = 0;  // bytes not consumed at the end
};

// Feeds `bytes` to a parser the way a connection does: chunks are appended to a buffer, and the
// parser always sees the unconsumed tail. `chunk == 0` means everything at once.
run parse(std::string_view bytes, std::size_t chunk = 0, const limits& lim = {}) {
  parser p{lim};
  run r;
  std::string buffer;
  std::size_t fed = 0;
  std::size_t start = 0;
  const std::size_t step_size = chunk == 0 ? bytes.size() : chunk;
  for (;;) {
    node n;
    const step s = p.next(std::string_view{buffer}.substr(start), n);
    if (s.status == outcome::node) {
      EXPECT_GT(s.consumed, 0u);
      EXPECT_LE(s.consumed, buffer.size() - start);
      r.nodes.push_back({n.type, n.depth, std::string{n.value}, std::string{n.format}, n.size,
                         n.integer, n.real, n.in_attribute, p.done()});
      start += s.consumed;
      continue;
    }
    if (s.status == outcome::error) {
      EXPECT_EQ(s.consumed, 0u);
      r.error = p.error();
      break;
    }
    if (fed == bytes.size()) break;
    const std::size_t n_bytes = std::min(step_size, bytes.size() - fed);
    buffer.append(bytes.substr(fed, n_bytes));
    fed += n_bytes;
  }
  r.left_over = buffer.size() - start;
  return r;
}

seen scalar(resp::type t, std::string v, std::uint32_t depth = 0, bool done = true) {
  return {t, depth, std::move(v), "", 0, 0, 0, false, done};
}

TEST(Parser, SimpleString) {
  const run r = parse("+OK\r\n");
  ASSERT_EQ(r.nodes.size(), 1u);
  EXPECT_EQ(r.nodes[0], scalar(type::simple_string, "OK"));
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.left_over, 0u);
}

TEST(Parser, EmptySimpleString) {
  const run r = parse("+\r\n");
  ASSERT_EQ(r.nodes.size(), 1u);
  EXPECT_EQ(r.nodes[0], scalar(type::simple_string, ""));
}

TEST(Parser, SimpleError) {
  const run r = parse("-ERR unknown command 'FOO'\r\n");
  ASSERT_EQ(r.nodes.size(), 1u);
  EXPECT_EQ(r.nodes[0], scalar(type::simple_error, "ERR unknown command 'FOO'"));
}

TEST(Parser, Integers) {
  struct {
    const char* bytes;
    std::int64_t value;
  } const cases[] = {
      {":0\r\n", 0},
      {":1000\r\n", 1000},
      {":-42\r\n", -42},
      {":+7\r\n", 7},
      {":9223372036854775807\r\n", std::numeric_limits<std::int64_t>::max()},
      {":-9223372036854775808\r\n", std::numeric_limits<std::int64_t>::min()},
  };
  for (const auto& c : cases) {
    const run r = parse(c.bytes);
    ASSERT_EQ(r.nodes.size(), 1u) << c.bytes;
    EXPECT_EQ(r.nodes[0].type, type::integer);
    EXPECT_EQ(r.nodes[0].integer, c.value) << c.bytes;
    EXPECT_TRUE(r.nodes[0].done);
  }
}

TEST(Parser, BulkStrings) {
  const run r = parse("$5\r\nhello\r\n$0\r\n\r\n$4\r\na\r\nb\r\n");
  ASSERT_EQ(r.nodes.size(), 3u);
  EXPECT_EQ(r.nodes[0], scalar(type::bulk_string, "hello"));
  EXPECT_EQ(r.nodes[1], scalar(type::bulk_string, ""));
  // A bulk payload may hold CR and LF: only the length counts.
  EXPECT_EQ(r.nodes[2], scalar(type::bulk_string, "a\r\nb"));
}

TEST(Parser, BinaryBulkString) {
  std::string payload;
  for (int i = 0; i < 256; ++i)
    payload.push_back(static_cast<char>(i));
  const run r = parse("$256\r\n" + payload + "\r\n");
  ASSERT_EQ(r.nodes.size(), 1u);
  EXPECT_EQ(r.nodes[0].value, payload);
}

TEST(Parser, NullForms) {
  for (const char* bytes : {"$-1\r\n", "*-1\r\n", "_\r\n"}) {
    const run r = parse(bytes);
    ASSERT_EQ(r.nodes.size(), 1u) << bytes;
    EXPECT_EQ(r.nodes[0], scalar(type::null, "")) << bytes;
  }
}

TEST(Parser, Booleans) {
  const run r = parse("#t\r\n#f\r\n");
  ASSERT_EQ(r.nodes.size(), 2u);
  EXPECT_EQ(r.nodes[0].type, type::boolean);
  EXPECT_EQ(r.nodes[0].integer, 1);
  EXPECT_EQ(r.nodes[1].integer, 0);
}

TEST(Parser, Doubles) {
  struct {
    const char* bytes;
    double value;
  } const cases[] = {
      {",3.14\r\n", 3.14},
      {",-2.5\r\n", -2.5},
      {",+1.5\r\n", 1.5},
      {",10\r\n", 10},
      {",1.5e3\r\n", 1500},
      {",1E-2\r\n", 0.01},
      {",inf\r\n", std::numeric_limits<double>::infinity()},
      {",+inf\r\n", std::numeric_limits<double>::infinity()},
      {",-inf\r\n", -std::numeric_limits<double>::infinity()},
  };
  for (const auto& c : cases) {
    const run r = parse(c.bytes);
    ASSERT_EQ(r.nodes.size(), 1u) << c.bytes;
    EXPECT_EQ(r.nodes[0].type, type::double_);
    EXPECT_DOUBLE_EQ(r.nodes[0].real, c.value) << c.bytes;
  }
  const run nan = parse(",nan\r\n");
  ASSERT_EQ(nan.nodes.size(), 1u);
  EXPECT_TRUE(std::isnan(nan.nodes[0].real));
  EXPECT_EQ(nan.nodes[0].value, "nan");  // the text as sent, for printing
}

TEST(Parser, BigNumber) {
  const run r = parse("(3492890328409238509324850943850943825024385\r\n(-12\r\n");
  ASSERT_EQ(r.nodes.size(), 2u);
  EXPECT_EQ(r.nodes[0], scalar(type::big_number, "3492890328409238509324850943850943825024385"));
  EXPECT_EQ(r.nodes[1], scalar(type::big_number, "-12"));
}

TEST(Parser, BulkError) {
  const run r = parse("!21\r\nSYNTAX invalid syntax\r\n");
  ASSERT_EQ(r.nodes.size(), 1u);
  EXPECT_EQ(r.nodes[0], scalar(type::bulk_error, "SYNTAX invalid syntax"));
}

TEST(Parser, VerbatimString) {
  const run r = parse("=15\r\ntxt:Some string\r\n");
  ASSERT_EQ(r.nodes.size(), 1u);
  EXPECT_EQ(r.nodes[0].type, type::verbatim_string);
  EXPECT_EQ(r.nodes[0].value, "Some string");
  EXPECT_EQ(r.nodes[0].format, "txt");
}

TEST(Parser, ArrayInPreOrder) {
  const run r = parse("*3\r\n:1\r\n*2\r\n+a\r\n$1\r\nb\r\n_\r\n");
  const std::vector<seen> expected = {
      {type::array, 0, "", "", 3, 0, 0, false, false}, scalar(type::integer, "1", 1, false),
      {type::array, 1, "", "", 2, 0, 0, false, false}, scalar(type::simple_string, "a", 2, false),
      scalar(type::bulk_string, "b", 2, false),        scalar(type::null, "", 1, true),
  };
  ASSERT_EQ(r.nodes.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    seen e = expected[i];
    e.integer = r.nodes[i].integer;  // integers are checked elsewhere
    EXPECT_EQ(r.nodes[i], e) << i;
  }
  EXPECT_EQ(r.nodes[1].integer, 1);
}

TEST(Parser, EmptyAggregatesCompleteAtOnce) {
  for (const char* bytes : {"*0\r\n", "%0\r\n", "~0\r\n", ">0\r\n"}) {
    const run r = parse(bytes);
    ASSERT_EQ(r.nodes.size(), 1u) << bytes;
    EXPECT_EQ(r.nodes[0].size, 0u);
    EXPECT_TRUE(r.nodes[0].done) << bytes;
  }
}

TEST(Parser, MapCountsPairs) {
  const run r = parse("%2\r\n+first\r\n:1\r\n+second\r\n*1\r\n:2\r\n+next\r\n");
  ASSERT_EQ(r.nodes.size(), 7u);
  EXPECT_EQ(r.nodes[0].type, type::map);
  EXPECT_EQ(r.nodes[0].size, 2u);
  for (std::size_t i = 0; i < 5; ++i)
    EXPECT_FALSE(r.nodes[i].done) << i;
  EXPECT_TRUE(r.nodes[5].done);  // the last value of the map ends the reply
  EXPECT_TRUE(r.nodes[6].done);  // the next reply stands alone
  EXPECT_EQ(r.nodes[6].depth, 0u);
}

TEST(Parser, SetAndPush) {
  const run r = parse("~2\r\n+a\r\n+b\r\n>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
  ASSERT_EQ(r.nodes.size(), 7u);
  EXPECT_EQ(r.nodes[0].type, type::set);
  EXPECT_TRUE(r.nodes[2].done);
  EXPECT_EQ(r.nodes[3].type, type::push);
  EXPECT_EQ(r.nodes[3].size, 3u);
  EXPECT_TRUE(r.nodes[6].done);
}

TEST(Parser, TopLevelAttributeDoesNotCompleteTheReply) {
  const run r = parse("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n:42\r\n");
  ASSERT_EQ(r.nodes.size(), 6u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_TRUE(r.nodes[i].in_attribute) << i;
    EXPECT_FALSE(r.nodes[i].done) << i;
  }
  EXPECT_EQ(r.nodes[0].type, type::attribute);
  EXPECT_EQ(r.nodes[5].type, type::integer);
  EXPECT_EQ(r.nodes[5].depth, 0u);
  EXPECT_FALSE(r.nodes[5].in_attribute);
  EXPECT_TRUE(r.nodes[5].done);
}

TEST(Parser, NestedAttributeIsNotAnElementOfItsParent) {
  // An array of two elements, the second decorated by an attribute.
  const run r = parse("*2\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n");
  ASSERT_EQ(r.nodes.size(), 6u);
  EXPECT_EQ(r.nodes[2].type, type::attribute);
  EXPECT_EQ(r.nodes[2].depth, 1u);
  EXPECT_TRUE(r.nodes[3].in_attribute);
  EXPECT_EQ(r.nodes[3].depth, 2u);
  EXPECT_FALSE(r.nodes[4].done);
  EXPECT_FALSE(r.nodes[5].in_attribute);
  EXPECT_EQ(r.nodes[5].depth, 1u);
  EXPECT_TRUE(r.nodes[5].done);
}

TEST(Parser, EmptyAttributeDecoratesTheNextElement) {
  const run r = parse("|0\r\n+OK\r\n");
  ASSERT_EQ(r.nodes.size(), 2u);
  EXPECT_FALSE(r.nodes[0].done);
  EXPECT_TRUE(r.nodes[1].done);
}

TEST(Parser, NeedMoreOnEmptyAndPartialInput) {
  {
    parser p;
    node n;
    EXPECT_EQ(p.next("", n).status, outcome::need_more);
    EXPECT_EQ(p.next("+O", n).status, outcome::need_more);
    EXPECT_EQ(p.next("+OK\r", n).status, outcome::need_more);
  }
  // Each call presents the same element start with more bytes behind it, as the contract says.
  parser p;
  node n;
  EXPECT_EQ(p.next("$5\r", n).status, outcome::need_more);
  EXPECT_EQ(p.next("$5\r\nhel", n).status, outcome::need_more);
  EXPECT_EQ(p.next("$5\r\nhello\r", n).status, outcome::need_more);
  const step s = p.next("$5\r\nhello\r\n+rest", n);
  EXPECT_EQ(s.status, outcome::node);
  EXPECT_EQ(s.consumed, 11u);
  EXPECT_EQ(n.value, "hello");
}

// The same bytes give the same nodes whatever the split, one byte at a time included.
const char* const stream_corpus[] = {
    "+OK\r\n",
    "-ERR no\r\n",
    ":-123\r\n",
    "$5\r\nhello\r\n",
    "$0\r\n\r\n",
    "$-1\r\n",
    "*-1\r\n",
    "_\r\n",
    "#t\r\n",
    ",-inf\r\n",
    ",1.25e-3\r\n",
    "(12345678901234567890\r\n",
    "!10\r\nERR failed\r\n",
    "=9\r\nmkd:# hey\r\n",
    "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
    "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n*2\r\n#f\r\n_\r\n",
    "~3\r\n+x\r\n+y\r\n+z\r\n",
    ">2\r\n+invalidate\r\n*1\r\n$3\r\nkey\r\n",
    "|1\r\n+ttl\r\n:5\r\n*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n",
    "*2\r\n*2\r\n*2\r\n*0\r\n%0\r\n~0\r\n>0\r\n",
};

TEST(Parser, EverySplitPointGivesTheSameNodes) {
  std::string all;
  for (const char* s : stream_corpus)
    all += s;
  const run whole = parse(all);
  ASSERT_FALSE(whole.error);
  ASSERT_EQ(whole.left_over, 0u);
  ASSERT_EQ(whole.nodes.size(), 49u);

  for (std::size_t chunk = 1; chunk <= 17; ++chunk) {
    const run r = parse(all, chunk);
    EXPECT_FALSE(r.error) << "chunk " << chunk;
    EXPECT_EQ(r.nodes, whole.nodes) << "chunk " << chunk;
  }
  // Every single split point of each reply: the first part, then the rest.
  for (const char* item : stream_corpus) {
    const std::string bytes = item;
    const run reference = parse(bytes);
    for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
      parser p;
      std::string buffer = bytes.substr(0, cut);
      std::vector<seen> nodes;
      std::size_t start = 0;
      bool appended = false;
      for (;;) {
        node n;
        const step s = p.next(std::string_view{buffer}.substr(start), n);
        if (s.status == outcome::node) {
          nodes.push_back({n.type, n.depth, std::string{n.value}, std::string{n.format}, n.size,
                           n.integer, n.real, n.in_attribute, p.done()});
          start += s.consumed;
        } else {
          ASSERT_EQ(s.status, outcome::need_more) << bytes << " cut " << cut;
          if (appended) break;
          buffer += bytes.substr(cut);
          appended = true;
        }
      }
      EXPECT_EQ(nodes, reference.nodes) << bytes << " cut " << cut;
      EXPECT_EQ(start, bytes.size());
    }
  }
}

// Malformed input: each form gives its own specific error, never a node.
struct malformed_case {
  const char* bytes;
  errc expected;
};

class ParserMalformed : public testing::TestWithParam<malformed_case> {};

TEST_P(ParserMalformed, IsASpecificProtocolError) {
  const auto& c = GetParam();
  for (std::size_t chunk : {std::size_t{0}, std::size_t{1}}) {
    const run r = parse(c.bytes, chunk);
    EXPECT_EQ(r.error, make_error_code(c.expected)) << c.bytes << " got " << r.error.message();
    EXPECT_TRUE(is_protocol_error(r.error));
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, ParserMalformed,
    testing::Values(malformed_case{"?what\r\n", errc::invalid_type_byte},
                    malformed_case{"\r\n", errc::invalid_type_byte},
                    malformed_case{"OK\r\n", errc::invalid_type_byte},
                    malformed_case{":12a\r\n", errc::invalid_integer},
                    malformed_case{":\r\n", errc::invalid_integer},
                    malformed_case{":-\r\n", errc::invalid_integer},
                    malformed_case{": 1\r\n", errc::invalid_integer},
                    malformed_case{":9223372036854775808\r\n", errc::invalid_integer},
                    malformed_case{":-9223372036854775809\r\n", errc::invalid_integer},
                    malformed_case{":99999999999999999999999\r\n", errc::invalid_integer},
                    malformed_case{"$-2\r\n", errc::invalid_length},
                    malformed_case{"$abc\r\n", errc::invalid_length},
                    malformed_case{"$\r\n", errc::invalid_length},
                    malformed_case{"*-5\r\n", errc::invalid_length},
                    malformed_case{"%-1\r\n", errc::invalid_length},
                    malformed_case{"~-1\r\n", errc::invalid_length},
                    malformed_case{">-1\r\n", errc::invalid_length},
                    malformed_case{"|-1\r\n", errc::invalid_length},
                    malformed_case{"!-1\r\n", errc::invalid_length},
                    malformed_case{"=-1\r\n", errc::invalid_length},
                    malformed_case{"*1x\r\n", errc::invalid_length},
                    malformed_case{",abc\r\n", errc::invalid_double},
                    malformed_case{",\r\n", errc::invalid_double},
                    malformed_case{",infinity\r\n", errc::invalid_double},
                    malformed_case{",0x1p3\r\n", errc::invalid_double},
                    malformed_case{",1.5.5\r\n", errc::invalid_double},
                    malformed_case{"#x\r\n", errc::invalid_boolean},
                    malformed_case{"#\r\n", errc::invalid_boolean},
                    malformed_case{"#tt\r\n", errc::invalid_boolean},
                    malformed_case{"_x\r\n", errc::invalid_null},
                    malformed_case{"(12a\r\n", errc::invalid_big_number},
                    malformed_case{"(\r\n", errc::invalid_big_number},
                    malformed_case{"=3\r\ntxt\r\n", errc::invalid_verbatim},
                    malformed_case{"=5\r\ntxt-x\r\n", errc::invalid_verbatim},
                    malformed_case{"$3\r\nabcd\r\n", errc::missing_crlf},
                    malformed_case{"$3\r\nabc\n\n", errc::missing_crlf},
                    malformed_case{"+OK\n", errc::missing_crlf},
                    malformed_case{":1\n", errc::missing_crlf},
                    malformed_case{"*1\r\n+ok\r\n+x\n", errc::missing_crlf}));

TEST(Parser, ErrorIsStickyUntilReset) {
  parser p;
  node n;
  EXPECT_EQ(p.next("?\r\n", n).status, outcome::error);
  EXPECT_EQ(p.next("+OK\r\n", n).status, outcome::error);
  EXPECT_EQ(p.error(), make_error_code(errc::invalid_type_byte));
  p.reset();
  EXPECT_FALSE(p.error());
  const step s = p.next("+OK\r\n", n);
  EXPECT_EQ(s.status, outcome::node);
  EXPECT_TRUE(p.done());
}

TEST(Parser, ResetForgetsAPartialReply) {
  parser p;
  node n;
  ASSERT_EQ(p.next("*2\r\n", n).status, outcome::node);
  EXPECT_EQ(p.depth(), 1u);
  p.reset();
  EXPECT_EQ(p.depth(), 0u);
  ASSERT_EQ(p.next(":1\r\n", n).status, outcome::node);
  EXPECT_TRUE(p.done());
  EXPECT_EQ(n.depth, 0u);
}

std::string nested_arrays(std::size_t levels) {
  std::string s;
  for (std::size_t i = 0; i < levels; ++i)
    s += "*1\r\n";
  return s + ":1\r\n";
}

TEST(ParserLimits, NestingDepth) {
  limits lim;
  lim.max_depth = 4;
  const run ok = parse(nested_arrays(4), 0, lim);
  EXPECT_FALSE(ok.error);
  EXPECT_EQ(ok.nodes.size(), 5u);
  EXPECT_TRUE(ok.nodes.back().done);

  EXPECT_EQ(parse(nested_arrays(5), 0, lim).error, make_error_code(errc::nesting_too_deep));
  // The default limit stops hostile nesting long before any stack is at risk.
  EXPECT_EQ(parse(nested_arrays(100000)).error, make_error_code(errc::nesting_too_deep));
}

TEST(ParserLimits, EmptyAggregatesDoNotCountAsNesting) {
  limits lim;
  lim.max_depth = 1;
  EXPECT_FALSE(parse("*1\r\n*0\r\n", 0, lim).error);
}

TEST(ParserLimits, BulkLength) {
  limits lim;
  lim.max_bulk_length = 10;
  EXPECT_FALSE(parse("$10\r\n0123456789\r\n", 0, lim).error);
  EXPECT_EQ(parse("$11\r\n01234567890\r\n", 0, lim).error, make_error_code(errc::bulk_too_large));
  EXPECT_EQ(parse("!11\r\n", 0, lim).error, make_error_code(errc::bulk_too_large));
  // The default is Redis' 512 MiB: a larger announced length fails before any byte arrives.
  EXPECT_EQ(parse("$536870913\r\n").error, make_error_code(errc::bulk_too_large));
  EXPECT_EQ(parse("$9223372036854775807\r\n").error, make_error_code(errc::bulk_too_large));
  const run pending = parse("$536870912\r\n");
  EXPECT_FALSE(pending.error);
  EXPECT_TRUE(pending.nodes.empty());
}

TEST(ParserLimits, AggregateSize) {
  limits lim;
  lim.max_aggregate_size = 3;
  EXPECT_FALSE(parse("*3\r\n:1\r\n:2\r\n:3\r\n", 0, lim).error);
  for (const char* bytes : {"*4\r\n", "%4\r\n", "~4\r\n", ">4\r\n", "|4\r\n"})
    EXPECT_EQ(parse(bytes, 0, lim).error, make_error_code(errc::aggregate_too_large)) << bytes;
  EXPECT_EQ(parse("*4294967296\r\n").error, make_error_code(errc::aggregate_too_large));
}

TEST(ParserLimits, LineLength) {
  limits lim;
  lim.max_line_length = 16;
  EXPECT_FALSE(parse("+0123456789abc\r\n", 0, lim).error);
  const std::string endless = "+" + std::string(100, 'x');
  for (std::size_t chunk : {std::size_t{0}, std::size_t{1}, std::size_t{7}})
    EXPECT_EQ(parse(endless, chunk, lim).error, make_error_code(errc::line_too_long)) << chunk;
  EXPECT_EQ(parse("+" + std::string(100, 'x') + "\r\n", 0, lim).error,
            make_error_code(errc::line_too_long));
}

TEST(ParserLimits, LongLineFedByteByByteIsLinear) {
  // A line just under the limit arriving one byte at a time: the parser resumes its search where
  // it stopped, so this finishes quickly even in a debug build.
  const std::string line = "+" + std::string(60000, 'y') + "\r\n";
  const run r = parse(line, 1);
  ASSERT_EQ(r.nodes.size(), 1u);
  EXPECT_EQ(r.nodes[0].value.size(), 60000u);
}

TEST(Parser, ManyRepliesInOneBuffer) {
  std::string bytes;
  for (int i = 0; i < 1000; ++i)
    bytes += ":" + std::to_string(i) + "\r\n";
  const run r = parse(bytes);
  ASSERT_EQ(r.nodes.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(r.nodes[i].integer, i);
    EXPECT_TRUE(r.nodes[i].done);
  }
}

}  // namespace
}  // namespace uredis::resp

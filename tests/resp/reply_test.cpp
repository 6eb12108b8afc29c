// resp::reply, its builder and parse_reply_tree: every type, nesting, attributes kept aside,
// equality and copies, and the parser's three outcomes.

#include "uredis/resp/reply.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "uredis/error.hpp"

namespace {

using namespace std::string_literals;
using uredis::errc;
using uredis::resp::adapter;
using uredis::resp::limits;
using uredis::resp::node;
using uredis::resp::outcome;
using uredis::resp::parse_reply_tree;
using uredis::resp::parser;
using uredis::resp::read_reply;
using uredis::resp::reply;
using uredis::resp::reply_builder;
using uredis::resp::step;
using uredis::resp::type;

// Parses exactly one whole reply, failing the test otherwise.
reply parse(std::string_view bytes) {
  reply r;
  std::error_code ec;
  const step s = parse_reply_tree(bytes, r, ec);
  EXPECT_EQ(s.status, outcome::node) << ec.message();
  EXPECT_EQ(s.consumed, bytes.size());
  return r;
}

TEST(Reply, default_is_null) {
  const reply r;
  EXPECT_EQ(r.type(), type::null);
  EXPECT_TRUE(r.is_null());
  EXPECT_FALSE(r.is_error());
  EXPECT_FALSE(r.is_aggregate());
  EXPECT_TRUE(r.elements().empty());
  EXPECT_EQ(r.attributes(), nullptr);
  EXPECT_EQ(r, reply::make_null());
}

TEST(Reply, scalars_keep_their_payload) {
  EXPECT_EQ(parse("+OK\r\n"), reply::make_simple_string("OK"));
  EXPECT_EQ(parse("+OK\r\n").text(), "OK");
  EXPECT_EQ(parse("-ERR no\r\n").type(), type::simple_error);
  EXPECT_TRUE(parse("-ERR no\r\n").is_error());
  EXPECT_EQ(parse("-ERR no\r\n").text(), "ERR no");
  EXPECT_EQ(parse("!3\r\na\0b\r\n"s), reply::make_bulk_error("a\0b"s));
  EXPECT_TRUE(parse("!1\r\nx\r\n").is_error());
  EXPECT_EQ(parse("$5\r\na\r\nb\0\r\n"s).text(), "a\r\nb\0"s);
  EXPECT_EQ(parse("$0\r\n\r\n"), reply::make_bulk_string(""));
  EXPECT_EQ(parse(":-42\r\n").integer(), -42);
  EXPECT_EQ(parse(":9223372036854775807\r\n").integer(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(parse(":1\r\n"), reply::make_integer(1));
  EXPECT_TRUE(parse("#t\r\n").boolean());
  EXPECT_FALSE(parse("#f\r\n").boolean());
  EXPECT_EQ(parse("#t\r\n"), reply::make_boolean(true));
  EXPECT_EQ(parse("(-123456789012345678901234567890\r\n"),
            reply::make_big_number("-123456789012345678901234567890"));
  EXPECT_EQ(parse("(12\r\n").text(), "12");
}

TEST(Reply, every_null_is_null) {
  EXPECT_TRUE(parse("_\r\n").is_null());
  EXPECT_TRUE(parse("$-1\r\n").is_null());
  EXPECT_TRUE(parse("*-1\r\n").is_null());
}

TEST(Reply, doubles_keep_value_and_text_as_sent) {
  const reply r = parse(",3.140\r\n");
  EXPECT_EQ(r.type(), type::double_);
  EXPECT_DOUBLE_EQ(r.real(), 3.14);
  EXPECT_EQ(r.text(), "3.140");
  EXPECT_TRUE(std::isinf(parse(",-inf\r\n").real()));
  EXPECT_LT(parse(",-inf\r\n").real(), 0);
  EXPECT_TRUE(std::isnan(parse(",nan\r\n").real()));
  // Doubles compare by their text: NaN equals itself, "3.140" is not "3.14".
  EXPECT_EQ(parse(",nan\r\n"), parse(",nan\r\n"));
  EXPECT_NE(r, reply::make_double(3.14));
  EXPECT_EQ(r, reply::make_double(3.14, "3.140"));
}

TEST(Reply, make_double_writes_the_shortest_text) {
  EXPECT_EQ(reply::make_double(3.14).text(), "3.14");
  EXPECT_EQ(reply::make_double(-0.5).text(), "-0.5");
  EXPECT_EQ(reply::make_double(1e300).text(), "1e+300");
  EXPECT_EQ(reply::make_double(std::numeric_limits<double>::infinity()).text(), "inf");
  EXPECT_EQ(reply::make_double(-std::numeric_limits<double>::infinity()).text(), "-inf");
  EXPECT_EQ(reply::make_double(std::numeric_limits<double>::quiet_NaN()).text(), "nan");
}

TEST(Reply, verbatim_strings_split_format_and_text) {
  const reply r = parse("=15\r\ntxt:Some string\r\n");
  EXPECT_EQ(r.type(), type::verbatim_string);
  EXPECT_EQ(r.verbatim_format(), "txt");
  EXPECT_EQ(r.text(), "Some string");
  EXPECT_EQ(r, reply::make_verbatim_string("txt", "Some string"));
  EXPECT_NE(r, reply::make_verbatim_string("mkd", "Some string"));
  EXPECT_EQ(reply::make_verbatim_string("mk", "x").verbatim_format(), "mk ");
  EXPECT_EQ(reply::make_verbatim_string("markdown", "x").verbatim_format(), "mar");
  EXPECT_EQ(parse("$1\r\nx\r\n").verbatim_format(), "");
}

TEST(Reply, aggregates_hold_their_elements) {
  const reply r = parse("*3\r\n:1\r\n*2\r\n+a\r\n$1\r\nb\r\n*0\r\n");
  ASSERT_EQ(r.type(), type::array);
  EXPECT_TRUE(r.is_aggregate());
  ASSERT_EQ(r.elements().size(), 3u);
  EXPECT_EQ(r.elements()[0], reply::make_integer(1));
  EXPECT_EQ(r.elements()[1],
            reply::make_array({reply::make_simple_string("a"), reply::make_bulk_string("b")}));
  EXPECT_EQ(r.elements()[2], reply::make_array({}));
  EXPECT_TRUE(r.elements()[2].is_aggregate());
}

TEST(Reply, maps_keep_pairs_flattened) {
  const reply r = parse("%2\r\n+a\r\n:1\r\n+b\r\n~1\r\n:2\r\n");
  EXPECT_EQ(r, reply::make_map({reply::make_simple_string("a"), reply::make_integer(1),
                                reply::make_simple_string("b"),
                                reply::make_set({reply::make_integer(2)})}));
  EXPECT_EQ(r.elements().size(), 4u);
}

TEST(Reply, sets_and_pushes) {
  EXPECT_EQ(parse("~2\r\n:1\r\n:2\r\n"),
            reply::make_set({reply::make_integer(1), reply::make_integer(2)}));
  EXPECT_EQ(parse(">2\r\n$7\r\nmessage\r\n_\r\n"),
            reply::make_push({reply::make_bulk_string("message"), reply::make_null()}));
  EXPECT_NE(parse("~0\r\n"), parse("*0\r\n"));
  EXPECT_NE(parse("%0\r\n"), parse(">0\r\n"));
}

TEST(Reply, top_level_attribute_goes_on_the_reply) {
  const reply r = parse("|1\r\n+ttl\r\n:10\r\n*1\r\n:5\r\n");
  EXPECT_EQ(r.type(), type::array);
  ASSERT_EQ(r.elements().size(), 1u);  // the attribute is not an element
  ASSERT_NE(r.attributes(), nullptr);
  EXPECT_EQ(*r.attributes(),
            reply::make_attribute({reply::make_simple_string("ttl"), reply::make_integer(10)}));
  EXPECT_EQ(r.elements()[0].attributes(), nullptr);
}

TEST(Reply, attribute_inside_an_aggregate_goes_on_the_next_element) {
  const reply r = parse("*3\r\n:1\r\n|1\r\n+a\r\n+b\r\n:2\r\n:3\r\n");
  ASSERT_EQ(r.elements().size(), 3u);
  EXPECT_EQ(r.attributes(), nullptr);
  EXPECT_EQ(r.elements()[0].attributes(), nullptr);
  ASSERT_NE(r.elements()[1].attributes(), nullptr);
  EXPECT_EQ(r.elements()[1].attributes()->elements()[1], reply::make_simple_string("b"));
  EXPECT_EQ(r.elements()[1].integer(), 2);
  EXPECT_EQ(r.elements()[2].attributes(), nullptr);
}

TEST(Reply, attributes_nest_and_merge) {
  // An attribute whose value has its own attribute, then a second attribute before the same
  // element: both attributes' pairs end up on it.
  const reply r = parse("|1\r\n+a\r\n|1\r\n+x\r\n+y\r\n*1\r\n:1\r\n|1\r\n+b\r\n:2\r\n:7\r\n");
  EXPECT_EQ(r, [] {
    reply inner = reply::make_array({reply::make_integer(1)});
    inner.attach_attributes(
        reply::make_attribute({reply::make_simple_string("x"), reply::make_simple_string("y")}));
    reply expected = reply::make_integer(7);
    expected.attach_attributes(
        reply::make_attribute({reply::make_simple_string("a"), inner,
                               reply::make_simple_string("b"), reply::make_integer(2)}));
    return expected;
  }());
}

TEST(Reply, attributes_count_in_equality_and_copies) {
  reply a = parse("|1\r\n+k\r\n+v\r\n:1\r\n");
  const reply plain = parse(":1\r\n");
  EXPECT_NE(a, plain);
  reply b = a;  // a deep copy
  EXPECT_EQ(a, b);
  a.detach_attributes();
  EXPECT_EQ(a, plain);
  EXPECT_NE(a, b);
  ASSERT_NE(b.attributes(), nullptr);
  EXPECT_EQ(b.attributes()->elements().size(), 2u);
  reply c;
  c = b;
  EXPECT_EQ(c, b);
  const reply& same = c;
  c = same;  // self-assignment keeps the value
  EXPECT_EQ(c, b);
}

TEST(Reply, an_empty_attribute_still_decorates) {
  const reply r = parse("|0\r\n+OK\r\n");
  ASSERT_NE(r.attributes(), nullptr);
  EXPECT_EQ(*r.attributes(), reply::make_attribute({}));
}

TEST(Reply, equality_looks_at_everything) {
  EXPECT_NE(reply::make_simple_string("a"), reply::make_bulk_string("a"));
  EXPECT_NE(reply::make_simple_error("a"), reply::make_bulk_error("a"));
  EXPECT_NE(reply::make_bulk_string("a"), reply::make_bulk_string("b"));
  EXPECT_NE(reply::make_integer(1), reply::make_boolean(true));
  EXPECT_NE(reply::make_integer(1), reply::make_integer(2));
  EXPECT_NE(reply::make_array({reply::make_integer(1)}),
            reply::make_array({reply::make_integer(1), reply::make_integer(1)}));
  EXPECT_NE(reply::make_array({reply::make_integer(1)}), reply::make_set({reply::make_integer(1)}));
}

TEST(Reply, trees_can_be_edited) {
  reply r = reply::make_array({});
  r.elements().push_back(reply::make_integer(1));
  EXPECT_EQ(r, parse("*1\r\n:1\r\n"));
}

TEST(Reply, parse_reply_tree_stops_after_one_reply) {
  reply r;
  std::error_code ec;
  const step s = parse_reply_tree("*1\r\n:1\r\n+next\r\n", r, ec);
  EXPECT_EQ(s.status, outcome::node);
  EXPECT_EQ(s.consumed, 8u);
  EXPECT_FALSE(ec);
  EXPECT_EQ(r, reply::make_array({reply::make_integer(1)}));
}

TEST(Reply, parse_reply_tree_needs_the_whole_reply) {
  const std::string full = "|1\r\n+a\r\n+b\r\n*2\r\n$3\r\nabc\r\n%1\r\n+k\r\n_\r\n";
  for (std::size_t n = 0; n < full.size(); ++n) {
    reply r;
    std::error_code ec;
    EXPECT_EQ(parse_reply_tree(std::string_view(full).substr(0, n), r, ec).status,
              outcome::need_more)
        << n;
    EXPECT_FALSE(ec);
  }
  EXPECT_EQ(parse(full).elements().size(), 2u);
}

TEST(Reply, parse_reply_tree_reports_the_failing_offset) {
  reply r;
  std::error_code ec;
  const step s = parse_reply_tree("*2\r\n:1\r\n:x\r\n", r, ec);
  EXPECT_EQ(s.status, outcome::error);
  EXPECT_EQ(s.consumed, 8u);
  EXPECT_EQ(ec, errc::invalid_integer);
}

TEST(Reply, depth_is_bounded_by_the_limits) {
  std::string ok;
  for (int i = 0; i < 32; ++i)
    ok += "*1\r\n";
  ok += ":1\r\n";
  const reply* r = nullptr;
  const reply deep = parse(ok);
  r = &deep;
  int depth = 0;
  while (r->is_aggregate()) {
    r = &r->elements()[0];
    ++depth;
  }
  EXPECT_EQ(depth, 32);
  EXPECT_EQ(*r, reply::make_integer(1));

  reply out;
  std::error_code ec;
  EXPECT_EQ(parse_reply_tree("*1\r\n" + ok, out, ec).status, outcome::error);
  EXPECT_EQ(ec, errc::nesting_too_deep);

  limits lim;
  lim.max_depth = 40;
  EXPECT_EQ(parse_reply_tree("*1\r\n" + ok, out, ec, lim).status, outcome::node);
}

TEST(Reply, announced_sizes_are_not_reserved) {
  // Four billion elements announced, one sent: the tree holds one, and reserved little.
  reply r;
  reply_builder b(r);
  node n;
  n.type = type::array;
  n.size = 4'000'000'000;
  b.on_node(n);
  node one;
  one.type = type::integer;
  one.integer = 1;
  one.depth = 1;
  b.on_node(one);
  EXPECT_FALSE(b.done());
  EXPECT_EQ(r.elements().size(), 1u);
  EXPECT_LE(r.elements().capacity(), 256u);
}

// The builder fed straight from a parser, node by node: done() exactly at the end of each reply,
// and nothing taken after it until reset().
TEST(ReplyBuilder, follows_the_parser) {
  const std::string bytes = "|1\r\n+a\r\n:1\r\n%1\r\n+k\r\n*2\r\n:1\r\n:2\r\n+second\r\n";
  parser p;
  reply r;
  reply_builder b(r);
  std::size_t offset = 0;
  node n;
  int nodes = 0;
  while (!p.done()) {
    const step s = p.next(std::string_view(bytes).substr(offset), n);
    ASSERT_EQ(s.status, outcome::node);
    offset += s.consumed;
    EXPECT_FALSE(b.done());
    b.on_node(n);
    ++nodes;
  }
  EXPECT_EQ(nodes, 8);
  EXPECT_TRUE(b.done());
  reply expected =
      reply::make_map({reply::make_simple_string("k"),
                       reply::make_array({reply::make_integer(1), reply::make_integer(2)})});
  expected.attach_attributes(
      reply::make_attribute({reply::make_simple_string("a"), reply::make_integer(1)}));
  EXPECT_EQ(r, expected);

  // Ignored while done; taken after reset().
  ASSERT_EQ(p.next(std::string_view(bytes).substr(offset), n).status, outcome::node);
  b.on_node(n);
  EXPECT_EQ(r, expected);
  b.reset();
  EXPECT_FALSE(b.done());
  b.on_node(n);
  EXPECT_TRUE(b.done());
  EXPECT_EQ(r, reply::make_simple_string("second"));
}

TEST(ReplyBuilder, adapter_reads_any_reply) {
  const std::string bytes = "*2\r\n$1\r\na\r\n~1\r\n#t\r\n";
  parser p;
  reply r = reply::make_integer(99);  // overwritten
  adapter<reply> a(r);
  std::size_t offset = 0;
  node n;
  std::error_code ec;
  while (!a.done()) {
    const step s = p.next(std::string_view(bytes).substr(offset), n);
    ASSERT_EQ(s.status, outcome::node);
    offset += s.consumed;
    a.on_node(n, ec);
  }
  EXPECT_FALSE(ec);
  EXPECT_TRUE(p.done());
  EXPECT_EQ(offset, bytes.size());
  EXPECT_EQ(r, reply::make_array(
                   {reply::make_bulk_string("a"), reply::make_set({reply::make_boolean(true)})}));
}

// adapter.hpp's driver skips attributes: the tree it gives has none.
TEST(ReplyBuilder, read_reply_gives_the_data_without_attributes) {
  std::size_t consumed = 0;
  const auto r =
      read_reply<reply>("|1\r\n+a\r\n+b\r\n*1\r\n|1\r\n+c\r\n+d\r\n:1\r\n+x\r\n", &consumed);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(consumed, 32u);
  EXPECT_EQ(*r, reply::make_array({reply::make_integer(1)}));
  EXPECT_EQ(r->attributes(), nullptr);
  EXPECT_EQ(r->elements()[0].attributes(), nullptr);
}

}  // namespace

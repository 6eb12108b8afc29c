// resp::format against the golden corpus (outputs captured from redis-cli 7.0.15, plus the rules
// for types it cannot print), and the rules one at a time on hand-built trees.

#include "uredis/resp/format.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "../support/golden_corpus.hpp"
#include "uredis/resp/reply.hpp"

namespace {

using namespace std::string_literals;
using uredis::resp::format;
using uredis::resp::outcome;
using uredis::resp::parse_reply_tree;
using uredis::resp::reply;
using uredis::resp::step;
using uredis::test::golden_case;
using uredis::test::golden_cases;

// Formats every reply in `bytes`, one after the other.
std::string format_all(std::string_view bytes, const std::string& name) {
  std::string out;
  while (!bytes.empty()) {
    reply r;
    std::error_code ec;
    const step s = parse_reply_tree(bytes, r, ec);
    EXPECT_EQ(s.status, outcome::node) << name << ": " << ec.message();
    if (s.status != outcome::node) break;
    format(r, out);
    bytes.remove_prefix(s.consumed);
  }
  return out;
}

void check_golden(const std::string& subdir, std::size_t at_least) {
  const std::vector<golden_case> cases = golden_cases(subdir);
  ASSERT_GE(cases.size(), at_least) << "golden corpus missing under " << uredis::test::golden_dir();
  for (const golden_case& c : cases) {
    ASSERT_FALSE(c.expected.empty()) << c.name;
    EXPECT_EQ(format_all(c.input, c.name), c.expected) << c.name;
  }
}

TEST(Format, matches_what_redis_cli_printed) {
  check_golden("redis-cli", 70);
}

TEST(Format, follows_the_rules_for_what_redis_cli_cannot_print) {
  check_golden("rules", 15);
}

reply bulk(std::string_view s) {
  return reply::make_bulk_string(s);
}
reply integer(std::int64_t v) {
  return reply::make_integer(v);
}

TEST(Format, scalars) {
  EXPECT_EQ(format(reply::make_simple_string("OK")), "OK\n");
  EXPECT_EQ(format(reply::make_simple_error("ERR no")), "(error) ERR no\n");
  EXPECT_EQ(format(reply::make_bulk_error("ERR bulk")), "(error) ERR bulk\n");
  EXPECT_EQ(format(integer(-7)), "(integer) -7\n");
  EXPECT_EQ(format(integer(INT64_MIN)), "(integer) -9223372036854775808\n");
  EXPECT_EQ(format(reply::make_double(2.5, "2.50")), "(double) 2.50\n");
  EXPECT_EQ(format(reply::make_double(0.1)), "(double) 0.1\n");
  EXPECT_EQ(format(reply::make_boolean(true)), "(true)\n");
  EXPECT_EQ(format(reply::make_boolean(false)), "(false)\n");
  EXPECT_EQ(format(reply::make_null()), "(nil)\n");
  EXPECT_EQ(format(reply::make_big_number("-12345678901234567890")),
            "(big number) -12345678901234567890\n");
  EXPECT_EQ(format(reply::make_verbatim_string("txt", "a\"b\n")), "a\"b\n\n");
}

TEST(Format, simple_strings_and_errors_stop_at_nul) {
  EXPECT_EQ(format(reply::make_simple_string("ab\0cd"s)), "ab\n");
  EXPECT_EQ(format(reply::make_simple_error("\0x"s)), "(error) \n");
  EXPECT_EQ(format(reply::make_bulk_error("E\0x"s)), "(error) E\n");
  // Bulk and verbatim strings keep every byte.
  EXPECT_EQ(format(bulk("a\0b"s)), "\"a\\x00b\"\n");
  EXPECT_EQ(format(reply::make_verbatim_string("txt", "a\0b"s)), "a\0b\n"s);
}

TEST(Format, bulk_escaping) {
  EXPECT_EQ(format(bulk("")), "\"\"\n");
  EXPECT_EQ(format(bulk("\\\"\n\r\t\a\b")), "\"\\\\\\\"\\n\\r\\t\\a\\b\"\n");
  // \v and \f have no short form in redis-cli; hex digits are lowercase.
  EXPECT_EQ(format(bulk("\v\f\x1b\x7f\x80\xff")), "\"\\x0b\\x0c\\x1b\\x7f\\x80\\xff\"\n");
  EXPECT_EQ(format(bulk(" ~'`$")), "\" ~'`$\"\n");
  // Printable ASCII is kept, everything else escaped.
  for (int c = 0; c < 256; ++c) {
    const std::string out = format(bulk(std::string(1, static_cast<char>(c))));
    const std::size_t quoted = out.size() - 3;  // without the quotes and the newline
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
      EXPECT_EQ(quoted, 1u) << c;
    else
      EXPECT_TRUE(quoted == 2 || quoted == 4) << c;
  }
}

TEST(Format, empty_aggregates) {
  EXPECT_EQ(format(reply::make_array({})), "(empty array)\n");
  EXPECT_EQ(format(reply::make_map({})), "(empty hash)\n");
  EXPECT_EQ(format(reply::make_set({})), "(empty set)\n");
  EXPECT_EQ(format(reply::make_push({})), "(empty push)\n");
}

TEST(Format, index_width_grows_with_the_count) {
  std::vector<reply> ten(10, integer(0));
  const std::string out = format(reply::make_array(ten));
  EXPECT_EQ(out.substr(0, 16), " 1) (integer) 0\n");
  EXPECT_NE(out.find("\n10) (integer) 0\n"), std::string::npos);

  // Nested: the inner elements line up past the outer "NN) ".
  const reply nested = reply::make_array({reply::make_array({integer(1), integer(2)}), integer(3),
                                          integer(4), integer(5), integer(6), integer(7),
                                          integer(8), integer(9), integer(10), integer(11)});
  EXPECT_TRUE(
      format(nested).starts_with(" 1) 1) (integer) 1\n    2) (integer) 2\n 2) (integer) 3\n"));
}

TEST(Format, sets_and_maps_use_their_separators) {
  EXPECT_EQ(format(reply::make_set({bulk("a"), bulk("b")})), "1~ \"a\"\n2~ \"b\"\n");
  EXPECT_EQ(format(reply::make_map({bulk("a"), integer(1), bulk("b"), integer(2)})),
            "1# \"a\" => (integer) 1\n2# \"b\" => (integer) 2\n");
}

TEST(Format, map_values_on_several_lines_start_on_a_new_line) {
  EXPECT_EQ(format(reply::make_map({bulk("k"), reply::make_array({integer(1), integer(2)})})),
            "1# \"k\" => \n   1) (integer) 1\n   2) (integer) 2\n");
  // A one-element aggregate fits on the key's line.
  EXPECT_EQ(format(reply::make_map({bulk("k"), reply::make_array({integer(1)})})),
            "1# \"k\" => 1) (integer) 1\n");
  // ... unless its element spans lines.
  EXPECT_EQ(format(reply::make_map(
                {bulk("k"), reply::make_array({reply::make_array({integer(1), integer(2)})})})),
            "1# \"k\" => \n   1) 1) (integer) 1\n      2) (integer) 2\n");
  // A map value: more than one pair spans lines; one pair only if its value does.
  EXPECT_EQ(format(reply::make_map({bulk("k"), reply::make_map({bulk("a"), integer(1)})})),
            "1# \"k\" => 1# \"a\" => (integer) 1\n");
}

TEST(Format, attributes_are_skipped) {
  reply r = reply::make_array({integer(1), integer(2)});
  r.elements()[1].attach_attributes(reply::make_attribute({bulk("ttl"), integer(3)}));
  r.attach_attributes(reply::make_attribute({bulk("a"), bulk("b")}));
  EXPECT_EQ(format(r), "1) (integer) 1\n2) (integer) 2\n");
  // A bare attribute (never found inside a tree) prints as a map.
  EXPECT_EQ(format(reply::make_attribute({bulk("a"), integer(1)})), "1# \"a\" => (integer) 1\n");
  EXPECT_EQ(format(reply::make_attribute({})), "(empty hash)\n");
}

TEST(Format, a_map_missing_its_last_value_prints_the_key) {
  EXPECT_EQ(format(reply::make_map({bulk("a"), integer(1), bulk("b")})),
            "1# \"a\" => (integer) 1\n2# \"b\"\n");
}

TEST(Format, invalidation_pushes_print_on_one_line) {
  const auto invalidate = [](std::vector<reply> keys) {
    return reply::make_push({bulk("invalidate"), reply::make_array(std::move(keys))});
  };
  EXPECT_EQ(format(invalidate({bulk("k1"), bulk("k2")})), "-> invalidate: 'k1', 'k2'\n");
  EXPECT_EQ(format(invalidate({})), "-> invalidate: \n");
  EXPECT_EQ(format(invalidate({bulk("a'\nb\0c"s)})), "-> invalidate: 'a'\nb'\n");
  // Not that shape: the general format.
  EXPECT_EQ(format(invalidate({integer(1)})), "1) \"invalidate\"\n2) 1) (integer) 1\n");
  EXPECT_EQ(format(reply::make_push({bulk("invalidate"), reply::make_null()})),
            "1) \"invalidate\"\n2) (nil)\n");
  EXPECT_EQ(format(reply::make_array({bulk("invalidate"), reply::make_array({bulk("k")})})),
            "1) \"invalidate\"\n2) 1) \"k\"\n");
  EXPECT_EQ(format(reply::make_push(
                {reply::make_simple_string("invalidate"), reply::make_array({bulk("k")})})),
            "1) invalidate\n2) 1) \"k\"\n");
  // Inside an array, a push is just an aggregate.
  EXPECT_EQ(format(reply::make_array({invalidate({bulk("k")})})),
            "1) 1) \"invalidate\"\n   2) 1) \"k\"\n");
}

TEST(Format, appends_to_the_output) {
  std::string out = "before\n";
  format(integer(1), out);
  format(reply::make_null(), out);
  EXPECT_EQ(out, "before\n(integer) 1\n(nil)\n");
}

}  // namespace

// reply_output: which commands redis-cli prints raw, the raw form, and error replies.

#include "reply_output.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using uredis::result;
using uredis::server_error;
using uredis::cli::format_raw;
using uredis::cli::format_result;
using uredis::cli::prints_raw;
using uredis::resp::reply;
using words = std::vector<std::string>;

std::string raw(const reply& r) {
  std::string out;
  format_raw(r, out);
  return out;
}

TEST(ReplyOutput, CommandsRedisCliPrintsRaw) {
  for (const words& w :
       {words{"INFO"}, words{"info", "keyspace"}, words{"LOLWUT"}, words{"client", "list"},
        words{"CLIENT", "INFO"}, words{"cluster", "nodes"}, words{"CLUSTER", "INFO"},
        words{"memory", "doctor"}, words{"MEMORY", "MALLOC-STATS"}, words{"latency", "doctor"},
        words{"LATENCY", "GRAPH", "command"}, words{"debug", "htstats", "0"},
        words{"DEBUG", "HTSTATS-KEY", "k"}, words{"debug", "client-eviction"},
        words{"proxy", "info"}})
    EXPECT_TRUE(prints_raw(w)) << w[0] << " " << (w.size() > 1 ? w[1] : "");
  for (const words& w :
       {words{}, words{"GET", "info"}, words{"CLIENT", "ID"}, words{"CLUSTER", "NODES", "extra"},
        words{"LATENCY", "GRAPH"}, words{"LATENCY", "DOCTOR", "x"}, words{"MEMORY", "USAGE", "k"},
        words{"DEBUG"}})
    EXPECT_FALSE(prints_raw(w)) << (w.empty() ? "(empty)" : w[0]);
}

TEST(ReplyOutput, RawForm) {
  EXPECT_EQ(raw(reply::make_bulk_string("# Server\r\nx:1\r\n")), "# Server\r\nx:1\r\n");
  EXPECT_EQ(raw(reply::make_bulk_string("")), "");
  EXPECT_EQ(raw(reply::make_null()), "");
  EXPECT_EQ(raw(reply::make_integer(-7)), "-7");
  EXPECT_EQ(raw(reply::make_simple_error("ERR no")), "ERR no\n");
  EXPECT_EQ(raw(reply::make_verbatim_string("txt", "text")), "text");
  EXPECT_EQ(raw(reply::make_boolean(true)), "(true)");
  EXPECT_EQ(raw(reply::make_double(1.5, "1.5")), "1.5");
  EXPECT_EQ(raw(reply::make_array({reply::make_bulk_string("a"), reply::make_integer(2)})), "a\n2");
  EXPECT_EQ(raw(reply::make_map({reply::make_bulk_string("k"), reply::make_bulk_string("v"),
                                 reply::make_bulk_string("k2"), reply::make_integer(3)})),
            "k v\nk2 3");
}

TEST(ReplyOutput, ValuesAndServerErrors) {
  std::string out;
  format_result(result<reply>(reply::make_bulk_string("a\"b")), false, out);
  EXPECT_EQ(out, "\"a\\\"b\"\n");
  out.clear();
  format_result(result<reply>(server_error::parse("WRONGTYPE Operation")), false, out);
  EXPECT_EQ(out, "(error) WRONGTYPE Operation\n");
  out.clear();
  format_result(result<reply>(server_error::parse("ERR x")), true, out);
  EXPECT_EQ(out, "ERR x\n");
  out.clear();
  // redis-cli prints an error's text as a C string: up to its first NUL.
  format_result(result<reply>(server_error::parse(std::string("ERR a\0b", 7))), false, out);
  EXPECT_EQ(out, "(error) ERR a\n");
}

}  // namespace

// allow_list: which command names the cache takes, in any case, and how a request's name is read.

#include "uredis/cache/allow_list.hpp"

#include <gtest/gtest.h>

namespace uredis::cache {
namespace {

TEST(AllowList, takes_listed_reads_in_any_case) {
  for (const char* name : {"GET", "get", "MGET", "HGETALL", "zrangebyscore", "GEORADIUSBYMEMBER_RO",
                           "JSON.GET", "SORT_RO", "XRANGE"})
    EXPECT_TRUE(on_allow_list(name)) << name;
}

TEST(AllowList, refuses_writes_blocking_reads_and_non_names) {
  for (const char* name : {"SET", "DEL", "GETDEL", "GETEX", "XREAD", "BLPOP", "EVAL", "MULTI",
                           "PTTL", "", "GETX", "GET ", "GEORADIUSBYMEMBER_RO_"})
    EXPECT_FALSE(on_allow_list(name)) << name;
}

TEST(AllowList, command_name_reads_the_first_bulk_string) {
  EXPECT_EQ(command_name("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), "GET");
  EXPECT_EQ(command_name("*1\r\n$4\r\nPING\r\n"), "PING");
  EXPECT_EQ(command_name("*1\r\n$12\r\nGETRANGE\r\n"), "");  // the length runs past the end
  EXPECT_EQ(command_name("+OK\r\n"), "");
  EXPECT_EQ(command_name("*1\r\n:1\r\n"), "");
  EXPECT_EQ(command_name(""), "");
}

}  // namespace
}  // namespace uredis::cache

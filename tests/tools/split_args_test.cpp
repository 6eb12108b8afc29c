// split_args: redis-cli's way of cutting a line into arguments (sds.c's sdssplitargs rules), case
// by case. (network_matches_redis_cli.sh also feeds the corners to the real redis-cli.)

#include "split_args.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using uredis::cli::split_args;
using words = std::vector<std::string>;

std::optional<words> split(std::string_view line) {
  return split_args(line);
}

TEST(SplitArgs, BlankLinesHaveNoArguments) {
  EXPECT_EQ(split(""), words{});
  EXPECT_EQ(split("   \t \r\n"), words{});
  EXPECT_EQ(split("\v\f"), words{});
}

TEST(SplitArgs, BlanksSeparateWords) {
  EXPECT_EQ(split("SET k v"), (words{"SET", "k", "v"}));
  EXPECT_EQ(split("  GET\t\tk  \r"), (words{"GET", "k"}));
  // \v and \f are skipped between words but do not end one.
  EXPECT_EQ(split("\vECHO a\vb"), (words{"ECHO", "a\vb"}));
  EXPECT_EQ(split("a\fb"), (words{"a\fb"}));
}

TEST(SplitArgs, DoubleQuotesAndTheirEscapes) {
  EXPECT_EQ(split(R"(ECHO "hello world")"), (words{"ECHO", "hello world"}));
  EXPECT_EQ(split(R"("a\nb\rc\td\be\af")"), (words{"a\nb\rc\td\be\af"}));
  EXPECT_EQ(split(R"("\\ \" \q \'")"), (words{R"(\ " q ')"}));
  EXPECT_EQ(split(R"("")"), (words{""}));
  EXPECT_EQ(split(R"("" "")"), (words{"", ""}));
}

TEST(SplitArgs, HexEscapesNeedTwoHexDigits) {
  EXPECT_EQ(split(R"("\x41\x7a\xfF")"), (words{"Az\xff"}));
  EXPECT_EQ(split(R"("\x00")"), (words{std::string(1, '\0')}));
  // One or no digit: the backslash escapes the 'x' alone.
  EXPECT_EQ(split(R"("\x4")"), (words{"x4"}));
  EXPECT_EQ(split(R"("\xZZ")"), (words{"xZZ"}));
  EXPECT_EQ(split(R"("\x")"), (words{"x"}));
  // Upper-case X is not an escape.
  EXPECT_EQ(split(R"("\X41")"), (words{"X41"}));
}

TEST(SplitArgs, SingleQuotesKeepEverythingButEscapedQuotes) {
  EXPECT_EQ(split(R"('a\nb')"), (words{R"(a\nb)"}));
  EXPECT_EQ(split(R"('it\'s')"), (words{"it's"}));
  EXPECT_EQ(split(R"('a "b" c')"), (words{R"(a "b" c)"}));
  EXPECT_EQ(split(R"('\\ ')"), (words{R"(\\ )"}));
  EXPECT_EQ(split(R"('\\')"), std::nullopt);  // the second backslash escapes the quote
}

TEST(SplitArgs, QuotesMayStartInsideAWord) {
  EXPECT_EQ(split(R"(a"b c")"), (words{"ab c"}));
  EXPECT_EQ(split(R"(x'y z')"), (words{"xy z"}));
  EXPECT_EQ(split(R"(a"b"'c')"), std::nullopt);  // the closing quote must end the word
}

TEST(SplitArgs, ClosingQuoteMustBeFollowedByABlankOrTheEnd) {
  EXPECT_EQ(split(R"("a"b)"), std::nullopt);
  EXPECT_EQ(split(R"('a'b)"), std::nullopt);
  EXPECT_EQ(split(R"('a'"b")"), std::nullopt);
  EXPECT_EQ(split("\"a\"\v"), (words{"a"}));
  EXPECT_EQ(split("\"a\"\tb"), (words{"a", "b"}));
}

TEST(SplitArgs, UnterminatedQuotesAreInvalid) {
  EXPECT_EQ(split(R"(ECHO "abc)"), std::nullopt);
  EXPECT_EQ(split(R"(ECHO 'abc)"), std::nullopt);
  EXPECT_EQ(split(R"(ECHO "abc\")"), std::nullopt);  // the quote is escaped
  EXPECT_EQ(split(R"(ECHO "abc\)"), std::nullopt);   // a backslash at the very end
  EXPECT_EQ(split(R"(ECHO 'abc\')"), std::nullopt);
}

TEST(SplitArgs, TheLineEndsAtItsFirstNul) {
  using namespace std::string_view_literals;
  EXPECT_EQ(split("ECHO a\0b c"sv), (words{"ECHO", "a"}));
  EXPECT_EQ(split("\0ECHO"sv), words{});
  EXPECT_EQ(split("ECHO \"a\0b\""sv), std::nullopt);  // the quote is cut off
}

TEST(SplitArgs, BytesAbove127AreOrdinary) {
  EXPECT_EQ(split("SET k \xc3\xa9t\xc3\xa9"), (words{"SET", "k", "\xc3\xa9t\xc3\xa9"}));
  EXPECT_EQ(split("\xa0x"), (words{"\xa0x"}));  // not a blank, even where Latin-1 says so
}

TEST(SplitArgs, ReusesTheVector) {
  std::vector<std::string> out{"stale", "entries", "here"};
  ASSERT_TRUE(split_args("one two", out));
  EXPECT_EQ(out, (words{"one", "two"}));
  EXPECT_FALSE(split_args("\"bad", out));
  ASSERT_TRUE(split_args("", out));
  EXPECT_TRUE(out.empty());
}

}  // namespace

// version: parsing (accepted forms, suffixes, garbage, overflow), ordering and to_string.

#include "uredis/util/version.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

namespace uredis::util {

// Readable gtest failure messages.
void PrintTo(const version& v, std::ostream* os) {
  *os << to_string(v);
}

namespace {

static_assert(parse_version("7.2.4") == version{7, 2, 4}, "parse_version is constexpr");
static_assert(version{7, 0, 15} < version{7, 2, 0});

TEST(Version, ParsesOneTwoOrThreeComponents) {
  EXPECT_EQ(parse_version("7"), (version{7, 0, 0}));
  EXPECT_EQ(parse_version("7.0"), (version{7, 0, 0}));
  EXPECT_EQ(parse_version("7.0.15"), (version{7, 0, 15}));
  EXPECT_EQ(parse_version("6.2"), (version{6, 2, 0}));
  EXPECT_EQ(parse_version("0.0.0"), (version{0, 0, 0}));
  EXPECT_EQ(parse_version("255.255.255"), (version{255, 255, 255}));  // unstable builds
  EXPECT_EQ(parse_version("07.02.004"), (version{7, 2, 4})) << "leading zeros are digits";
}

TEST(Version, IgnoresSuffix) {
  EXPECT_EQ(parse_version("7.2.4-rc1"), (version{7, 2, 4}));
  EXPECT_EQ(parse_version("7.2-rc2"), (version{7, 2, 0}));
  EXPECT_EQ(parse_version("8-m01"), (version{8, 0, 0}));
  EXPECT_EQ(parse_version("7.4.0+build.5"), (version{7, 4, 0}));
  EXPECT_EQ(parse_version("7.0.0-1.2.3"), (version{7, 0, 0}));
}

TEST(Version, RejectsGarbage) {
  for (const char* bad :
       {"",     ".",      "7.",     ".7",  "7..0", "7.0.",        "7.0.0.0", "v7",
        "7a",   "7.0rc1", " 7",     "7 ",  "7.0 ", "-7",          "+7",      "7.-1",
        "7.+1", "7-",     "7.0.0+", "abc", "7,0",  "\xef\xbc\x97"}) {
    EXPECT_EQ(parse_version(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(Version, RejectsOverflow) {
  EXPECT_EQ(parse_version("2147483647"), (version{2147483647, 0, 0}));  // INT_MAX fits
  EXPECT_EQ(parse_version("2147483648"), std::nullopt);
  EXPECT_EQ(parse_version("7.2147483648"), std::nullopt);
  EXPECT_EQ(parse_version("7.0.99999999999999999999"), std::nullopt);
}

TEST(Version, OrdersComponentWise) {
  EXPECT_LT((version{6, 2, 14}), (version{7, 0, 0}));
  EXPECT_LT((version{7, 0, 15}), (version{7, 2, 0}));
  EXPECT_LT((version{7, 2, 0}), (version{7, 10, 0})) << "numeric, not lexicographic";
  EXPECT_LT((version{7, 2, 4}), (version{7, 2, 5}));
  EXPECT_GT((version{8, 0, 0}), (version{7, 99, 99}));
  EXPECT_EQ((version{7, 2, 0}), *parse_version("7.2"));
  EXPECT_NE((version{7, 2, 0}), (version{7, 2, 1}));
  EXPECT_GE(*parse_version("7.2.4-rc1"), (version{7, 2, 4}))
      << "a gate treats an rc as its release";
  EXPECT_TRUE((version{7, 2, 0} <=> version{7, 2, 0}) == 0);
}

TEST(Version, ToString) {
  EXPECT_EQ(to_string(version{7, 2, 4}), "7.2.4");
  EXPECT_EQ(to_string(version{}), "0.0.0");
  EXPECT_EQ(to_string(*parse_version("7")), "7.0.0");
  const version round{12, 34, 56};
  EXPECT_EQ(parse_version(to_string(round)), round);
}

}  // namespace
}  // namespace uredis::util

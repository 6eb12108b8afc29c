// Reading +switch-master announcements, well-formed and not.

#include "uredis/sentinel/switch_master.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace uredis::sentinel {
namespace {

TEST(SwitchMaster, reads_the_five_words) {
  const auto m = parse_switch_master("mymaster 127.0.0.1 6379 10.0.0.2 6380");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->service, "mymaster");
  EXPECT_EQ(m->old_host, "127.0.0.1");
  EXPECT_EQ(m->old_port, 6379);
  EXPECT_EQ(m->new_host, "10.0.0.2");
  EXPECT_EQ(m->new_port, 6380);
  EXPECT_EQ(parse_switch_master("s ::1 1 fe80::1 65535")->new_host, "fe80::1");
}

TEST(SwitchMaster, refuses_what_is_not_an_announcement) {
  for (const std::string_view bad : {
           "",
           "mymaster",
           "mymaster 127.0.0.1 6379 10.0.0.2",
           "mymaster 127.0.0.1 6379 10.0.0.2 6380 extra",
           "mymaster 127.0.0.1 6379 10.0.0.2 6380 ",
           "mymaster  127.0.0.1 6379 10.0.0.2 6380",
           " mymaster 127.0.0.1 6379 10.0.0.2 6380",
           "mymaster 127.0.0.1 6379 10.0.0.2 0",
           "mymaster 127.0.0.1 x 10.0.0.2 6380",
           "mymaster 127.0.0.1 6379 10.0.0.2 99999",
       })
    EXPECT_FALSE(parse_switch_master(bad).has_value()) << "'" << bad << "'";
}

}  // namespace
}  // namespace uredis::sentinel

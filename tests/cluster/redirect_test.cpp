// redirect: MOVED and ASK replies read into slot and target; anything else is not a redirect.

#include "uredis/cluster/redirect.hpp"

#include <gtest/gtest.h>

namespace uredis::cluster {
namespace {

std::optional<redirect> read(std::string_view text, std::string_view replying = "10.0.0.1") {
  return parse_redirect(server_error::parse(text), replying);
}

TEST(Redirect, moved_names_the_slot_and_its_new_owner) {
  const auto r = read("MOVED 3999 127.0.0.1:6381");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->type, redirect::kind::moved);
  EXPECT_EQ(r->slot, 3999);
  EXPECT_EQ(r->target, (node_address{"127.0.0.1", 6381}));
}

TEST(Redirect, ask_names_the_node_for_this_one_command) {
  const auto r = read("ASK 16383 127.0.0.1:30002");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->type, redirect::kind::ask);
  EXPECT_EQ(r->slot, 16383);
  EXPECT_EQ(r->target.port, 30002);
}

TEST(Redirect, ipv6_keeps_its_colons_and_an_empty_host_is_the_replying_node) {
  const auto v6 = read("MOVED 1 ::1:7000");
  ASSERT_TRUE(v6.has_value());
  EXPECT_EQ(v6->target, (node_address{"::1", 7000}));
  const auto empty = read("MOVED 2 :7001");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->target, (node_address{"10.0.0.1", 7001}));
}

TEST(Redirect, other_errors_and_malformed_redirects_are_not_redirects) {
  for (const std::string_view text :
       {"ERR unknown command", "MOVED", "MOVED 3999", "MOVED x 127.0.0.1:1",
        "MOVED 16384 127.0.0.1:1", "MOVED -1 h:1", "MOVED 1 127.0.0.1", "MOVED 1 h:0",
        "MOVED 1 h:65536", "MOVED 1 h:12x", "ASK 1 h :1", "TRYAGAIN 1 h:1", "moved 1 h:1"}) {
    EXPECT_FALSE(read(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace uredis::cluster

// The ROLE handshake step, fed the bytes of real ROLE answers (Redis 7), parsed into nodes.

#include "uredis/proto/role_check.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "uredis/error.hpp"
#include "uredis/resp/parser.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis::proto {
namespace {

// Feeds every node of the one reply in `bytes` to `step`; returns the first failure, or
// success when every node was taken.
result<void> feed(role_check& step, std::string_view bytes) {
  resp::parser parser;
  resp::node n;
  std::size_t at = 0;
  bool first = true;
  while (at < bytes.size()) {
    const resp::step s = parser.next(bytes.substr(at), n);
    EXPECT_EQ(s.status, resp::outcome::node) << bytes;
    if (s.status != resp::outcome::node) return make_error_code(errc::incomplete_reply);
    at += s.consumed;
    if (!first && n.depth == 0) break;
    first = false;
    result<void> r = step.on_node(n, 0);
    if (!r) return r;
  }
  return {};
}

constexpr std::string_view master_role =
    "*3\r\n$6\r\nmaster\r\n:3129659\r\n*1\r\n*3\r\n$9\r\n127.0.0.1\r\n$4\r\n9001\r\n$"
    "7\r\n3129242\r\n";
constexpr std::string_view replica_role =
    "*5\r\n$5\r\nslave\r\n$9\r\n127.0.0.1\r\n:9000\r\n$9\r\nconnected\r\n:3167038\r\n";
constexpr std::string_view sentinel_role = "*2\r\n$8\r\nsentinel\r\n*1\r\n$8\r\nmymaster\r\n";

TEST(RoleCheck, writes_role) {
  role_check step{"master"};
  util::byte_buffer out;
  resp::encoder e{out};
  EXPECT_EQ(step.write(e, {}, resp_version::resp3), 1u);
  EXPECT_EQ(out.data(), "*1\r\n$4\r\nROLE\r\n");
}

TEST(RoleCheck, a_primary_passes_as_a_primary) {
  role_check step{"master"};
  util::byte_buffer out;
  resp::encoder e{out};
  step.write(e, {}, resp_version::resp3);
  EXPECT_TRUE(feed(step, master_role));
  EXPECT_EQ(step.found(), "master");
}

TEST(RoleCheck, a_replica_or_a_sentinel_is_a_mismatch) {
  for (const std::string_view answer : {replica_role, sentinel_role}) {
    role_check step{"master"};
    util::byte_buffer out;
    resp::encoder e{out};
    step.write(e, {}, resp_version::resp3);
    const result<void> r = feed(step, answer);
    ASSERT_TRUE(r.has_error()) << answer;
    EXPECT_EQ(r.error(), errc::role_mismatch);
  }
  role_check want_replica{"slave"};
  EXPECT_TRUE(feed(want_replica, replica_role));
  EXPECT_EQ(want_replica.found(), "slave");
}

TEST(RoleCheck, each_handshake_checks_again) {
  role_check step{"master"};
  util::byte_buffer out;
  resp::encoder e{out};
  step.write(e, {}, resp_version::resp3);
  EXPECT_TRUE(feed(step, master_role));
  step.write(e, {}, resp_version::resp3);
  EXPECT_EQ(feed(step, replica_role).error(), errc::role_mismatch);
}

TEST(RoleCheck, an_error_reply_is_the_servers_refusal) {
  role_check step{"master"};
  const result<void> r = feed(step, "-NOPERM this user has no permissions to run 'role'\r\n");
  ASSERT_TRUE(r.has_server_error());
  EXPECT_EQ(r.server_error().kind, server_error_kind::noperm);
}

TEST(RoleCheck, a_reply_of_another_shape_is_a_type_mismatch) {
  for (const std::string_view answer :
       {std::string_view{"+OK\r\n"}, std::string_view{"*0\r\n"}, std::string_view{"*1\r\n:1\r\n"},
        std::string_view{"$6\r\nmaster\r\n"}}) {
    role_check step{"master"};
    const result<void> r = feed(step, answer);
    ASSERT_TRUE(r.has_error()) << answer;
    EXPECT_EQ(r.error(), errc::type_mismatch) << answer;
  }
}

}  // namespace
}  // namespace uredis::proto

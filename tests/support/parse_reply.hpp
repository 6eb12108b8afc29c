#pragma once
// parse_reply: one whole RESP reply from bytes a test writes by hand (a canned CLUSTER SLOTS
// answer, say), as a reply tree; the test fails where the bytes are not exactly one reply.
//
//   const resp::reply slots = test::parse_reply("*1\r\n*3\r\n:0\r\n:16383\r\n...");

#include <string_view>
#include <system_error>

#include <gtest/gtest.h>

#include "uredis/resp/reply.hpp"

namespace uredis::test {

inline resp::reply parse_reply(std::string_view bytes) {
  resp::reply r;
  std::error_code ec;
  const resp::step s = resp::parse_reply_tree(bytes, r, ec);
  EXPECT_EQ(s.status, resp::outcome::node) << ec.message() << ": " << bytes;
  EXPECT_EQ(s.consumed, bytes.size()) << bytes;
  return r;
}

}  // namespace uredis::test

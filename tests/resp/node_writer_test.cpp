// node_writer: every node type written back out parses into the same nodes.

#include "uredis/resp/node_writer.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "uredis/resp/parser.hpp"

namespace uredis::resp {
namespace {

std::vector<node> parse_all(std::string_view bytes) {
  std::vector<node> nodes;
  parser p;
  node n;
  while (!bytes.empty()) {
    const step s = p.next(bytes, n);
    EXPECT_EQ(s.status, outcome::node) << bytes;
    if (s.status != outcome::node) break;
    bytes.remove_prefix(s.consumed);
    nodes.push_back(n);
  }
  return nodes;
}

std::string rewritten(std::string_view bytes) {
  util::byte_buffer out;
  for (const node& n : parse_all(bytes))
    write_node(out, n);
  return std::string(out.data());
}

TEST(NodeWriter, writes_every_type_back_as_it_was_sent) {
  for (const std::string_view bytes : {
           "+OK\r\n",
           "-ERR no\r\n",
           ":-42\r\n",
           "$5\r\nhe\r\nl\r\n",
           "$0\r\n\r\n",
           "_\r\n",
           "#t\r\n",
           ",3.25\r\n",
           ",inf\r\n",
           "(123456789012345678901234567890\r\n",
           "!7\r\nERR bad\r\n",
           "=8\r\ntxt:abcd\r\n",
           "*3\r\n$1\r\na\r\n*1\r\n:1\r\n%1\r\n+k\r\n~2\r\n#f\r\n_\r\n",
           "*0\r\n",
           ">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n",
       }) {
    EXPECT_EQ(rewritten(bytes), bytes);
  }
}

TEST(NodeWriter, resp2_nulls_come_back_as_resp3_nulls) {
  EXPECT_EQ(rewritten("$-1\r\n"), "_\r\n");
  EXPECT_EQ(rewritten("*2\r\n*-1\r\n$1\r\nx\r\n"), "*2\r\n_\r\n$1\r\nx\r\n");
}

}  // namespace
}  // namespace uredis::resp

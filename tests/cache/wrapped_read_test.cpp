// wrapped_read: the bytes a cacheable read goes out as, and how its replies are read back into
// the read's own reply, its keys' smallest PTTL, or the first error.

#include "uredis/cache/wrapped_read.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "uredis/error.hpp"
#include "uredis/resp/parser.hpp"

namespace uredis::cache {
namespace {

std::string encoded(const wrapped_read& r) {
  util::byte_buffer out;
  resp::encoder e{out};
  r.encode(e);
  return std::string(out.data());
}

// Feeds `bytes` (all the replies) node by node.
void feed(wrapped_reply& reply, std::string_view bytes) {
  resp::parser p;
  resp::node n;
  while (!bytes.empty()) {
    const resp::step s = p.next(bytes, n);
    ASSERT_EQ(s.status, resp::outcome::node) << bytes;
    bytes.remove_prefix(s.consumed);
    reply.on_node(n);
  }
}

constexpr std::string_view get_k = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";

TEST(WrappedRead, optin_asks_for_caching_and_reads_the_ttl_in_one_transaction) {
  const std::vector<std::string_view> keys{"k"};
  const wrapped_read r{get_k, keys, true};
  EXPECT_EQ(r.replies(), 5u);
  EXPECT_EQ(encoded(r),
            "*3\r\n$6\r\nCLIENT\r\n$7\r\nCACHING\r\n$3\r\nYES\r\n*1\r\n$5\r\nMULTI\r\n"
            "*2\r\n$4\r\nPTTL\r\n$1\r\nk\r\n" +
                std::string(get_k) + "*1\r\n$4\r\nEXEC\r\n");
}

TEST(WrappedRead, other_modes_send_no_caching_command) {
  const std::vector<std::string_view> keys{"a", "b"};
  const wrapped_read r{"*3\r\n$4\r\nMGET\r\n$1\r\na\r\n$1\r\nb\r\n", keys, false};
  EXPECT_EQ(r.replies(), 5u);  // MULTI, 2 PTTL, MGET, EXEC
  EXPECT_EQ(encoded(r).substr(0, 15), "*1\r\n$5\r\nMULTI\r\n");
}

TEST(WrappedRead, keeps_the_reads_reply_and_the_smallest_ttl) {
  util::byte_buffer out;
  wrapped_reply reply{6, 2, out};  // CACHING, MULTI, 2 PTTL, MGET, EXEC
  feed(reply,
       "+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n"
       "*3\r\n:900\r\n:300\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
  EXPECT_FALSE(reply.failed());
  EXPECT_FALSE(reply.error());
  EXPECT_EQ(reply.pttl(), 300);
  EXPECT_EQ(out.data(), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
}

TEST(WrappedRead, ttl_rules_missing_decides_and_persistent_keys_do_not_count) {
  struct ttl_case {
    std::string_view ttls;
    std::int64_t expected;
  };
  for (const ttl_case& c : {ttl_case{":-1\r\n:-1\r\n", -1}, ttl_case{":-1\r\n:40\r\n", 40},
                            ttl_case{":40\r\n:-2\r\n", -2}, ttl_case{":-2\r\n:40\r\n", -2}}) {
    util::byte_buffer out;
    wrapped_reply reply{5, 2, out};
    feed(reply, "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n" + std::string(c.ttls) + "_\r\n");
    EXPECT_EQ(reply.pttl(), c.expected) << c.ttls;
    EXPECT_EQ(out.data(), "_\r\n");
  }
}

TEST(WrappedRead, the_reads_own_error_becomes_a_top_level_error) {
  util::byte_buffer out;
  wrapped_reply reply{4, 1, out};
  feed(reply,
       "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:-1\r\n-WRONGTYPE Operation against a key holding the "
       "wrong kind of value\r\n");
  EXPECT_TRUE(reply.failed());
  EXPECT_EQ(out.data(), "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
}

TEST(WrappedRead, an_error_before_exec_is_the_one_reported) {
  util::byte_buffer out;
  wrapped_reply reply{4, 1, out};  // MULTI, PTTL, GET, EXEC
  feed(reply, "+OK\r\n-ERR unknown command\r\n+QUEUED\r\n-EXECABORT discarded\r\n");
  EXPECT_TRUE(reply.failed());
  EXPECT_EQ(out.data(), "-ERR unknown command\r\n");
}

TEST(WrappedRead, a_refused_caching_yes_leaves_the_read_good_but_untracked) {
  // Resent after a reconnect whose handshake could not turn tracking on (RESP2, its channel
  // not back yet): the read ran, only untracked. Its reply is the caller's, not the cache's.
  util::byte_buffer out;
  wrapped_reply reply{5, 1, out};  // CACHING, MULTI, PTTL, GET, EXEC
  feed(reply,
       "-ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or "
       "OPTOUT mode enabled\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:-1\r\n$1\r\nv\r\n");
  EXPECT_FALSE(reply.failed());
  EXPECT_TRUE(reply.untracked());
  EXPECT_EQ(out.data(), "$1\r\nv\r\n");
}

TEST(WrappedRead, a_reply_of_another_shape_is_a_type_mismatch_and_null_exec_a_conflict) {
  util::byte_buffer out;
  wrapped_reply wrong{4, 1, out};
  feed(wrong, "+OK\r\n+QUEUED\r\n+QUEUED\r\n*1\r\n:-1\r\n");
  EXPECT_EQ(wrong.error(), make_error_code(errc::type_mismatch));
  wrapped_reply text_ttl{4, 1, out};
  feed(text_ttl, "+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n$1\r\nx\r\n$1\r\nv\r\n");
  EXPECT_EQ(text_ttl.error(), make_error_code(errc::type_mismatch));
  wrapped_reply aborted{4, 1, out};
  feed(aborted, "+OK\r\n+QUEUED\r\n+QUEUED\r\n_\r\n");
  EXPECT_EQ(aborted.error(), make_error_code(errc::watch_conflict));
}

}  // namespace
}  // namespace uredis::cache

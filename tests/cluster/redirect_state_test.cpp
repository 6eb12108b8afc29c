// redirect_state: the verdict on each error reply a routed command can meet, with the bytes it
// was sent as, and the bound on redirects.

#include "uredis/cluster/redirect_state.hpp"

#include <gtest/gtest.h>

#include <string>

namespace uredis::cluster {
namespace {

using action = redirect_verdict::action;

const std::string get_k = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";

TEST(RedirectState, moved_repoints_and_resends_the_same_bytes) {
  redirect_state s;
  const redirect_verdict v = s.on_error_reply("MOVED 3999 127.0.0.1:6381", get_k, "10.0.0.1");
  EXPECT_EQ(v.what, action::follow_moved);
  EXPECT_EQ(v.where.slot, 3999);
  EXPECT_EQ(v.where.target, (node_address{"127.0.0.1", 6381}));
  EXPECT_EQ(v.command, get_k);
  EXPECT_EQ(s.redirects(), 1);
  EXPECT_FALSE(s.asking());
}

TEST(RedirectState, ask_goes_behind_asking_and_its_bytes_come_back_without_it) {
  redirect_state s;
  const redirect_verdict ask = s.on_error_reply("ASK 12 127.0.0.1:7002", get_k, "10.0.0.1");
  EXPECT_EQ(ask.what, action::follow_ask);
  EXPECT_EQ(ask.where.target.port, 7002);
  EXPECT_TRUE(s.asking());
  // The target answered TRYAGAIN to ASKING + GET: the command's own bytes are retried.
  const std::string sent = std::string(asking_request) + get_k;
  const redirect_verdict again = s.on_error_reply("TRYAGAIN Multiple keys request", sent, "h");
  EXPECT_EQ(again.what, action::retry_later);
  EXPECT_EQ(again.command, get_k);
  EXPECT_FALSE(s.asking());
  EXPECT_EQ(s.redirects(), 2);
}

TEST(RedirectState, tryagain_and_clusterdown_retry_later) {
  redirect_state s;
  EXPECT_EQ(s.on_error_reply("TRYAGAIN x", get_k, "h").what, action::retry_later);
  EXPECT_EQ(s.on_error_reply("CLUSTERDOWN The cluster is down", get_k, "h").what,
            action::retry_later);
  EXPECT_EQ(s.redirects(), 2);
}

TEST(RedirectState, other_errors_and_malformed_redirects_are_delivered_uncounted) {
  redirect_state s;
  for (const std::string_view text :
       {"WRONGTYPE Operation against a key", "MOVED", "MOVED x 1.2.3.4:5", "ASK 99999 h:1",
        "ERR unknown command", "CROSSSLOT Keys in request don't hash to the same slot", "", "M"}) {
    EXPECT_EQ(s.on_error_reply(text, get_k, "h").what, action::deliver) << text;
  }
  EXPECT_EQ(s.redirects(), 0);
}

TEST(RedirectState, a_node_gone_before_sending_retries_later) {
  redirect_state s;
  const redirect_verdict v = s.on_unsent(get_k);
  EXPECT_EQ(v.what, action::retry_later);
  EXPECT_EQ(v.command, get_k);
  EXPECT_EQ(s.redirects(), 1);
}

TEST(RedirectState, the_seventeenth_redirect_gives_up) {
  redirect_state s;
  for (int i = 0; i < redirect_state::max_redirects; ++i)
    ASSERT_EQ(s.on_error_reply("MOVED 1 127.0.0.1:7000", get_k, "h").what, action::follow_moved);
  EXPECT_EQ(s.on_error_reply("MOVED 1 127.0.0.1:7000", get_k, "h").what, action::give_up);
  EXPECT_EQ(s.on_unsent(get_k).what, action::give_up);
  // An ordinary reply is still delivered.
  EXPECT_EQ(s.on_error_reply("WRONGTYPE x", get_k, "h").what, action::deliver);
}

}  // namespace
}  // namespace uredis::cluster

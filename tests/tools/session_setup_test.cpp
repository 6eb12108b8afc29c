// session_setup: what uredis-cli replays on every reconnect, and the commands that change it.

#include "session_setup.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "uredis/resp/encoder.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace {

using uredis::cli::replay_step;
using uredis::cli::session_setup;
using words = std::vector<std::string>;

TEST(SessionSetup, NothingToReplayByDefault) {
  EXPECT_TRUE(session_setup{}.commands().empty());
}

TEST(SessionSetup, CommandsInRedisClisOrder) {
  session_setup s;
  s.user = "alice";
  s.password = "pw";
  s.db = 3;
  s.resp3 = true;
  EXPECT_EQ(s.commands(),
            (std::vector<words>{{"AUTH", "alice", "pw"}, {"SELECT", "3"}, {"HELLO", "3"}}));
  s.user.reset();
  EXPECT_EQ(s.commands().front(), (words{"AUTH", "pw"}));
}

TEST(SessionSetup, SucceededCommandsChangeIt) {
  session_setup s;
  EXPECT_TRUE(s.apply(words{"select", "5"}));
  EXPECT_EQ(s.db, 5);
  EXPECT_TRUE(s.apply(words{"AUTH", "secret"}));
  EXPECT_EQ(s.password, "secret");
  EXPECT_FALSE(s.user.has_value());
  EXPECT_TRUE(s.apply(words{"AUTH", "bob", "pw2"}));
  EXPECT_EQ(s.user, "bob");
  EXPECT_EQ(s.password, "pw2");
  EXPECT_TRUE(s.apply(words{"HELLO", "3", "AUTH", "carol", "pw3", "SETNAME", "x"}));
  EXPECT_TRUE(s.resp3);
  EXPECT_EQ(s.user, "carol");
  EXPECT_EQ(s.password, "pw3");
  EXPECT_TRUE(s.apply(words{"hello", "2"}));
  EXPECT_FALSE(s.resp3);
}

TEST(SessionSetup, OtherCommandsAndOtherAritiesDoNot) {
  session_setup s;
  for (const words& w : {words{"GET", "k"}, words{"SELECT"}, words{"SELECT", "1", "2"},
                         words{"AUTH"}, words{"AUTH", "a", "b", "c"}, words{"HELLO"}, words{}}) {
    EXPECT_FALSE(session_setup::changes_setup(w));
    EXPECT_FALSE(s.apply(w));
  }
  EXPECT_TRUE(s.commands().empty());
  // A SELECT the server accepted always has a number; anything else leaves the db alone.
  s.db = 4;
  s.apply(words{"SELECT", "x"});
  EXPECT_EQ(s.db, 4);
}

TEST(SessionSetup, TheReplayStepWritesTheCommandsAndFailsOnAnErrorReply) {
  session_setup s;
  replay_step step{s};
  uredis::util::byte_buffer out;
  uredis::resp::encoder e{out};
  EXPECT_EQ(step.write(e, {}, uredis::proto::resp_version::resp2), 0u);
  EXPECT_EQ(out.data(), "");

  s.password = "pw";
  s.db = 2;
  EXPECT_EQ(step.write(e, {}, uredis::proto::resp_version::resp2), 2u);
  EXPECT_EQ(out.data(), "*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n");

  uredis::resp::node ok;
  ok.type = uredis::resp::type::simple_string;
  ok.value = "OK";
  EXPECT_TRUE(step.on_node(ok, 0).has_value());
  uredis::resp::node refused;
  refused.type = uredis::resp::type::simple_error;
  refused.value = "WRONGPASS invalid username-password pair";
  const uredis::result<void> r = step.on_node(refused, 1);
  ASSERT_TRUE(r.has_server_error());
  EXPECT_EQ(r.server_error().message, "WRONGPASS invalid username-password pair");
  // An error inside an aggregate (HELLO's map) is not the reply's.
  refused.depth = 1;
  EXPECT_TRUE(step.on_node(refused, 0).has_value());
}

}  // namespace

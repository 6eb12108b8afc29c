// subscriptions with no server: the registry, message routing by channel and pattern, handlers
// that change the registry while they run, and the handshake step that subscribes again, fed
// canned bytes in RESP3 and RESP2.

#include "uredis/proto/subscriptions.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "allocation_counter.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/proto/handshake.hpp"
#include "uredis/proto/push_router.hpp"
#include "uredis/resp/parser.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis::proto {
namespace {

using family = subscription_family;

std::string text(const pubsub_message& m) {
  return std::string(m.pattern) + "|" + std::string(m.channel) + "|" + std::string(m.payload);
}

pubsub_message msg(std::string_view channel, std::string_view payload) {
  return {push_kind::message, {}, channel, payload};
}

TEST(Subscriptions, RoutesMessagesByChannelPatternAndShardChannel) {
  subscriptions subs;
  std::vector<std::string> log;
  subs.add(family::channel, "a", [&](const pubsub_message& m) { log.push_back("a " + text(m)); });
  subs.add(family::pattern, "a*", [&](const pubsub_message& m) { log.push_back("p " + text(m)); });
  subs.add(family::shard, "a", [&](const pubsub_message& m) { log.push_back("s " + text(m)); });
  EXPECT_EQ(subs.size(), 3u);
  subs.on_message(msg("a", "1"));
  subs.on_message({push_kind::pmessage, "a*", "ab", "2"});
  subs.on_message({push_kind::smessage, {}, "a", "3"});
  subs.on_message(msg("b", "nobody"));
  subs.on_message({push_kind::pmessage, "b*", "bc", "nobody"});
  EXPECT_EQ(log, (std::vector<std::string>{"a |a|1", "p a*|ab|2", "s |a|3"}));
  EXPECT_EQ(subs.delivered(), 3u);
  EXPECT_EQ(subs.unrouted(), 2u);
}

TEST(Subscriptions, AddingANameAgainReplacesItsHandlerAndRemoveForgetsIt) {
  subscriptions subs;
  std::vector<std::string> log;
  subs.add(family::channel, "a", [&](const pubsub_message&) { log.push_back("first"); });
  subs.add(family::channel, "a", [&](const pubsub_message&) { log.push_back("second"); });
  EXPECT_EQ(subs.size(), 1u);
  subs.on_message(msg("a", ""));
  EXPECT_TRUE(subs.remove(family::channel, "a"));
  EXPECT_FALSE(subs.remove(family::channel, "a"));
  EXPECT_FALSE(subs.contains(family::channel, "a"));
  subs.on_message(msg("a", ""));
  EXPECT_EQ(log, (std::vector<std::string>{"second"}));
  EXPECT_EQ(subs.size(), 0u);
}

// Feeds every push frame in `bytes` to `router`, as a pipeline would.
void route(push_router& router, std::string_view bytes) {
  resp::parser parser;
  std::size_t at = 0;
  resp::node n;
  for (;;) {
    const resp::step s = parser.next(bytes.substr(at), n);
    ASSERT_NE(s.status, resp::outcome::error);
    if (s.status == resp::outcome::need_more) return;
    at += s.consumed;
    router.on_node(n);
    if (parser.done()) router.finish();
  }
}

TEST(Subscriptions, AShardChannelTheServerDropsIsUnregisteredAndReported) {
  // Redis 7 sends ">3 sunsubscribe ch count" by itself when ch's slot moves to another node.
  subscriptions subs;
  push_router router;
  router.set_subscription_hook(&subs);
  std::vector<std::string> dropped;
  subs.on_shard_channel_dropped([&](std::string_view ch) { dropped.emplace_back(ch); });
  subs.add(family::shard, "{a}x", [](const pubsub_message&) {});
  subs.add(family::shard, "{a}y", [](const pubsub_message&) {});
  subs.add(family::channel, "{a}x", [](const pubsub_message&) {});
  route(router, ">3\r\n$12\r\nsunsubscribe\r\n$4\r\n{a}x\r\n:1\r\n");
  EXPECT_EQ(dropped, (std::vector<std::string>{"{a}x"}));
  EXPECT_FALSE(subs.contains(family::shard, "{a}x"));
  EXPECT_TRUE(subs.contains(family::shard, "{a}y"));
  EXPECT_TRUE(subs.contains(family::channel, "{a}x"));  // another family: untouched
  // The confirmation of an SUNSUBSCRIBE the client sent (the name is gone already), a plain
  // unsubscribe and a null channel report nothing.
  subs.remove(family::shard, "{a}y");
  route(router,
        ">3\r\n$12\r\nsunsubscribe\r\n$4\r\n{a}y\r\n:0\r\n"
        ">3\r\n$11\r\nunsubscribe\r\n$4\r\n{a}x\r\n:0\r\n"
        ">3\r\n$12\r\nsunsubscribe\r\n_\r\n:0\r\n");
  EXPECT_EQ(dropped.size(), 1u);
  EXPECT_TRUE(subs.contains(family::channel, "{a}x"));
}

// The confirmation of an SUNSUBSCRIBE still on its way is not a drop, even when the channel was
// registered again before it came; once that SUNSUBSCRIBE is done, the next one is.
TEST(Subscriptions, TheConfirmationOfAnUnsubscribeOnItsWayIsNotADrop) {
  subscriptions subs;
  push_router router;
  router.set_subscription_hook(&subs);
  std::vector<std::string> dropped;
  subs.on_shard_channel_dropped([&](std::string_view ch) { dropped.emplace_back(ch); });
  subs.add(family::shard, "x", [](const pubsub_message&) {});
  subs.unsubscribe_sent("x");
  subs.remove(family::shard, "x");
  subs.add(family::shard, "x", [](const pubsub_message&) {});  // SSUBSCRIBE x, right behind
  route(router, ">3\r\n$12\r\nsunsubscribe\r\n$1\r\nx\r\n:0\r\n");
  EXPECT_TRUE(dropped.empty());
  EXPECT_TRUE(subs.contains(family::shard, "x"));
  subs.unsubscribe_done("x");
  route(router, ">3\r\n$12\r\nsunsubscribe\r\n$1\r\nx\r\n:0\r\n");  // a slot moved
  EXPECT_EQ(dropped, (std::vector<std::string>{"x"}));
  EXPECT_FALSE(subs.contains(family::shard, "x"));
}

TEST(Subscriptions, AHandlerMayRemoveOrReplaceItselfAndAddOthersWhileItRuns) {
  subscriptions subs;
  std::vector<std::string> log;
  subs.add(family::channel, "self", [&](const pubsub_message& m) {
    log.push_back("self " + std::string(m.payload));
    EXPECT_TRUE(subs.remove(family::channel, "self"));
    EXPECT_FALSE(subs.contains(family::channel, "self"));
    EXPECT_EQ(subs.size(), 0u);
    // Many names: the table rehashes under the running handler, which must not move.
    for (int i = 0; i < 100; ++i)
      subs.add(family::channel, "other" + std::to_string(i), [](const pubsub_message&) {});
  });
  subs.on_message(msg("self", "1"));
  subs.on_message(msg("self", "2"));
  EXPECT_EQ(log, (std::vector<std::string>{"self 1"}));
  EXPECT_EQ(subs.size(), 100u);

  subs.add(family::channel, "swap", [&](const pubsub_message&) {
    log.push_back("old");
    subs.add(family::channel, "swap", [&](const pubsub_message&) { log.push_back("new"); });
  });
  subs.on_message(msg("swap", ""));
  subs.on_message(msg("swap", ""));
  EXPECT_EQ(log, (std::vector<std::string>{"self 1", "old", "new"}));

  // Removed, then added back, while it runs: it stays, with the new handler.
  subs.add(family::channel, "back", [&](const pubsub_message&) {
    log.push_back("back");
    subs.remove(family::channel, "back");
    subs.add(family::channel, "back", [&](const pubsub_message&) { log.push_back("again"); });
  });
  subs.on_message(msg("back", ""));
  subs.on_message(msg("back", ""));
  EXPECT_EQ(log, (std::vector<std::string>{"self 1", "old", "new", "back", "again"}));
}

TEST(Subscriptions, AHandlerMayDestroyThemWhileItRuns) {
  auto subs = std::make_unique<subscriptions>();
  int calls = 0;
  subs->add(family::channel, "last", [&](const pubsub_message&) {
    ++calls;
    subs.reset();  // a "wait for one message" helper: its owner goes (ASan checks the rest)
  });
  subs->on_message(msg("last", ""));
  EXPECT_EQ(subs, nullptr);
  EXPECT_EQ(calls, 1);
}

TEST(Subscriptions, DeliveringAMessageAllocatesNothing) {
  subscriptions subs;
  std::size_t bytes = 0;
  subs.add(family::channel, "a-long-channel-name-beyond-the-small-string-buffer",
           [&](const pubsub_message& m) { bytes += m.payload.size(); });
  subs.add(family::pattern, "p*", [&](const pubsub_message& m) { bytes += m.payload.size(); });
  const dev::allocation_scope scope;
  for (int i = 0; i < 1000; ++i) {
    subs.on_message(msg("a-long-channel-name-beyond-the-small-string-buffer", "xy"));
    subs.on_message({push_kind::pmessage, "p*", "pq", "z"});
    subs.on_message(msg("unknown", "z"));
  }
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(bytes, 3000u);
}

TEST(Subscriptions, EncodesOneCommandPerRequest) {
  util::byte_buffer out;
  resp::encoder e{out};
  subscription_command{family::pattern, true, "p*"}.encode(e);
  subscription_command{family::shard, false, "s"}.encode(e);
  EXPECT_EQ(out.data(),
            "*2\r\n$10\r\nPSUBSCRIBE\r\n$2\r\np*\r\n*2\r\n$12\r\nSUNSUBSCRIBE\r\n$1\r\ns\r\n");
}

// --- The handshake step ---

const std::string no_setinfo = "-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.\r\n";

std::string bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}
// A confirmation or a message: a push in RESP3, an array in RESP2.
std::string frame(char head, std::vector<std::string> parts) {
  std::string s = head + std::to_string(parts.size()) + "\r\n";
  for (const std::string& p : parts)
    s += p;
  return s;
}

class SubscriptionsHandshake : public ::testing::Test {
 protected:
  SubscriptionsHandshake() {
    subs.add(family::channel, "ch", [&](const pubsub_message& m) { log.push_back(text(m)); });
    subs.add(family::pattern, "p*", [&](const pubsub_message& m) { log.push_back(text(m)); });
    router.set_subscription_hook(&subs);
    steps.push_back(subs);
  }

  std::string start(resp_version protocol) {
    params.protocol = protocol;
    hs.set_pubsub_arrays(true);
    hs.start(params, steps, encoder, &router);
    std::string written(out.data());
    out.clear();
    return written;
  }

  handshake_status feed(std::string_view bytes) {
    std::size_t consumed = 0;
    return hs.on_bytes(bytes, consumed, encoder);
  }

  event::dispatcher events;
  subscriptions subs{&events, 7};
  std::vector<std::string> log;
  std::vector<event::subscriptions_restored> restored;
  event::listener<event::subscriptions_restored> on_restored{
      events, [this](const event::subscriptions_restored& e) { restored.push_back(e); }};
  push_router router;
  handshake_step_list steps;
  handshake_params params;
  handshake hs;
  util::byte_buffer out;
  resp::encoder encoder{out};
};

TEST_F(SubscriptionsHandshake, Resp3ResubscribesEverythingThenPingsAndReportsWhatCameBack) {
  const std::string written = start(resp_version::resp3);
  const std::string resubscribe =
      "*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\nch\r\n*2\r\n$10\r\nPSUBSCRIBE\r\n$2\r\np*\r\n"
      "*1\r\n$4\r\nPING\r\n";
  EXPECT_NE(written.find(resubscribe), std::string::npos) << written;

  const std::string hello = "%1\r\n$5\r\nproto\r\n:3\r\n";
  const std::string replies =
      hello + no_setinfo + no_setinfo + frame('>', {bulk("subscribe"), bulk("ch"), ":1\r\n"}) +
      frame('>', {bulk("psubscribe"), bulk("p*"), ":2\r\n"}) +
      frame('>', {bulk("message"), bulk("ch"), bulk("early")}) + "+PONG\r\n" + "+PONG\r\n";
  EXPECT_EQ(feed(replies), handshake_status::done);
  EXPECT_EQ(log, (std::vector<std::string>{"|ch|early"}));
  ASSERT_EQ(restored.size(), 1u);
  EXPECT_EQ(restored[0].connection_id, 7u);
  EXPECT_EQ(restored[0].restored, 2u);
  EXPECT_EQ(subs.restored(), 2u);
}

TEST_F(SubscriptionsHandshake, Resp2ReadsConfirmationsAndMessagesAsPushesAmongTheReplies) {
  const std::string written = start(resp_version::resp2);
  EXPECT_NE(written.find("SUBSCRIBE"), std::string::npos);
  const std::string replies =
      no_setinfo + no_setinfo + frame('*', {bulk("subscribe"), bulk("ch"), ":1\r\n"}) +
      frame('*', {bulk("message"), bulk("ch"), bulk("between")}) +
      frame('*', {bulk("psubscribe"), bulk("p*"), ":2\r\n"}) +
      frame('*', {bulk("pmessage"), bulk("p*"), bulk("pq"), bulk("x")}) +
      frame('*', {bulk("pong"), bulk("")}) + frame('*', {bulk("pong"), bulk("")});
  // Byte by byte: a held array header survives every cut.
  std::string buffer;
  handshake_status status = handshake_status::in_progress;
  for (const char c : replies) {
    buffer.push_back(c);
    std::size_t consumed = 0;
    status = hs.on_bytes(buffer, consumed, encoder);
    ASSERT_NE(status, handshake_status::failed) << hs.failure().error().message();
    buffer.erase(0, consumed);
  }
  EXPECT_EQ(status, handshake_status::done);
  EXPECT_EQ(log, (std::vector<std::string>{"|ch|between", "p*|pq|x"}));
  ASSERT_EQ(restored.size(), 1u);
  EXPECT_EQ(restored[0].restored, 2u);
}

TEST_F(SubscriptionsHandshake, ARefusedResubscriptionFailsTheHandshakeWithTheServersError) {
  start(resp_version::resp2);
  EXPECT_EQ(feed(no_setinfo + no_setinfo + "-NOPERM no access to channel 'ch'\r\n"),
            handshake_status::failed);
  ASSERT_TRUE(hs.failure().has_server_error());
  EXPECT_EQ(hs.failure().server_error().kind, server_error_kind::noperm);
  EXPECT_TRUE(restored.empty());
}

// SSUBSCRIBE takes the shard channels of one slot only (a cluster node answers CROSSSLOT
// otherwise, even for slots it all serves): a reconnect resubscribes them slot by slot.
TEST_F(SubscriptionsHandshake, ShardChannelsAreResubscribedOneSlotPerCommand) {
  subs.remove(family::channel, "ch");
  subs.remove(family::pattern, "p*");
  for (const char* name : {"{b}z", "{a}y", "{a}x"})
    subs.add(family::shard, name, [](const pubsub_message&) {});
  const std::string written = start(resp_version::resp3);
  const std::string a = "*3\r\n$10\r\nSSUBSCRIBE\r\n$4\r\n{a}x\r\n$4\r\n{a}y\r\n";
  const std::string b = "*2\r\n$10\r\nSSUBSCRIBE\r\n$4\r\n{b}z\r\n";
  EXPECT_NE(written.find(a), std::string::npos) << written;
  EXPECT_NE(written.find(b), std::string::npos) << written;
  const std::string hello = "%1\r\n$5\r\nproto\r\n:3\r\n";
  const std::string replies =
      hello + no_setinfo + no_setinfo + frame('>', {bulk("ssubscribe"), bulk("{a}x"), ":1\r\n"}) +
      frame('>', {bulk("ssubscribe"), bulk("{a}y"), ":2\r\n"}) +
      frame('>', {bulk("ssubscribe"), bulk("{b}z"), ":1\r\n"}) + "+PONG\r\n" + "+PONG\r\n";
  EXPECT_EQ(feed(replies), handshake_status::done);
  EXPECT_EQ(subs.restored(), 3u);
}

TEST_F(SubscriptionsHandshake, NothingSubscribedWritesNothing) {
  subs.remove(family::channel, "ch");
  subs.remove(family::pattern, "p*");
  const std::string written = start(resp_version::resp3);
  EXPECT_EQ(written.find("SUBSCRIBE"), std::string::npos);
  EXPECT_EQ(written.find("PING"), written.rfind("PING"));  // the handshake's own only
}

}  // namespace
}  // namespace uredis::proto

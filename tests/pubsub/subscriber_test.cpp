// The subscriber against real servers: messages published by another client reach the right
// handlers in order, in RESP3 and RESP2; subscriptions come back after a restart and after
// CLIENT KILL; a million messages allocate nothing.

#include "uredis/pubsub/subscriber.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/redis_server.hpp"
#include "allocation_counter.hpp"
#include "uredis/cmd/pubsub.hpp"
#include "uredis/cmd/raw.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/resp/reply.hpp"

namespace uredis::pubsub {
namespace {

using proto::resp_version;
using test::config_for;
using test::make_reactor;

connection_config config_with(const test::redis_server& server, resp_version protocol) {
  connection_config c = config_for(server);
  c.protocol = protocol;
  return c;
}

std::string describe(const message& m) {
  std::string s = std::string(m.channel) + "=" + std::string(m.payload);
  if (!m.pattern.empty()) s = std::string(m.pattern) + ":" + s;
  return s;
}

std::string what(const result<void>& r) {
  if (r) return "ok";
  return r.has_server_error() ? r.server_error().message : r.error().message();
}

// Runs the reactor until `done` (a result<void> that a callback sets) has arrived.
void wait_for(reactor::reactor& r, const std::optional<result<void>>& done) {
  r.run_until([&] { return done.has_value(); });
}

void connect(reactor::reactor& r, connection& c) {
  std::optional<result<void>> done;
  c.connect([&](const result<void>& o) { done = o; });
  wait_for(r, done);
  ASSERT_TRUE(*done) << what(*done);
}

// A second connection that publishes, and counts the subscribers each message reached.
struct publisher {
  publisher(reactor::reactor& r, const test::redis_server& server)
      : reactor(r), conn(r, config_for(server)) {
    pubsub::connect(r, conn);
  }
  // Publishes and waits until the server has taken every message.
  void publish(const std::vector<std::pair<std::string, std::string>>& messages) {
    std::size_t answered = 0;
    for (const auto& [channel, payload] : messages)
      conn.exec(cmd::publish{channel, payload}, [&](result<std::int64_t> n) {
        EXPECT_TRUE(n) << n.error().message();
        ++answered;
      });
    reactor.run_until([&] { return answered == messages.size(); });
  }
  reactor::reactor& reactor;
  connection conn;
};

class Subscriber : public ::testing::TestWithParam<resp_version> {};

TEST_P(Subscriber, MessagesReachTheRightHandlersInOrder) {
  test::redis_server server;
  auto r = make_reactor();
  subscriber sub{*r, config_with(server, GetParam())};
  connect(*r, sub.conn());
  std::vector<std::string> a, b, p;
  std::optional<result<void>> done_a, done_b, done_p;
  sub.subscribe(
      "a", [&](const message& m) { a.push_back(describe(m)); },
      [&](const result<void>& o) { done_a = o; });
  sub.subscribe(
      "b", [&](const message& m) { b.push_back(describe(m)); },
      [&](const result<void>& o) { done_b = o; });
  sub.psubscribe(
      "news.*", [&](const message& m) { p.push_back(describe(m)); },
      [&](const result<void>& o) { done_p = o; });
  std::vector<std::string> shard;
  std::optional<result<void>> done_s;
  sub.ssubscribe(
      "orders", [&](const message& m) { shard.push_back(describe(m)); },
      [&](const result<void>& o) { done_s = o; });
  r->run_until([&] { return done_a && done_b && done_p && done_s; });
  ASSERT_TRUE(*done_a && *done_b && *done_p && *done_s)
      << what(*done_a) << what(*done_b) << what(*done_p) << what(*done_s);
  EXPECT_EQ(sub.conn().protocol(), GetParam() == resp_version::resp3 ? 3 : 2);

  publisher pub{*r, server};
  pub.publish({{"a", "1"}, {"b", "x"}, {"news.sport", "goal"}, {"a", "2"}, {"c", "nobody"}});
  bool spublished = false;
  pub.conn.exec(cmd::raw<std::int64_t>{"SPUBLISH", "orders", "o1"}, [&](result<std::int64_t> n) {
    EXPECT_TRUE(n && *n == 1);
    spublished = true;
  });
  r->run_until([&] {
    return a.size() == 2 && b.size() == 1 && p.size() == 1 && shard.size() == 1 && spublished;
  });
  EXPECT_EQ(a, (std::vector<std::string>{"a=1", "a=2"}));
  EXPECT_EQ(b, (std::vector<std::string>{"b=x"}));
  EXPECT_EQ(p, (std::vector<std::string>{"news.*:news.sport=goal"}));
  EXPECT_EQ(shard, (std::vector<std::string>{"orders=o1"}));
  EXPECT_EQ(sub.subscriptions().size(), 4u);
}

TEST_P(Subscriber, UnsubscribeStopsDeliveryAtOnce) {
  test::redis_server server;
  auto r = make_reactor();
  subscriber sub{*r, config_with(server, GetParam())};
  connect(*r, sub.conn());
  std::vector<std::string> a, b;
  std::optional<result<void>> subscribed, unsubscribed;
  sub.subscribe("a", [&](const message& m) { a.push_back(describe(m)); });
  sub.subscribe(
      "b", [&](const message& m) { b.push_back(describe(m)); },
      [&](const result<void>& o) { subscribed = o; });
  wait_for(*r, subscribed);

  publisher pub{*r, server};
  pub.publish({{"a", "1"}, {"b", "1"}});
  r->run_until([&] { return a.size() == 1 && b.size() == 1; });
  sub.unsubscribe("a", [&](const result<void>& o) { unsubscribed = o; });
  EXPECT_FALSE(sub.subscriptions().contains(proto::subscription_family::channel, "a"));
  wait_for(*r, unsubscribed);
  ASSERT_TRUE(*unsubscribed) << what(*unsubscribed);
  pub.publish({{"a", "2"}, {"b", "2"}});
  r->run_until([&] { return b.size() == 2; });
  EXPECT_EQ(a, (std::vector<std::string>{"a=1"}));
  // The server agrees: "a" has no subscriber left, "b" has one.
  EXPECT_EQ(server.command({"PUBSUB", "NUMSUB", "a", "b"}),
            "*4\r\n$1\r\na\r\n:0\r\n$1\r\nb\r\n:1\r\n");
}

// SUNSUBSCRIBE then SSUBSCRIBE of the same shard channel, the second before the first's
// confirmation: that confirmation is the client's own, not the server dropping the channel
// (which Redis announces the same way when a slot moves), so the channel stays registered and
// its messages keep arriving.
TEST_P(Subscriber, AShardChannelSubscribedAgainAtOnceKeepsItsMessages) {
  test::redis_server server;
  auto r = make_reactor();
  subscriber sub{*r, config_with(server, GetParam())};
  connect(*r, sub.conn());
  std::vector<std::string> got;
  std::optional<result<void>> first, again;
  sub.ssubscribe(
      "orders", [](const message&) {}, [&](const result<void>& o) { first = o; });
  wait_for(*r, first);
  ASSERT_TRUE(*first) << what(*first);
  sub.sunsubscribe("orders");
  sub.ssubscribe(
      "orders", [&](const message& m) { got.push_back(describe(m)); },
      [&](const result<void>& o) { again = o; });
  wait_for(*r, again);
  ASSERT_TRUE(*again) << what(*again);
  EXPECT_TRUE(sub.subscriptions().contains(proto::subscription_family::shard, "orders"));

  publisher pub{*r, server};
  bool published = false;
  pub.conn.exec(cmd::raw<std::int64_t>{"SPUBLISH", "orders", "o1"}, [&](result<std::int64_t> n) {
    EXPECT_TRUE(n && *n == 1);
    published = true;
  });
  EXPECT_TRUE(test::run_until(
      *r, [&] { return published && !got.empty(); }, std::chrono::seconds(5)));
  EXPECT_EQ(got, (std::vector<std::string>{"orders=o1"}));
}

TEST_P(Subscriber, AHandlerMayUnsubscribeItself) {
  test::redis_server server;
  auto r = make_reactor();
  subscriber sub{*r, config_with(server, GetParam())};
  connect(*r, sub.conn());
  int once = 0;
  std::optional<result<void>> subscribed;
  sub.subscribe(
      "once",
      [&](const message&) {
        ++once;
        sub.unsubscribe("once");
      },
      [&](const result<void>& o) { subscribed = o; });
  wait_for(*r, subscribed);
  publisher pub{*r, server};
  pub.publish({{"once", "1"}, {"once", "2"}, {"once", "3"}});
  r->run_until([&] { return sub.subscriptions().unrouted() + once == 3; });
  EXPECT_EQ(once, 1);
  EXPECT_EQ(sub.subscriptions().size(), 0u);
}

TEST_P(Subscriber, AHandlerMayDestroyItsSubscriber) {
  test::redis_server server;
  auto r = make_reactor();
  auto sub = std::make_unique<subscriber>(*r, config_with(server, GetParam()));
  connect(*r, sub->conn());
  std::optional<result<void>> subscribed;
  std::string got;
  sub->subscribe(
      "once",
      [&](const message& m) {
        got = std::string(m.payload);
        sub.reset();  // its dedicated connection goes with it
      },
      [&](const result<void>& o) { subscribed = o; });
  wait_for(*r, subscribed);
  publisher pub{*r, server};
  pub.publish({{"once", "first"}, {"once", "second"}});
  r->run_until([&] { return sub == nullptr; });
  EXPECT_EQ(got, "first");
  test::run_for(*r, std::chrono::milliseconds(20));  // the rest arrives at nobody: no crash
}

INSTANTIATE_TEST_SUITE_P(Protocols, Subscriber,
                         ::testing::Values(resp_version::resp3, resp_version::resp2));

TEST(SubscriberResp3, SharesItsConnectionWithOrdinaryCommands) {
  test::redis_server server;
  auto r = make_reactor();
  connection conn{*r, config_for(server)};
  connect(*r, conn);
  subscriber sub{conn};
  std::vector<std::string> got;
  std::optional<result<void>> subscribed;
  sub.subscribe(
      "ch", [&](const message& m) { got.push_back(std::string(m.payload)); },
      [&](const result<void>& o) { subscribed = o; });
  wait_for(*r, subscribed);

  // Commands on the subscribed connection, with messages arriving between their replies.
  publisher pub{*r, server};
  constexpr int rounds = 200;
  int replies = 0;
  for (int i = 0; i < rounds; ++i) {
    const std::string value = std::to_string(i);
    pub.conn.exec(cmd::publish{"ch", value}, [](result<std::int64_t>) {});
    conn.exec(cmd::incr{"n"}, [&, i](result<std::int64_t> n) {
      ASSERT_TRUE(n) << n.error().message();
      EXPECT_EQ(*n, i + 1);
      ++replies;
    });
  }
  r->run_until([&] { return replies == rounds && got.size() == rounds; });
  for (int i = 0; i < rounds; ++i)
    EXPECT_EQ(got[static_cast<std::size_t>(i)], std::to_string(i));
}

// After a subscriber of channels "a" and "b" on `conn` is gone: the connection still answers
// a command, and the server publishes "a" and "b" to nobody.
void expect_working_and_nothing_subscribed(reactor::reactor& r, connection& conn,
                                           test::redis_server& server) {
  std::optional<result<std::int64_t>> n;
  conn.exec(cmd::incr{"n"}, [&](result<std::int64_t> v) { n = v; });
  ASSERT_TRUE(test::run_until(
      r, [&] { return n.has_value(); }, std::chrono::seconds(5)));
  ASSERT_TRUE(*n);
  EXPECT_EQ(server.command({"PUBSUB", "NUMSUB", "a", "b"}),
            "*4\r\n$1\r\na\r\n:0\r\n$1\r\nb\r\n:0\r\n");
  EXPECT_TRUE(conn.ready());
}

TEST(SubscriberResp3, DestroyedWithRequestsInFlightLeavesTheConnectionWorking) {
  test::redis_server server;
  auto r = make_reactor();
  connection conn{*r, config_for(server)};
  connect(*r, conn);
  bool called = false;
  {
    subscriber sub{conn};
    std::optional<result<void>> subscribed;
    sub.subscribe(
        "a", [](const message&) {}, [&](const result<void>& o) { subscribed = o; });
    wait_for(*r, subscribed);
    sub.subscribe(
        "b", [](const message&) {}, [&](const result<void>&) { called = true; });
  }  // gone with "b" in flight: its confirmation finds nobody, and "a" is unsubscribed
  expect_working_and_nothing_subscribed(*r, conn, server);
  EXPECT_FALSE(called);
}

// The same while the shared connection is reconnecting: a SUBSCRIBE queued for the new socket
// still goes out there, so the UNSUBSCRIBEs are queued behind it, and nothing stays subscribed
// with nobody to read it.
TEST(SubscriberResp3, DestroyedWhileItsConnectionReconnectsLeavesNothingSubscribed) {
  test::redis_server server;
  auto r = make_reactor();
  connection conn{*r, config_for(server)};
  connect(*r, conn);
  {
    subscriber sub{conn};
    std::optional<result<void>> subscribed;
    sub.subscribe(
        "a", [](const message&) {}, [&](const result<void>& o) { subscribed = o; });
    wait_for(*r, subscribed);
    server.command({"CLIENT", "KILL", "TYPE", "pubsub"});
    ASSERT_TRUE(test::run_until(
        *r, [&] { return !conn.ready(); }, std::chrono::seconds(5)));
    sub.subscribe("b", [](const message&) {});  // waits for the new socket
  }
  expect_working_and_nothing_subscribed(*r, conn, server);
}

TEST(SubscriberResp3, AHandlerMayDestroyASubscriberOnASharedConnection) {
  test::redis_server server;
  auto r = make_reactor();
  connection conn{*r, config_for(server)};
  connect(*r, conn);
  auto sub = std::make_unique<subscriber>(conn);
  std::optional<result<void>> subscribed;
  sub->subscribe(
      "once", [&](const message&) { sub.reset(); }, [&](const result<void>& o) { subscribed = o; });
  wait_for(*r, subscribed);
  publisher pub{*r, server};
  pub.publish({{"once", "1"}, {"once", "2"}});
  r->run_until([&] { return sub == nullptr; });
  // The connection goes on, and the server hears the subscriber is gone.
  std::optional<result<std::int64_t>> n;
  conn.exec(cmd::incr{"n"}, [&](result<std::int64_t> v) { n = v; });
  r->run_until([&] { return n.has_value(); });
  ASSERT_TRUE(*n);
  EXPECT_EQ(server.command({"PUBSUB", "NUMSUB", "once"}), "*2\r\n$4\r\nonce\r\n:0\r\n");
}

TEST(SubscriberResp3, SubscribingOnAnIdleConnectionFailsAtOnce) {
  auto r = make_reactor();
  connection conn{*r, connection_config{}};
  subscriber sub{conn};
  std::optional<result<void>> subscribed;
  sub.subscribe(
      "a", [](const message&) {}, [&](const result<void>& o) { subscribed = o; });
  ASSERT_TRUE(subscribed.has_value());
  ASSERT_TRUE(subscribed->has_error());
  EXPECT_EQ(subscribed->error(), make_error_code(errc::not_connected));
  EXPECT_EQ(sub.subscriptions().size(), 0u);
}

TEST(SubscriberResp3, SubscribingThroughExecIsRefusedUnsentWithAClearError) {
  test::redis_server server;
  auto r = make_reactor();
  connection conn{*r, config_for(server)};
  connect(*r, conn);
  for (const char* name : {"SUBSCRIBE", "psubscribe", "SUNSUBSCRIBE", "monitor"}) {
    std::optional<result<resp::reply>> got;
    conn.exec(cmd::raw<resp::reply>{name, "x"}, [&](result<resp::reply> v) { got = std::move(v); });
    ASSERT_TRUE(got.has_value()) << name;  // at once
    ASSERT_TRUE(got->has_error()) << name;
    EXPECT_EQ(got->error(), make_error_code(errc::not_one_reply)) << name;
  }
  std::optional<result<std::int64_t>> n;
  conn.exec(cmd::incr{"n"}, [&](result<std::int64_t> v) { n = v; });
  r->run_until([&] { return n.has_value(); });
  ASSERT_TRUE(*n);
  EXPECT_EQ(**n, 1);  // nothing else was sent: the connection is in step
}

TEST(SubscriberResp3, ASubscribeThatTimedOutStaysRegisteredAndItsMessagesArrive) {
  test::redis_server server;
  auto r = make_reactor();
  connection_config config = config_for(server);
  config.command_timeout = std::chrono::milliseconds(50);
  subscriber sub{*r, config};
  connect(*r, sub.conn());
  publisher pub{*r, server};
  // The server sleeps: the SUBSCRIBE times out on our side, and runs when the server wakes.
  std::optional<result<std::int64_t>> slept;
  pub.conn.exec(cmd::raw<std::int64_t>{"DEBUG", "SLEEP", "0.3"},
                [&](result<std::int64_t> v) { slept = v; }, {.timeout = std::chrono::seconds(5)});
  test::run_for(*r, std::chrono::milliseconds(20));
  std::vector<std::string> got;
  std::optional<result<void>> subscribed;
  sub.subscribe(
      "late", [&](const message& m) { got.push_back(std::string(m.payload)); },
      [&](const result<void>& o) { subscribed = o; });
  wait_for(*r, subscribed);
  ASSERT_TRUE(subscribed->has_error());
  EXPECT_EQ(subscribed->error(), make_error_code(errc::timeout));
  EXPECT_TRUE(sub.subscriptions().contains(proto::subscription_family::channel, "late"));
  r->run_until([&] { return slept.has_value(); });
  pub.publish({{"late", "after"}});
  r->run_until([&] { return !got.empty(); });
  EXPECT_EQ(got, (std::vector<std::string>{"after"}));
}

TEST(SubscriberResp2, TheConnectionRefusesOtherCommandsUnsent) {
  test::redis_server server;
  auto r = make_reactor();
  subscriber sub{*r, config_with(server, resp_version::resp2)};
  connect(*r, sub.conn());
  std::optional<result<void>> subscribed;
  sub.subscribe(
      "ch", [](const message&) {}, [&](const result<void>& o) { subscribed = o; });
  wait_for(*r, subscribed);
  std::optional<result<std::optional<std::string>>> get;
  sub.conn().exec(cmd::get{"k"}, [&](result<std::optional<std::string>> v) { get = v; });
  ASSERT_TRUE(get.has_value());  // at once: never sent
  EXPECT_EQ(get->error(), make_error_code(errc::subscriber_only));
  // PING is one of the commands a subscribed RESP2 connection takes.
  // (Its reply is ["pong", ""] there, not +PONG: read as any reply.)
  std::optional<result<resp::reply>> pong;
  sub.conn().exec(cmd::raw<resp::reply>{"PING"},
                  [&](result<resp::reply> v) { pong = std::move(v); });
  r->run_until([&] { return pong.has_value(); });
  ASSERT_TRUE(*pong) << pong->error().message();
  ASSERT_EQ((*pong)->elements().size(), 2u);
  EXPECT_EQ((*pong)->elements()[0].text(), "pong");
  EXPECT_TRUE(sub.conn().ready());
}

TEST(SubscriberAcl, ASubscriptionTheServerRefusesIsReportedAndForgotten) {
  test::redis_server server;
  server.command({"ACL", "SETUSER", "limited", "on", ">pw", "~*", "&allowed", "+@all"});
  auto r = make_reactor();
  connection_config config = config_for(server);
  config.username = "limited";
  config.password = "pw";
  subscriber sub{*r, config};
  connect(*r, sub.conn());
  std::optional<result<void>> refused, allowed;
  sub.subscribe(
      "forbidden", [](const message&) {}, [&](const result<void>& o) { refused = o; });
  sub.subscribe(
      "allowed", [](const message&) {}, [&](const result<void>& o) { allowed = o; });
  r->run_until([&] { return refused && allowed; });
  ASSERT_TRUE(refused->has_server_error()) << what(*refused);
  EXPECT_EQ(refused->server_error().kind, server_error_kind::noperm);
  EXPECT_TRUE(*allowed) << what(*allowed);
  EXPECT_FALSE(sub.subscriptions().contains(proto::subscription_family::channel, "forbidden"));
  EXPECT_TRUE(sub.subscriptions().contains(proto::subscription_family::channel, "allowed"));
  EXPECT_TRUE(sub.conn().ready());
}

// A server without HELLO (Redis 5, or HELLO renamed away) answers a RESP3 connection in RESP2:
// the shared connection becomes subscriber-only. Its reconnects ask for RESP2 at once, so the
// subscriptions restored come after SELECT and CLIENT SETNAME, which a subscribed RESP2
// connection would refuse.
TEST(SubscriberResp3, AServerWithoutHelloTurnsTheSharedConnectionSubscriberOnly) {
  test::redis_server_options options;
  options.args = {"--rename-command", "HELLO", ""};
  test::redis_server server(options);
  auto r = make_reactor();
  connection_config config = config_with(server, resp_version::resp3);
  config.db = 2;
  config.client_name = "named";
  connection conn{*r, config};
  std::uint32_t handshake_failures = 0;
  event::listener<event::handshake_failed> on_failure{
      r->events(), [&](const event::handshake_failed&) { ++handshake_failures; }};
  connect(*r, conn);
  subscriber sub{conn};
  std::vector<std::string> got;
  std::optional<result<void>> subscribed;
  sub.subscribe(
      "ch", [&](const message& m) { got.push_back(describe(m)); },
      [&](const result<void>& o) { subscribed = o; });
  wait_for(*r, subscribed);
  ASSERT_TRUE(*subscribed) << what(*subscribed);
  std::optional<result<std::optional<std::string>>> get;
  conn.exec(cmd::get{"k"}, [&](result<std::optional<std::string>> v) { get = v; });
  ASSERT_TRUE(get.has_value());
  EXPECT_EQ(get->error(), make_error_code(errc::subscriber_only));

  server.command({"CLIENT", "KILL", "TYPE", "pubsub"});
  r->run_until([&] { return handshake_failures > 0 || (conn.reconnects() == 1 && conn.ready()); });
  ASSERT_EQ(handshake_failures, 0u);
  publisher pub{*r, server};
  pub.publish({{"ch", "after"}});
  r->run_until([&] { return got.size() == 1; });
  EXPECT_EQ(got, (std::vector<std::string>{"ch=after"}));
  const std::string clients = server.command({"CLIENT", "LIST", "TYPE", "pubsub"});
  EXPECT_NE(clients.find("name=named"), std::string::npos) << clients;
  EXPECT_NE(clients.find("db=2"), std::string::npos) << clients;
}

// --- Recovery: one server per protocol, restarted and CLIENT KILLed ---

class SubscriberRecovery : public ::testing::TestWithParam<resp_version> {};

TEST_P(SubscriberRecovery, SubscriptionsComeBackAfterARestartAndAClientKill) {
  test::redis_server server;
  auto r = make_reactor();
  subscriber sub{*r, config_with(server, GetParam())};
  std::uint32_t restored_events = 0, restored = 0;
  event::listener<event::subscriptions_restored> on_restored{
      r->events(), [&](const event::subscriptions_restored& e) {
        ++restored_events;
        restored = e.restored;
      }};
  connect(*r, sub.conn());
  std::vector<std::string> got;
  std::optional<result<void>> s1, s2;
  sub.subscribe(
      "ch", [&](const message& m) { got.push_back(describe(m)); },
      [&](const result<void>& o) { s1 = o; });
  sub.psubscribe(
      "p*", [&](const message& m) { got.push_back(describe(m)); },
      [&](const result<void>& o) { s2 = o; });
  r->run_until([&] { return s1 && s2; });

  auto publish_and_expect = [&](const std::string& tag) {
    got.clear();
    publisher pub{*r, server};
    pub.publish({{"ch", tag}, {"px", tag}});
    r->run_until([&] { return got.size() == 2; });
    EXPECT_EQ(got, (std::vector<std::string>{"ch=" + tag, "p*:px=" + tag}));
  };
  publish_and_expect("before");

  server.kill();
  server.start();
  r->run_until([&] { return restored_events == 1 && sub.conn().ready(); });
  EXPECT_EQ(restored, 2u);
  publish_and_expect("after-restart");

  server.command({"CLIENT", "KILL", "TYPE", "pubsub"});
  r->run_until([&] { return restored_events == 2 && sub.conn().ready(); });
  EXPECT_EQ(restored, 2u);
  publish_and_expect("after-kill");
  EXPECT_EQ(sub.conn().reconnects(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Protocols, SubscriberRecovery,
                         ::testing::Values(resp_version::resp3, resp_version::resp2));

// --- A million messages, counted allocations ---

TEST(SubscriberAllocation, AMillionMessagesAllocateNothing) {
  test::redis_server server;
  auto r = make_reactor();
  subscriber sub{*r, config_for(server)};
  connect(*r, sub.conn());
  std::uint64_t received = 0, bytes = 0;
  std::optional<result<void>> subscribed;
  sub.subscribe(
      "stream",
      [&](const message& m) {
        ++received;
        bytes += m.payload.size();
      },
      [&](const result<void>& o) { subscribed = o; });
  wait_for(*r, subscribed);
  connection pub{*r, config_for(server)};
  connect(*r, pub);

  // Published in batches, each awaited by the subscriber, so no buffer on either side grows
  // after the warm-up batch.
  constexpr std::uint64_t batch = 1000;
  constexpr std::uint64_t total = 1'000'000;
  std::uint64_t published = 0, answered = 0;
  auto publish_batch = [&] {
    for (std::uint64_t i = 0; i < batch; ++i)
      pub.exec(cmd::publish{"stream", "payload-0123456789"},
               [&](result<std::int64_t>) { ++answered; });
    published += batch;
    // Both sides drained: the publisher's queue of commands never outgrows one batch.
    r->run_until([&] { return received == published && answered == published; });
  };
  // Warm-up: buffers grow to their working size (the push router's two pin buffers grow the
  // first times a message is cut by the end of a read).
  for (int i = 0; i < 10; ++i)
    publish_batch();
  const dev::allocation_scope scope;
  while (published < total)
    publish_batch();
  EXPECT_EQ(scope.allocations(), 0u) << "bytes " << scope.bytes();
  EXPECT_EQ(received, total);
  EXPECT_EQ(bytes, total * 18);
  EXPECT_EQ(sub.subscriptions().delivered(), total);
}

}  // namespace
}  // namespace uredis::pubsub

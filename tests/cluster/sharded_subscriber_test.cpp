// sharded_subscriber against one real cluster (3 primaries, 3 replicas), shared by the tests of
// this program: channels in the slots of all three primaries receive SPUBLISH, a channel follows
// its slot migrated by hand (SETSLOT/MIGRATE), and a channel follows its shard's failover. Every
// SPUBLISH is sent to the owner with a plain connection; its reply (receivers: 1) and the
// messages counted per payload check that none is delivered twice. The failover test is last.

#include "uredis/cluster/sharded_subscriber.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/parse_reply.hpp"
#include "../support/redis_cluster.hpp"
#include "../support/shared_cluster.hpp"
#include "uredis/cluster/cluster_client.hpp"
#include "uredis/cmd/pubsub.hpp"
#include "uredis/util/key_slot.hpp"

namespace uredis::cluster {
namespace {

using namespace std::chrono_literals;

std::string id_of(const test::redis_server& s) {
  return std::string(test::parse_reply(s.command({"CLUSTER", "MYID"})).text());
}

// The port of the primary serving `slot`, as the running servers say (CLUSTER SLOTS).
std::uint16_t owner_port(std::uint16_t slot) {
  for (std::size_t i = 0; i < test::shared_cluster()->size(); ++i) {
    test::redis_server& n = test::shared_cluster()->node(i);
    if (!n.running()) continue;
    const resp::reply slots = test::parse_reply(n.command({"CLUSTER", "SLOTS"}));
    for (const resp::reply& range : slots.elements()) {
      const auto& e = range.elements();
      if (e.size() < 3 || slot < e[0].integer() || slot > e[1].integer()) continue;
      return static_cast<std::uint16_t>(e[2].elements()[1].integer());
    }
  }
  return 0;
}

// Moves `slot` (no keys in it) from `from` to `to` by the SETSLOT steps, on every node.
void move_slot(std::uint16_t slot, test::redis_server& from, test::redis_server& to) {
  const std::string s = std::to_string(slot);
  ASSERT_EQ(to.command({"CLUSTER", "SETSLOT", s, "IMPORTING", id_of(from)}), "+OK\r\n");
  ASSERT_EQ(from.command({"CLUSTER", "SETSLOT", s, "MIGRATING", id_of(to)}), "+OK\r\n");
  ASSERT_EQ(to.command({"CLUSTER", "SETSLOT", s, "NODE", id_of(to)}), "+OK\r\n");
  ASSERT_EQ(from.command({"CLUSTER", "SETSLOT", s, "NODE", id_of(to)}), "+OK\r\n");
  for (std::size_t i = 0; i < test::shared_cluster()->size(); ++i) {
    test::redis_server& n = test::shared_cluster()->node(i);
    if (n.running() && &n != &from && &n != &to)
      (void)n.command({"CLUSTER", "SETSLOT", s, "NODE", id_of(to)});  // replicas may refuse
  }
}

class ShardedSubscriber : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(test::shared_cluster(), nullptr);
    r_ = test::make_reactor();
    ASSERT_NE(r_, nullptr);
    cluster_config config;
    for (std::size_t i = 0; i < test::shared_cluster()->size(); ++i)
      if (test::shared_cluster()->node(i).running())
        config.seeds.push_back({"127.0.0.1", test::shared_cluster()->node(i).port()});
    connection_config node = config.node;
    client_ = std::make_unique<cluster_client>(*r_, std::move(config));
    std::optional<result<void>> connected;
    client_->connect([&](const result<void>& r) { connected = r; });
    ASSERT_TRUE(test::run_until(
        *r_, [&] { return connected.has_value(); }, 10s));
    ASSERT_TRUE(connected->has_value());
    sub_ = std::make_unique<sharded_subscriber>(*client_, node);
  }
  void TearDown() override {
    sub_.reset();
    client_.reset();
    r_.reset();
  }

  // Subscribes `channel`, counting its messages by payload, and waits for the confirmation.
  void subscribe(const std::string& channel) {
    std::optional<result<void>> done;
    sub_->ssubscribe(
        channel,
        [this](const pubsub::message& m) {
          ++received_[std::string(m.channel) + "/" + std::string(m.payload)];
        },
        [&](const result<void>& r) { done = r; });
    ASSERT_TRUE(test::run_until(
        *r_, [&] { return done.has_value(); }, 10s));
    ASSERT_TRUE(done->has_value())
        << (done->has_error() ? done->error().message() : done->server_error().message);
  }

  // SPUBLISH on the slot's owner until a message arrives (the subscription may be moving);
  // every publish is answered with how many subscribers took it, which must be 0 or 1.
  bool published_and_received(const std::string& channel, std::chrono::milliseconds within) {
    const auto until = std::chrono::steady_clock::now() + within;
    while (std::chrono::steady_clock::now() < until) {
      const std::string payload = "m" + std::to_string(++published_);
      test::redis_server* owner =
          test::shared_cluster()->node_on_port(owner_port(util::key_slot(channel)));
      if (owner != nullptr && owner->running()) {
        const std::string reply = owner->command({"SPUBLISH", channel, payload});
        EXPECT_TRUE(reply == ":1\r\n" || reply == ":0\r\n" || reply.starts_with("-")) << reply;
        const std::string key = channel + "/" + payload;
        if (test::run_until(
                *r_, [&] { return received_.count(key) > 0; }, 200ms))
          return true;
      } else {
        test::run_for(*r_, 100ms);
      }
    }
    return false;
  }

  test::redis_server* another_primary(const test::redis_server& than) {
    test::redis_server* other = nullptr;
    for (const shard& s : client_->slots().shards()) {
      test::redis_server* p =
          test::shared_cluster()->node_on_port(client_->slots().node(s.primary).address.port);
      if (p != &than) other = p;
    }
    return other;
  }

  void expect_nothing_twice() {
    test::run_for(*r_, 100ms);
    for (const auto& [key, n] : received_)
      EXPECT_EQ(n, 1) << key;
  }

  std::unique_ptr<reactor::reactor> r_;
  std::unique_ptr<cluster_client> client_;
  std::unique_ptr<sharded_subscriber> sub_;
  std::map<std::string, int> received_;
  std::uint64_t published_ = 0;
};

TEST_F(ShardedSubscriber, channels_on_all_three_primaries_receive_their_messages) {
  // One channel in a slot of each primary.
  std::map<std::uint16_t, std::string> by_owner;
  for (int i = 0; by_owner.size() < 3 && i < 1000; ++i) {
    const std::string ch = "news:" + std::to_string(i);
    by_owner.emplace(owner_port(util::key_slot(ch)), ch);
  }
  ASSERT_EQ(by_owner.size(), 3u);
  for (const auto& [port, ch] : by_owner)
    subscribe(ch);
  EXPECT_EQ(sub_->open_nodes(), 3u);
  for (const auto& [port, ch] : by_owner) {
    EXPECT_EQ(sub_->channels().where(ch)->port, port) << ch;
    EXPECT_TRUE(published_and_received(ch, 5s)) << ch;
    // Exactly one subscriber on the owner took it: ours.
    EXPECT_EQ(test::shared_cluster()->node_on_port(port)->command({"SPUBLISH", ch, "again"}),
              ":1\r\n");
  }
  ASSERT_TRUE(test::run_until(
      *r_,
      [&] {
        for (const auto& [port, ch] : by_owner)
          if (received_.count(ch + "/again") == 0) return false;
        return true;
      },
      5s));
  // SPUBLISH through the cluster client: routed by the channel's slot, as a key.
  for (const auto& owned : by_owner) {
    const std::string& ch = owned.second;  // a lambda may not capture a structured binding
    std::optional<result<std::int64_t>> receivers;
    client_->exec(cmd::spublish{ch, "routed"},
                  [&](result<std::int64_t> r) { receivers.emplace(std::move(r)); });
    ASSERT_TRUE(test::run_until(
        *r_, [&] { return receivers.has_value(); }, 5s));
    ASSERT_TRUE(receivers->has_value());
    EXPECT_EQ(**receivers, 1) << ch;
    EXPECT_TRUE(test::run_until(
        *r_, [&] { return received_.count(ch + "/routed") > 0; }, 5s));
  }
  expect_nothing_twice();
  // Unsubscribed: the owner has no receiver any more.
  const std::string first = by_owner.begin()->second;
  std::optional<result<void>> gone;
  sub_->sunsubscribe(first, [&](const result<void>& r) { gone = r; });
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return gone.has_value(); }, 5s));
  EXPECT_EQ(test::shared_cluster()
                ->node_on_port(by_owner.begin()->first)
                ->command({"SPUBLISH", first, "x"}),
            ":0\r\n");
}

TEST_F(ShardedSubscriber, a_channel_follows_its_slot_migrated_to_another_primary) {
  const std::string ch = "{moving}:chat";
  const std::uint16_t slot = util::key_slot(ch);
  subscribe(ch);
  ASSERT_TRUE(published_and_received(ch, 5s));
  test::redis_server& from = *test::shared_cluster()->node_on_port(owner_port(slot));
  test::redis_server* to = nullptr;
  for (const shard& s : client_->slots().shards()) {
    test::redis_server* p =
        test::shared_cluster()->node_on_port(client_->slots().node(s.primary).address.port);
    if (p != &from) to = p;
  }
  ASSERT_NE(to, nullptr);
  move_slot(slot, from, *to);
  // Nobody asks: the old owner's sunsubscribe push starts the move.
  ASSERT_TRUE(test::run_until(
      *r_,
      [&] {
        const node_address* w = sub_->channels().where(ch);
        return w != nullptr && w->port == to->port();
      },
      10s));
  EXPECT_TRUE(published_and_received(ch, 5s));
  EXPECT_EQ(to->command({"SPUBLISH", ch, "after"}), ":1\r\n");
  EXPECT_EQ(from.command({"SPUBLISH", ch, "stale"}).substr(0, 6), "-MOVED");
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return received_.count(ch + "/after") > 0; }, 5s));
  EXPECT_GE(sub_->moves(), 1u);
  expect_nothing_twice();
}

TEST_F(ShardedSubscriber, an_ssubscribe_sent_to_a_stale_owner_follows_its_moved_reply) {
  // The slot moves before anyone subscribes: the client's map still names the old owner, which
  // answers SSUBSCRIBE with MOVED; the channel goes to the target without the caller knowing.
  const std::string ch = "{stale}:chat";
  const std::uint16_t slot = util::key_slot(ch);
  test::redis_server& from = *test::shared_cluster()->node_on_port(owner_port(slot));
  test::redis_server* to = another_primary(from);
  ASSERT_NE(to, nullptr);
  move_slot(slot, from, *to);
  ASSERT_EQ(client_->slots().node(client_->slots().primary_of(slot)).address.port, from.port());
  subscribe(ch);
  EXPECT_EQ(sub_->channels().where(ch)->port, to->port());
  EXPECT_EQ(to->command({"SPUBLISH", ch, "after"}), ":1\r\n");
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return received_.count(ch + "/after") > 0; }, 5s));
  EXPECT_EQ(sub_->moves(), 1u);
  expect_nothing_twice();
}

TEST_F(ShardedSubscriber, a_handler_may_replace_itself_and_unsubscribe_while_it_runs) {
  const std::string ch = "{reentrant}:chat";
  std::vector<std::string> log;
  std::optional<result<void>> done;
  sub_->ssubscribe(
      ch,
      [&](const pubsub::message& m) {
        log.push_back("first " + std::string(m.payload));
        // Replaces the running handler: the next message goes to the new one.
        sub_->ssubscribe(ch, [&](const pubsub::message& m2) {
          log.push_back("second " + std::string(m2.payload));
          sub_->sunsubscribe(ch);  // itself, while it runs
        });
      },
      [&](const result<void>& r) { done = r; });
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return done.has_value(); }, 10s));
  ASSERT_TRUE(done->has_value());
  test::redis_server& owner = *test::shared_cluster()->node_on_port(owner_port(util::key_slot(ch)));
  EXPECT_EQ(owner.command({"SPUBLISH", ch, "1"}), ":1\r\n");
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return log.size() == 1; }, 5s));
  EXPECT_EQ(owner.command({"SPUBLISH", ch, "2"}), ":1\r\n");
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return log.size() == 2; }, 5s));
  EXPECT_TRUE(test::run_until(
      *r_,
      [&] {
        return owner.command({"SPUBLISH", ch, "3"}) == ":0\r\n";
      },
      5s));
  test::run_for(*r_, 100ms);
  EXPECT_EQ(log, (std::vector<std::string>{"first 1", "second 2"}));
  EXPECT_FALSE(sub_->channels().contains(ch));
}

// Last: the cluster keeps the promoted replica.
TEST_F(ShardedSubscriber, a_channel_follows_its_shard_to_the_promoted_replica) {
  const std::string ch = "{failing}:chat";
  const std::uint16_t slot = util::key_slot(ch);
  subscribe(ch);
  ASSERT_TRUE(published_and_received(ch, 5s));
  test::redis_server& victim = *test::shared_cluster()->node_on_port(owner_port(slot));
  const std::uint16_t victim_port = victim.port();
  const auto killed_at = std::chrono::steady_clock::now();
  victim.kill();
  ASSERT_TRUE(test::run_until(
      *r_,
      [&] {
        const node_address* w = sub_->channels().where(ch);
        return w != nullptr && w->port != victim_port;
      },
      20s));
  EXPECT_TRUE(published_and_received(ch, 10s));
  std::printf("failover: channel received from the promoted replica %lld ms after the kill\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - killed_at)
                                         .count()));
  const std::uint16_t now_owner = owner_port(slot);
  EXPECT_NE(now_owner, victim_port);
  EXPECT_EQ(sub_->channels().where(ch)->port, now_owner);
  EXPECT_EQ(test::shared_cluster()->node_on_port(now_owner)->command({"SPUBLISH", ch, "after"}),
            ":1\r\n");
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return received_.count(ch + "/after") > 0; }, 5s));
  expect_nothing_twice();
}

}  // namespace
}  // namespace uredis::cluster

// The slot map and the redirect reader against a real cluster (3 primaries, 3 replicas, made
// by redis-cli --cluster create): the map read from CLUSTER SLOTS sends every key to the node
// that serves it, a wrong node's MOVED names the same owner, and a slot moved by hand is found
// through MOVED.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "../support/parse_reply.hpp"
#include "../support/redis_cluster.hpp"
#include "uredis/cluster/redirect.hpp"
#include "uredis/cluster/slot_map.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/util/key_slot.hpp"

namespace uredis::cluster {
namespace {

class LiveCluster : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = std::make_unique<test::redis_cluster>(); }
  static void TearDownTestSuite() { cluster_.reset(); }

  static slot_map read_map() {
    auto m = slot_map::from_cluster_slots(
        test::parse_reply(cluster_->node(0).command({"CLUSTER", "SLOTS"})), "127.0.0.1");
    EXPECT_TRUE(m.has_value());
    return m.has_value() ? std::move(*m) : slot_map{};
  }

  static test::redis_server& server_of(const slot_map& m, std::uint16_t node) {
    test::redis_server* s = cluster_->node_on_port(m.node(node).address.port);
    EXPECT_NE(s, nullptr);
    return *s;
  }

  static std::unique_ptr<test::redis_cluster> cluster_;
};

std::unique_ptr<test::redis_cluster> LiveCluster::cluster_;

TEST_F(LiveCluster, the_map_covers_every_slot_with_three_primaries_and_their_replicas) {
  const slot_map m = read_map();
  EXPECT_EQ(m.covered_slots(), 16384u);
  EXPECT_EQ(m.shards().size(), 3u);
  EXPECT_EQ(m.nodes().size(), 6u);
  for (const shard& s : m.shards()) {
    EXPECT_EQ(s.replicas.size(), 1u);
    EXPECT_EQ(m.node(s.primary).id.size(), 40u);
  }
}

TEST_F(LiveCluster, every_key_goes_to_the_node_that_serves_it) {
  const slot_map m = read_map();
  for (int i = 0; i < 300; ++i) {
    const std::string key = "key:" + std::to_string(i * 7919);
    const std::uint16_t owner = m.primary_of(util::key_slot(key));
    ASSERT_NE(owner, slot_map::no_node);
    const std::string reply = server_of(m, owner).command({"SET", key, "v"});
    EXPECT_EQ(reply, "+OK\r\n") << key;
  }
}

TEST_F(LiveCluster, a_wrong_node_answers_moved_to_the_owner_the_map_names) {
  const slot_map m = read_map();
  const std::string key = "{tag}:moved";
  const std::uint16_t slot = util::key_slot(key);
  const std::uint16_t owner = m.primary_of(slot);
  const std::uint16_t other = m.shards()[(m.shard_of(slot) + 1) % m.shards().size()].primary;
  const std::string reply = server_of(m, other).command({"GET", key});
  ASSERT_EQ(reply.rfind("-MOVED ", 0), 0u) << reply;
  const auto r = parse_redirect(server_error::parse(reply.substr(1, reply.size() - 3)), "");
  ASSERT_TRUE(r.has_value()) << reply;
  EXPECT_EQ(r->type, redirect::kind::moved);
  EXPECT_EQ(r->slot, slot);
  EXPECT_EQ(r->target, m.node(owner).address);
}

TEST_F(LiveCluster, a_slot_moved_by_hand_is_followed_through_moved) {
  slot_map m = read_map();
  const std::string key = "{handmoved}";
  const std::uint16_t slot = util::key_slot(key);
  const std::uint16_t from = m.primary_of(slot);
  const std::uint16_t to = m.shards()[(m.shard_of(slot) + 1) % m.shards().size()].primary;
  const std::string slot_text = std::to_string(slot);
  // An empty slot changes owner with SETSLOT NODE on both primaries (no keys to migrate).
  const std::string to_id = m.node(to).id;
  ASSERT_EQ(server_of(m, to).command({"CLUSTER", "SETSLOT", slot_text, "NODE", to_id}), "+OK\r\n");
  ASSERT_EQ(server_of(m, from).command({"CLUSTER", "SETSLOT", slot_text, "NODE", to_id}),
            "+OK\r\n");
  const std::string reply = server_of(m, from).command({"GET", key});
  ASSERT_EQ(reply.rfind("-MOVED ", 0), 0u) << reply;
  const auto r = parse_redirect(server_error::parse(reply.substr(1, reply.size() - 3)), "");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(m.repoint(r->slot, r->target), to);
  EXPECT_EQ(m.primary_of(slot), to);
  EXPECT_EQ(server_of(m, m.primary_of(slot)).command({"GET", key}), "$-1\r\n");
  // Put it back, so the other cases see the cluster as created.
  server_of(m, from).command({"CLUSTER", "SETSLOT", slot_text, "NODE", m.node(from).id});
  server_of(m, to).command({"CLUSTER", "SETSLOT", slot_text, "NODE", m.node(from).id});
  cluster_->wait_stable();
}

}  // namespace
}  // namespace uredis::cluster

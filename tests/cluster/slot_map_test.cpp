// slot_map: a CLUSTER SLOTS reply read into slot -> shard -> node, the endpoints the reply may
// leave out, replies that are not one, MOVED repointing a slot, and an ASK's target added.

#include "uredis/cluster/slot_map.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "../support/parse_reply.hpp"
#include "uredis/error.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/util/key_slot.hpp"

namespace uredis::cluster {
namespace {

std::string bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}

// One node as Redis 7 sends it: endpoint, port, id, networking metadata (empty here).
std::string node(std::string_view host, int port, std::string_view id) {
  return "*4\r\n" + bulk(host) + ":" + std::to_string(port) + "\r\n" + bulk(id) + "*0\r\n";
}

std::string range(int first, int last, const std::string& nodes, int count) {
  return "*" + std::to_string(2 + count) + "\r\n:" + std::to_string(first) +
         "\r\n:" + std::to_string(last) + "\r\n" + nodes;
}

// Three primaries, each with one replica, as `redis-cli --cluster create` lays them out.
std::string three_shards() {
  return "*3\r\n" +
         range(0, 5460, node("127.0.0.1", 30001, "a1") + node("127.0.0.1", 30005, "b2"), 2) +
         range(5461, 10922, node("127.0.0.1", 30002, "a2") + node("127.0.0.1", 30006, "b3"), 2) +
         range(10923, 16383, node("127.0.0.1", 30003, "a3") + node("127.0.0.1", 30004, "b1"), 2);
}

TEST(SlotMap, an_empty_map_serves_no_slot) {
  const slot_map m;
  EXPECT_EQ(m.primary_of(0), slot_map::no_node);
  EXPECT_EQ(m.shard_of(16383), slot_map::no_shard);
  EXPECT_EQ(m.covered_slots(), 0u);
}

TEST(SlotMap, routes_every_slot_of_three_shards_to_its_primary) {
  auto m = slot_map::from_cluster_slots(test::parse_reply(three_shards()), "127.0.0.1");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->covered_slots(), 16384u);
  ASSERT_EQ(m->nodes().size(), 6u);
  ASSERT_EQ(m->shards().size(), 3u);
  EXPECT_EQ(m->node(m->primary_of(0)).address, (node_address{"127.0.0.1", 30001}));
  EXPECT_EQ(m->node(m->primary_of(5460)).address, (node_address{"127.0.0.1", 30001}));
  EXPECT_EQ(m->node(m->primary_of(5461)).address, (node_address{"127.0.0.1", 30002}));
  EXPECT_EQ(m->node(m->primary_of(16383)).address, (node_address{"127.0.0.1", 30003}));
  EXPECT_EQ(m->node(m->primary_of(0)).id, "a1");
  // "foo" hashes to 12182: the third shard.
  EXPECT_EQ(m->node(m->primary_of(util::key_slot("foo"))).address.port, 30003);
  const shard& first = m->shards()[m->shard_of(0)];
  ASSERT_EQ(first.replicas.size(), 1u);
  EXPECT_EQ(m->node(first.replicas[0]).address.port, 30005);
}

TEST(SlotMap, a_primary_with_several_ranges_leads_one_shard) {
  const std::string bytes =
      "*2\r\n" + range(0, 99, node("h", 1, "a"), 1) + range(200, 299, node("h", 1, "a"), 1);
  auto m = slot_map::from_cluster_slots(test::parse_reply(bytes), "seed");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->shards().size(), 1u);
  EXPECT_EQ(m->nodes().size(), 1u);
  EXPECT_EQ(m->covered_slots(), 200u);
  EXPECT_EQ(m->primary_of(150), slot_map::no_node);  // a gap: nobody serves it
  EXPECT_EQ(m->primary_of(250), 0);
}

TEST(SlotMap, an_empty_or_null_endpoint_is_the_node_that_answered) {
  const std::string bytes = "*2\r\n" + range(0, 9, node("", 7001, "a"), 1) +
                            range(10, 19, "*3\r\n_\r\n:7002\r\n$1\r\nb\r\n", 1);
  auto m = slot_map::from_cluster_slots(test::parse_reply(bytes), "10.0.0.9");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->node(m->primary_of(0)).address, (node_address{"10.0.0.9", 7001}));
  EXPECT_EQ(m->node(m->primary_of(10)).address, (node_address{"10.0.0.9", 7002}));
}

TEST(SlotMap, an_unknown_endpoint_leaves_its_slots_unserved) {
  const std::string bytes = "*2\r\n" + range(0, 9, node("?", 7001, "a"), 1) +
                            range(10, 19, node("h", 7002, "b") + node("?", 7003, "c"), 2);
  auto m = slot_map::from_cluster_slots(test::parse_reply(bytes), "seed");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->primary_of(0), slot_map::no_node);
  EXPECT_NE(m->primary_of(10), slot_map::no_node);
  EXPECT_TRUE(m->shards()[m->shard_of(10)].replicas.empty());
}

TEST(SlotMap, older_servers_without_ids_are_read_too) {
  const std::string bytes = "*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n$1\r\nh\r\n:6379\r\n";
  auto m = slot_map::from_cluster_slots(test::parse_reply(bytes), "seed");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->covered_slots(), 16384u);
  EXPECT_EQ(m->node(0).id, "");
}

TEST(SlotMap, replies_that_are_not_a_slot_map_are_refused) {
  const std::string_view bad[] = {
      "+OK\r\n",                                                  // not an array
      "*1\r\n:5\r\n",                                             // a range that is not one
      "*1\r\n*2\r\n:0\r\n:1\r\n",                                 // no primary
      "*1\r\n*3\r\n:5\r\n:4\r\n*2\r\n$1\r\nh\r\n:1\r\n",          // first > last
      "*1\r\n*3\r\n:0\r\n:16384\r\n*2\r\n$1\r\nh\r\n:1\r\n",      // slot out of range
      "*1\r\n*3\r\n:-1\r\n:4\r\n*2\r\n$1\r\nh\r\n:1\r\n",         // negative slot
      "*1\r\n*3\r\n:0\r\n:4\r\n*2\r\n$1\r\nh\r\n:70000\r\n",      // not a port
      "*1\r\n*3\r\n:0\r\n:4\r\n*2\r\n$1\r\nh\r\n$4\r\n6379\r\n",  // port as a string
      "*1\r\n*3\r\n:0\r\n:4\r\n*1\r\n$1\r\nh\r\n",                // node without a port
      "*1\r\n*3\r\n:0\r\n:4\r\n*3\r\n$1\r\nh\r\n:1\r\n:9\r\n",    // id that is no string
      "*1\r\n*4\r\n:0\r\n:4\r\n*2\r\n$1\r\nh\r\n:1\r\n:3\r\n",    // replica that is no node
  };
  for (const std::string_view bytes : bad) {
    auto m = slot_map::from_cluster_slots(test::parse_reply(bytes), "seed");
    ASSERT_FALSE(m.has_value()) << bytes;
    EXPECT_EQ(m.error(), errc::cluster_topology_invalid) << bytes;
  }
}

TEST(SlotMap, moved_repoints_one_slot_and_keeps_node_indices) {
  auto m = slot_map::from_cluster_slots(test::parse_reply(three_shards()), "127.0.0.1");
  ASSERT_TRUE(m.has_value());
  const std::uint16_t before = m->primary_of(100);
  // To a known primary: the slot joins that primary's shard.
  const std::uint16_t n = m->repoint(100, node_address{"127.0.0.1", 30002});
  EXPECT_EQ(m->primary_of(100), n);
  EXPECT_EQ(m->shard_of(100), m->shard_of(6000));
  EXPECT_EQ(m->primary_of(101), before);  // only that slot moved
  // To a node never seen: added at the end, the old indices unchanged.
  const std::uint16_t added = m->repoint(101, node_address{"127.0.0.1", 30010});
  EXPECT_EQ(added, 6);
  EXPECT_EQ(m->primary_of(101), added);
  EXPECT_EQ(m->node(before).address.port, 30001);
  // To a replica (a failover the map has not seen): it leads a shard of its own.
  const std::uint16_t replica = m->repoint(102, node_address{"127.0.0.1", 30005});
  EXPECT_EQ(m->primary_of(102), replica);
  EXPECT_EQ(m->nodes().size(), 7u);
  EXPECT_EQ(m->covered_slots(), 16384u);
}

TEST(SlotMap, an_ask_target_it_did_not_list_is_added_serving_nothing) {
  auto m = slot_map::from_cluster_slots(test::parse_reply(three_shards()), "127.0.0.1");
  ASSERT_TRUE(m.has_value());
  const std::uint16_t known = m->add_ask_target(node_address{"127.0.0.1", 30002});
  EXPECT_EQ(known, m->primary_of(6000));
  const std::uint16_t added = m->add_ask_target(node_address{"127.0.0.1", 30010});
  EXPECT_EQ(added, 6);
  EXPECT_EQ(m->find(node_address{"127.0.0.1", 30010}), added);
  EXPECT_FALSE(m->is_primary(added));  // it leads no shard: no slot is routed to it
  EXPECT_EQ(m->shards().size(), 3u);
  EXPECT_EQ(m->covered_slots(), 16384u);
}

TEST(SlotMap, find_answers_by_address) {
  auto m = slot_map::from_cluster_slots(test::parse_reply(three_shards()), "127.0.0.1");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->find(node_address{"127.0.0.1", 30003}), m->primary_of(16000));
  EXPECT_EQ(m->find(node_address{"127.0.0.2", 30003}), slot_map::no_node);
}

}  // namespace
}  // namespace uredis::cluster

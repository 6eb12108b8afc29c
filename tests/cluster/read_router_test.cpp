// read_router: the node a read-only command goes to under each read policy, on slot maps built
// by hand from CLUSTER SLOTS bytes: shards with one replica, two, none; replicas skipped until
// the next topology; and which encoded commands count as read-only.

#include "uredis/cluster/read_router.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "../support/parse_reply.hpp"
#include "uredis/cluster/slot_map.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis::cluster {
namespace {

std::string bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}

std::string node(int port) {
  return "*3\r\n" + bulk("127.0.0.1") + ":" + std::to_string(port) + "\r\n" +
         bulk("id" + std::to_string(port));
}

// Slots 0-99: primary 7000 with replicas 7100 and 7101. Slots 100-199: primary 7001 with
// replica 7102. Slots 200-299: primary 7002 alone. The rest: nobody.
slot_map hand_built_map() {
  const std::string bytes =
      "*3\r\n"
      "*5\r\n:0\r\n:99\r\n" +
      node(7000) + node(7100) + node(7101) + "*4\r\n:100\r\n:199\r\n" + node(7001) + node(7102) +
      "*3\r\n:200\r\n:299\r\n" + node(7002);
  auto m = slot_map::from_cluster_slots(test::parse_reply(bytes), "127.0.0.1");
  EXPECT_TRUE(m.has_value());
  return m.has_value() ? std::move(*m) : slot_map();
}

std::uint16_t port(const slot_map& m, std::uint16_t node) {
  return node == slot_map::no_node ? 0 : m.node(node).address.port;
}

// The ports `n` reads of `slot` go to, in order.
std::vector<int> reads(read_router& r, const slot_map& m, std::uint16_t slot, read_policy p,
                       int n) {
  std::vector<int> ports;
  for (int i = 0; i < n; ++i)
    ports.push_back(port(m, r.node_for(m, slot, p)));
  return ports;
}

TEST(ReadRouter, the_map_keeps_each_ranges_replicas) {
  const slot_map m = hand_built_map();
  ASSERT_EQ(m.replicas_of(5).size(), 2u);
  EXPECT_EQ(port(m, m.replicas_of(5)[0]), 7100);
  EXPECT_EQ(port(m, m.replicas_of(5)[1]), 7101);
  ASSERT_EQ(m.replicas_of(150).size(), 1u);
  EXPECT_EQ(port(m, m.replicas_of(150)[0]), 7102);
  EXPECT_TRUE(m.replicas_of(250).empty());
  EXPECT_TRUE(m.replicas_of(1000).empty());
  EXPECT_TRUE(m.is_primary(m.primary_of(5)));
  EXPECT_FALSE(m.is_primary(m.replicas_of(5)[0]));
}

TEST(ReadRouter, primary_sends_every_read_to_the_slots_primary) {
  const slot_map m = hand_built_map();
  read_router r;
  r.reset(m);
  EXPECT_EQ(reads(r, m, 5, read_policy::primary, 3), (std::vector<int>{7000, 7000, 7000}));
  EXPECT_EQ(reads(r, m, 150, read_policy::primary, 2), (std::vector<int>{7001, 7001}));
  EXPECT_EQ(r.node_for(m, 1000, read_policy::primary), slot_map::no_node);
}

TEST(ReadRouter, prefer_replica_rotates_over_the_replicas_only) {
  const slot_map m = hand_built_map();
  read_router r;
  r.reset(m);
  EXPECT_EQ(reads(r, m, 5, read_policy::prefer_replica, 4),
            (std::vector<int>{7100, 7101, 7100, 7101}));
  EXPECT_EQ(reads(r, m, 150, read_policy::prefer_replica, 2), (std::vector<int>{7102, 7102}));
  // A shard without replicas reads from its primary; an unserved slot from nobody.
  EXPECT_EQ(reads(r, m, 250, read_policy::prefer_replica, 2), (std::vector<int>{7002, 7002}));
  EXPECT_EQ(r.node_for(m, 1000, read_policy::prefer_replica), slot_map::no_node);
}

TEST(ReadRouter, round_robin_rotates_over_the_primary_and_its_replicas) {
  const slot_map m = hand_built_map();
  read_router r;
  r.reset(m);
  EXPECT_EQ(reads(r, m, 5, read_policy::round_robin, 6),
            (std::vector<int>{7000, 7100, 7101, 7000, 7100, 7101}));
  EXPECT_EQ(reads(r, m, 150, read_policy::round_robin, 4),
            (std::vector<int>{7001, 7102, 7001, 7102}));
  EXPECT_EQ(reads(r, m, 250, read_policy::round_robin, 2), (std::vector<int>{7002, 7002}));
}

TEST(ReadRouter, a_skipped_replica_gets_no_reads_until_the_next_topology) {
  const slot_map m = hand_built_map();
  read_router r;
  r.reset(m);
  const std::uint16_t first = m.replicas_of(5)[0];
  r.skip(first);
  EXPECT_TRUE(r.skipped(first));
  EXPECT_EQ(reads(r, m, 5, read_policy::prefer_replica, 3), (std::vector<int>{7101, 7101, 7101}));
  // Its turn in the rotation goes to the primary.
  r.reset(m);
  r.skip(first);
  EXPECT_EQ(reads(r, m, 5, read_policy::round_robin, 6),
            (std::vector<int>{7000, 7000, 7101, 7000, 7000, 7101}));
  // Every replica skipped: the primary.
  r.skip(m.replicas_of(5)[1]);
  EXPECT_EQ(reads(r, m, 5, read_policy::prefer_replica, 2), (std::vector<int>{7000, 7000}));
  r.skip(m.replicas_of(150)[0]);
  EXPECT_EQ(reads(r, m, 150, read_policy::prefer_replica, 1), (std::vector<int>{7001}));
  // A new topology: everyone is back.
  r.reset(m);
  EXPECT_FALSE(r.skipped(first));
  EXPECT_EQ(reads(r, m, 5, read_policy::prefer_replica, 2), (std::vector<int>{7100, 7101}));
}

TEST(ReadRouter, policies_mixed_per_call_stay_within_the_shard) {
  const slot_map m = hand_built_map();
  read_router r;
  r.reset(m);
  std::map<int, int> seen;
  for (int i = 0; i < 30; ++i) {
    const read_policy p = i % 3 == 0   ? read_policy::round_robin
                          : i % 3 == 1 ? read_policy::prefer_replica
                                       : read_policy::primary;
    const int to = port(m, r.node_for(m, 42, p));
    ++seen[to];
    if (p == read_policy::prefer_replica) {
      EXPECT_NE(to, 7000);
    }
    if (p == read_policy::primary) {
      EXPECT_EQ(to, 7000);
    }
  }
  for (const auto& [to, n] : seen)
    EXPECT_TRUE(to == 7000 || to == 7100 || to == 7101) << to;
}

TEST(ReadRouter, a_router_without_a_topology_sends_reads_to_the_primary) {
  const slot_map m = hand_built_map();
  read_router r;  // never reset: no state for the map's shards yet
  EXPECT_EQ(port(m, r.node_for(m, 5, read_policy::prefer_replica)), 7000);
  EXPECT_EQ(port(m, r.node_for(m, 5, read_policy::round_robin)), 7000);
  r.skip(3);  // out of its range: ignored
  EXPECT_FALSE(r.skipped(3));
}

std::string encoded(std::initializer_list<std::string_view> words) {
  util::byte_buffer b;
  resp::encoder e{b};
  e.begin(words.size());
  for (const std::string_view w : words)
    e.arg(w);
  return std::string(b.data());
}

TEST(ReadRouter, read_only_commands_are_those_the_server_flags_readonly) {
  read_router r;
  EXPECT_TRUE(r.is_read_only_request(encoded({"GET", "k"})));
  EXPECT_TRUE(r.is_read_only_request(encoded({"get", "k"})));  // again, remembered
  EXPECT_TRUE(r.is_read_only_request(encoded({"HGETALL", "h"})));
  EXPECT_TRUE(r.is_read_only_request(encoded({"EVAL_RO", "return 1", "1", "k"})));
  EXPECT_TRUE(r.is_read_only_request(encoded({"EVALSHA_RO", "abc", "0"})));
  EXPECT_TRUE(r.is_read_only_request(encoded({"MGET", "a", "b"})));
  EXPECT_FALSE(r.is_read_only_request(encoded({"SET", "k", "v"})));
  EXPECT_FALSE(r.is_read_only_request(encoded({"EVAL", "return 1", "1", "k"})));
  EXPECT_FALSE(r.is_read_only_request(encoded({"EVALSHA", "abc", "0"})));
  EXPECT_FALSE(r.is_read_only_request(encoded({"GETDEL", "k"})));
  EXPECT_FALSE(r.is_read_only_request(encoded({"GETEX", "k"})));
  EXPECT_FALSE(r.is_read_only_request(encoded({"INCR", "k"})));
  EXPECT_FALSE(r.is_read_only_request(encoded({"MULTI"})));
  EXPECT_TRUE(r.is_read_only_request(encoded({"GET", "k"})));  // after a write's name
  // The verdict remembered for one head (argument count and name) is never another's.
  EXPECT_FALSE(r.is_read_only_request(encoded({"GETDEL", "k"})));
  EXPECT_TRUE(r.is_read_only_request(encoded({"GET", "k"})));
  EXPECT_FALSE(r.is_read_only_request(encoded({"GETEX", "k", "PERSIST"})));
  EXPECT_TRUE(r.is_read_only_request(encoded({"MGET", "a"})));
  EXPECT_TRUE(r.is_read_only_request(encoded({"MGET", "a", "b", "c"})));
  EXPECT_FALSE(r.is_read_only_request(encoded({"MSET", "a", "1"})));
  EXPECT_FALSE(r.is_read_only_request(encoded({"GEORADIUSBYMEMBER", "k", "m", "1", "km"})));
  EXPECT_TRUE(r.is_read_only_request(encoded({"GEORADIUSBYMEMBER_RO", "k", "m", "1", "km"})));
  EXPECT_FALSE(r.is_read_only_request("garbage"));
  EXPECT_FALSE(r.is_read_only_request(""));
}

}  // namespace
}  // namespace uredis::cluster

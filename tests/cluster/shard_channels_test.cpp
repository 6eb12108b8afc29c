// shard_channels: which shard channel goes to which primary, from hand-built slot maps: every
// channel placed on its slot's owner, only the channels of a moved slot moved, a lost channel
// placed again, an unserved slot waiting, and a MOVED reply's target taken by the map.

#include "uredis/cluster/shard_channels.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "../support/parse_reply.hpp"
#include "uredis/cluster/redirect.hpp"
#include "uredis/cluster/slot_map.hpp"
#include "uredis/error.hpp"
#include "uredis/util/key_slot.hpp"

namespace uredis::cluster {
namespace {

std::string bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}
std::string node(int port, std::string_view id) {
  return "*4\r\n" + bulk("127.0.0.1") + ":" + std::to_string(port) + "\r\n" + bulk(id) + "*0\r\n";
}
std::string range(int first, int last, const std::string& nodes) {
  return "*4\r\n:" + std::to_string(first) + "\r\n:" + std::to_string(last) + "\r\n" + nodes;
}
slot_map three_shards() {
  const std::string bytes = "*3\r\n" + range(0, 5460, node(30001, "a1") + node(30005, "b2")) +
                            range(5461, 10922, node(30002, "a2") + node(30006, "b3")) +
                            range(10923, 16383, node(30003, "a3") + node(30004, "b1"));
  return *slot_map::from_cluster_slots(test::parse_reply(bytes), "127.0.0.1");
}
node_address at(std::uint16_t port) {
  return {"127.0.0.1", port};
}

// "{a}" hashes to 15495 (third shard), "{b}" to 3300 (first), "{c}" to 7365 (second).
TEST(ShardChannels, places_each_channel_on_its_slots_primary_once) {
  ASSERT_EQ(util::key_slot("{a}x"), 15495);
  ASSERT_EQ(util::key_slot("{b}x"), 3300);
  ASSERT_EQ(util::key_slot("{c}x"), 7365);
  shard_channels c;
  c.add("{a}x");
  c.add("{b}x");
  c.add("{c}x");
  c.add("{c}x");  // again: still one
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.unplaced(), 3u);
  const slot_map map = three_shards();
  auto moves = c.plan(map);
  ASSERT_EQ(moves.size(), 3u);
  for (const auto& m : moves)
    EXPECT_FALSE(m.from.has_value()) << m.channel;
  EXPECT_EQ(*c.where("{a}x"), at(30003));
  EXPECT_EQ(*c.where("{b}x"), at(30001));
  EXPECT_EQ(*c.where("{c}x"), at(30002));
  EXPECT_EQ(c.unplaced(), 0u);
  EXPECT_TRUE(c.plan(map).empty());  // nothing changed: nothing to do
}

TEST(ShardChannels, a_moved_slot_moves_only_its_channels) {
  shard_channels c;
  c.add("{a}x");
  c.add("{a}y");
  c.add("{b}x");
  slot_map map = three_shards();
  (void)c.plan(map);
  map.repoint(util::key_slot("{a}x"), at(30001));  // slot 15495 migrated to the first primary
  const auto moves = c.plan(map);
  ASSERT_EQ(moves.size(), 2u);
  for (const auto& m : moves) {
    EXPECT_TRUE(m.channel == "{a}x" || m.channel == "{a}y") << m.channel;
    ASSERT_TRUE(m.from.has_value());
    EXPECT_EQ(*m.from, at(30003));
    EXPECT_EQ(m.to, at(30001));
  }
  EXPECT_EQ(*c.where("{b}x"), at(30001));
}

TEST(ShardChannels, a_lost_channel_is_placed_again_and_a_removed_one_says_where_it_was) {
  shard_channels c;
  c.add("{b}x");
  const slot_map map = three_shards();
  (void)c.plan(map);
  c.lost("{b}x");  // its node dropped it (a sunsubscribe push)
  EXPECT_EQ(c.where("{b}x"), nullptr);
  EXPECT_EQ(c.unplaced(), 1u);
  const auto moves = c.plan(map);
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_FALSE(moves[0].from.has_value());
  EXPECT_EQ(moves[0].to, at(30001));
  EXPECT_EQ(c.remove("{b}x"), std::optional<node_address>(at(30001)));
  EXPECT_FALSE(c.contains("{b}x"));
  EXPECT_EQ(c.remove("{b}x"), std::nullopt);
  EXPECT_TRUE(c.plan(map).empty());
}

TEST(ShardChannels, a_channel_of_an_unserved_slot_waits_for_a_map_that_serves_it) {
  shard_channels c;
  c.add("{a}x");
  EXPECT_TRUE(c.plan(slot_map{}).empty());
  EXPECT_EQ(c.unplaced(), 1u);
  EXPECT_EQ(c.plan(three_shards()).size(), 1u);
  EXPECT_EQ(c.unplaced(), 0u);
}

TEST(ShardChannels, a_moved_reply_to_ssubscribe_repoints_the_slot_it_names) {
  // What the sharded subscriber does with "-MOVED 15495 127.0.0.1:30002": the slot is repointed
  // and the channel, lost on its old node, is placed on the target.
  shard_channels c;
  c.add("{a}x");
  slot_map map = three_shards();
  (void)c.plan(map);
  const auto r = parse_redirect(server_error::parse("MOVED 15495 127.0.0.1:30002"), "127.0.0.1");
  ASSERT_TRUE(r.has_value());
  map.repoint(r->slot, r->target);
  c.lost("{a}x");
  const auto moves = c.plan(map);
  ASSERT_EQ(moves.size(), 1u);
  EXPECT_EQ(moves[0].to, at(30002));
}

}  // namespace
}  // namespace uredis::cluster

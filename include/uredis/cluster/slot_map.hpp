#pragma once
// slot_map: which node of a Redis Cluster serves each of the 16384 hash slots, as one shard of
// a cluster client sees it. Sans-I/O: it is built from a CLUSTER SLOTS reply (from_cluster_slots)
// and repointed by MOVED redirects (repoint), and nothing here talks to a server.
//
//   nodes_    every node the map knows, primaries and replicas: index -> address, id
//   shards_   one primary and its replicas (indices into nodes_)
//   slot_     slot -> shard index (no_shard: no node serves it), 32 KiB
//
// Routing is two array reads (slot -> shard -> primary) after the key's CRC16
// (util::key_slot): the per-command cost the cluster client pays. The replicas CLUSTER SLOTS
// lists after each range's primary are kept with its shard, for reads (read_router.hpp). A node
// index stays valid for the map's life (repoint and add_ask_target only add nodes), so a client
// may keep per-node state in a vector indexed the same way.
//
// An endpoint the reply leaves empty (or null) means "the node you asked", as the Redis
// documentation says: it becomes the seed's host. A node announced as "?" (unknown endpoint)
// cannot be reached: its slots stay unserved until a later refresh names it.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "uredis/resp/reply.hpp"
#include "uredis/result.hpp"
#include "uredis/util/key_slot.hpp"

namespace uredis::cluster {

struct node_address {
  std::string host;
  std::uint16_t port = 0;

  friend bool operator==(const node_address&, const node_address&) = default;
};

struct node_info {
  node_address address;
  /// The node's cluster id (40 hex characters), empty when the reply did not give it.
  std::string id;
};

/// One primary and the replicas that copy it.
struct shard {
  std::uint16_t primary = 0;
  std::vector<std::uint16_t> replicas;
};

class slot_map {
 public:
  static constexpr std::uint16_t no_shard = 0xFFFF;
  static constexpr std::uint16_t no_node = 0xFFFF;

  /// An empty map: no slot is served.
  slot_map() noexcept { slot_.fill(no_shard); }

  /// Reads a CLUSTER SLOTS reply (RESP2 or RESP3) sent by the node at `seed_host`. A reply that
  /// is not one (wrong shapes, slots out of range, a port that is not one):
  /// errc::cluster_topology_invalid.
  static result<slot_map> from_cluster_slots(const resp::reply& reply, std::string_view seed_host);

  /// The primary serving `slot`, or no_node.
  std::uint16_t primary_of(std::uint16_t slot) const noexcept {
    const std::uint16_t s = slot_[slot & (util::cluster_slots - 1)];
    return s == no_shard ? no_node : shards_[s].primary;
  }
  /// The shard serving `slot`, or no_shard.
  std::uint16_t shard_of(std::uint16_t slot) const noexcept {
    return slot_[slot & (util::cluster_slots - 1)];
  }

  /// The replicas of the shard serving `slot` (empty when none, or nobody serves it).
  std::span<const std::uint16_t> replicas_of(std::uint16_t slot) const noexcept {
    const std::uint16_t s = shard_of(slot);
    return s == no_shard ? std::span<const std::uint16_t>() : shards_[s].replicas;
  }
  /// True when `node` leads a shard (false for a replica, or a node that serves nothing).
  bool is_primary(std::uint16_t node) const noexcept;

  std::span<const node_info> nodes() const noexcept { return nodes_; }
  std::span<const shard> shards() const noexcept { return shards_; }
  const node_info& node(std::uint16_t index) const noexcept { return nodes_[index]; }

  /// The index of the node at `address`, or no_node.
  std::uint16_t find(const node_address& address) const noexcept;

  /// A MOVED redirect: `slot` is now served by the primary at `address`. Its slot moves to the
  /// shard that node leads (a new shard without replicas when it leads none; the node is added
  /// when the map did not know it). Returns the node's index.
  std::uint16_t repoint(std::uint16_t slot, const node_address& address);

  /// An ASK redirect's target: its index, the node added serving no slot when the map did not
  /// know it (CLUSTER SLOTS lists no node without slots, so a new primary importing its first
  /// slot is known only from the ASK). no_node when the map holds as many nodes as it can.
  std::uint16_t add_ask_target(const node_address& address) { return add_node(address, {}); }

  /// How many slots some node serves (16384 for a healthy cluster).
  std::size_t covered_slots() const noexcept;

 private:
  std::uint16_t add_node(node_address address, std::string id);

  std::vector<node_info> nodes_;
  std::vector<shard> shards_;
  std::array<std::uint16_t, util::cluster_slots> slot_;
};

}  // namespace uredis::cluster

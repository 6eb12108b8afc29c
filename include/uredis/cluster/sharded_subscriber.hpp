#pragma once
// sharded_subscriber: sharded Pub/Sub (SSUBSCRIBE) on a Redis Cluster. Each shard channel is
// subscribed on the primary that serves its slot (CRC16 with hash tags, as a key), through one
// pubsub::subscriber per node, opened on first use, and follows its slot when it moves:
//
//   cluster::cluster_client topology{reactor, config};       // reads and refreshes the map
//   cluster::sharded_subscriber sub{topology, config.node};  // node connections from `node`
//   sub.ssubscribe("{room1}:chat", [](const uredis::pubsub::message& m) { use(m.payload); });
//
// The topology: the cluster_client's slot map, copied when it changes (its topology_changed
// event, or a new read seen by the retry timer) and repointed here by MOVED. One topology
// reader per shard (the client's, with its coalesced, rate-limited refreshes) instead of a
// second one; the copy lets a MOVED met by SSUBSCRIBE repoint the slot without touching the
// client's map.
//
// Moves, without the caller doing anything:
//   - a slot migrated away: Redis 7 unsubscribes its channels on the old owner (a sunsubscribe
//     push), the channel is placed again by the map (after a refresh asked of the client)
//   - a MOVED reply to SSUBSCRIBE: the slot is repointed at its target, the channel goes there
//   - a node's connection fails: the client is asked for a refresh; once a replica is promoted
//     the channel is unsubscribed from the dead node and subscribed on the new primary
//   Until every channel is placed and every node connection is up, a timer re-reads the map
//   every 100 ms (asking the client to refresh it, at the client's pace).
// What the decisions are (what goes where) is shard_channels, sans-I/O.
//
// What is lost: messages published while a channel is moving (between its old owner dropping it
// and the new owner confirming it) are not delivered: Redis does not queue Pub/Sub messages.
// A message reaches the handler at most once: a message from a node the channel is no longer
// placed on is dropped, so an SPUBLISH is never delivered twice.
//
// Callbacks: ssubscribe's `done` runs once, when a node first confirms the channel (a MOVED on
// the way is followed, not reported), or with the error that stopped it (a refusal such as
// NOPERM forgets the channel). sunsubscribe's `done` runs when its node confirms (at once for a
// channel not subscribed or not placed). No message reaches a handler after its sunsubscribe.
// Handlers may (un)subscribe, themselves included, and replace their own handler while they run.
//
// Ownership: the shard's thread; the cluster_client must outlive this. Must not move.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "uredis/client/config.hpp"
#include "uredis/cluster/cluster_client.hpp"
#include "uredis/cluster/shard_channels.hpp"
#include "uredis/cluster/slot_map.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/event/events.hpp"
#include "uredis/pubsub/subscriber.hpp"
#include "uredis/reactor/timer.hpp"
#include "uredis/result.hpp"

namespace uredis::cluster {

class sharded_subscriber {
 public:
  /// Follows `topology`'s slot map; each node's connection is `node` pointed at that node.
  sharded_subscriber(cluster_client& topology, connection_config node);
  ~sharded_subscriber();
  sharded_subscriber(const sharded_subscriber&) = delete;
  sharded_subscriber& operator=(const sharded_subscriber&) = delete;

  void ssubscribe(std::string_view channel, pubsub::message_handler handler,
                  pubsub::done_callback done = {});
  void sunsubscribe(std::string_view channel, pubsub::done_callback done = {});

  /// Where each channel is subscribed.
  const shard_channels& channels() const noexcept { return channels_; }
  /// Node subscribers open now.
  std::size_t open_nodes() const noexcept { return nodes_.size(); }
  /// Channels subscribed again on another node after their slot moved.
  std::uint64_t moves() const noexcept { return moves_; }

 private:
  // A channel's handler, shared with the node subscriber's handler that calls it (which may
  // outlive its registration here while it runs).
  struct channel_entry {
    std::string name;
    pubsub::message_handler handler;
    pubsub::message_handler next;  // a replacement given while `handler` runs
    pubsub::done_callback done;    // until the first confirmation
    std::uint64_t placement = 0;   // which subscription is the live one
    bool removed = false;
    bool running = false;
  };
  struct node_subscriber {
    node_address address;
    std::unique_ptr<pubsub::subscriber> sub;
  };

  void place();
  void sync_map();
  void on_confirmed(const std::shared_ptr<channel_entry>& entry, std::uint64_t placement,
                    const result<void>& r);
  void on_dropped(const node_subscriber* from, std::string_view channel);
  void on_connection_trouble(std::uint64_t connection_id);
  void on_tick();
  void watch();
  bool settled() const;
  node_subscriber* find(const node_address& address);
  node_subscriber& open(const node_address& address);
  void connect(node_subscriber& n);

  cluster_client* topology_;
  connection_config node_;
  slot_map map_;
  std::uint64_t map_read_ = ~std::uint64_t{0};  // topology_->topology_reads() when copied
  shard_channels channels_;
  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, std::shared_ptr<channel_entry>, name_hash, std::equal_to<>>
      entries_;
  std::uint64_t next_placement_ = 1;
  std::uint64_t moves_ = 0;
  bool closing_ = false;
  reactor::timer tick_;
  event::listener<event::topology_changed> on_topology_;
  event::listener<event::disconnected> on_disconnected_;
  event::listener<event::reconnect_scheduled> on_reconnect_;
  std::vector<std::unique_ptr<node_subscriber>> nodes_;  // destroyed first
};

}  // namespace uredis::cluster

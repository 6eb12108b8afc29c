#include "uredis/cluster/sharded_subscriber.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "uredis/cluster/redirect.hpp"
#include "uredis/error.hpp"

namespace uredis::cluster {

namespace {
constexpr std::chrono::milliseconds tick_period{100};
}

sharded_subscriber::sharded_subscriber(cluster_client& topology, connection_config node)
    : topology_(&topology),
      node_(std::move(node)),
      tick_([this] { on_tick(); }),
      on_topology_(topology.loop().events(),
                   [this](const event::topology_changed&) {
                     sync_map();
                     place();
                   }),
      on_disconnected_(
          topology.loop().events(),
          [this](const event::disconnected& e) { on_connection_trouble(e.connection_id); }),
      on_reconnect_(topology.loop().events(), [this](const event::reconnect_scheduled& e) {
        on_connection_trouble(e.connection_id);
      }) {
  node_.unix_socket.clear();
}

sharded_subscriber::~sharded_subscriber() {
  closing_ = true;  // closing a node's connection emits events that must find nothing to do
  tick_.cancel();
  nodes_.clear();
}

void sharded_subscriber::ssubscribe(std::string_view channel, pubsub::message_handler handler,
                                    pubsub::done_callback done) {
  auto& entry = entries_[std::string(channel)];
  if (entry != nullptr) {  // subscribed already: a new handler, on the same placement
    if (entry->running) {
      entry->next = std::move(handler);  // the running one is replaced once it returns
    } else {
      entry->handler = std::move(handler);
    }
    if (done) done({});
    return;
  }
  entry = std::make_shared<channel_entry>();
  entry->name.assign(channel);
  entry->handler = std::move(handler);
  entry->done = std::move(done);
  channels_.add(channel);
  if (map_read_ != topology_->topology_reads()) sync_map();
  place();
  watch();
}

void sharded_subscriber::sunsubscribe(std::string_view channel, pubsub::done_callback done) {
  const auto it = entries_.find(channel);
  if (it == entries_.end()) {
    if (done) done({});
    return;
  }
  const std::shared_ptr<channel_entry> entry = std::move(it->second);
  entries_.erase(it);
  entry->removed = true;
  const std::optional<node_address> where = channels_.remove(channel);
  node_subscriber* n = where ? find(*where) : nullptr;
  if (n != nullptr) {
    n->sub->sunsubscribe(channel, std::move(done));
  } else if (done) {
    done({});
  }
}

void sharded_subscriber::sync_map() {
  map_ = topology_->slots();
  map_read_ = topology_->topology_reads();
}

// Carries out what shard_channels decides: unsubscribe where a channel was, subscribe where its
// slot's primary is now.
void sharded_subscriber::place() {
  for (shard_channels::move& m : channels_.plan(map_)) {
    const auto it = entries_.find(m.channel);
    if (it == entries_.end()) continue;
    std::shared_ptr<channel_entry> entry = it->second;
    if (m.from) {
      if (node_subscriber* old = find(*m.from)) old->sub->sunsubscribe(m.channel);
    }
    node_subscriber& to = open(m.to);
    if (!to.sub->conn().ready()) {
      // Subscribed once its connection is up (place() again), not in its handshake: there a
      // MOVED would refuse the handshake itself, and the channel could not follow it.
      channels_.lost(m.channel);
      continue;
    }
    if (entry->placement != 0) ++moves_;  // placed before: its slot moved, or its node lost it
    const std::uint64_t placement = next_placement_++;
    entry->placement = placement;
    to.sub->ssubscribe(
        m.channel,
        [entry, placement](const pubsub::message& msg) {
          if (entry->removed || entry->placement != placement) return;  // moved on: not twice
          const std::shared_ptr<channel_entry> keep = entry;  // the handler may unsubscribe
          keep->running = true;
          keep->handler(msg);
          keep->running = false;
          if (keep->next) {
            keep->handler = std::move(keep->next);
            keep->next = {};
          }
        },
        [this, entry, placement](const result<void>& r) { on_confirmed(entry, placement, r); });
  }
}

void sharded_subscriber::on_confirmed(const std::shared_ptr<channel_entry>& entry,
                                      std::uint64_t placement, const result<void>& r) {
  if (entry->removed || entry->placement != placement) return;  // a later placement answers
  if (r.has_error() && (r.error() == errc::not_connected || r.error() == errc::queue_full)) {
    // Never sent (the node's connection went down meanwhile): placed again by a later map.
    channels_.lost(entry->name);
    watch();
    return;
  }
  if (r.has_server_error()) {
    const std::optional<redirect> to = parse_redirect(r.server_error(), node_.host);
    if (to && to->type == redirect::kind::moved) {
      // Not its node: the slot moved. The MOVED is authoritative; the client's map follows.
      map_.repoint(to->slot, to->target);
      channels_.lost(entry->name);
      topology_->refresh();
      place();
      watch();
      return;
    }
    // Refused (NOPERM...): not a subscription.
    channels_.remove(entry->name);
    entry->removed = true;
    entries_.erase(entry->name);
  }
  if (entry->done) {
    pubsub::done_callback done = std::move(entry->done);
    entry->done = {};
    done(r);
  }
}

void sharded_subscriber::on_dropped(const node_subscriber* from, std::string_view channel) {
  const node_address* where = channels_.where(channel);
  if (where == nullptr || !(*where == from->address)) return;  // already moved on
  channels_.lost(channel);
  topology_->refresh();
  watch();
}

void sharded_subscriber::on_connection_trouble(std::uint64_t connection_id) {
  if (closing_) return;
  for (const auto& n : nodes_) {
    if (n->sub->conn().id() == connection_id) {
      topology_->refresh();  // has a replica taken over?
      watch();
      return;
    }
  }
}

bool sharded_subscriber::settled() const {
  if (channels_.unplaced() > 0) return false;
  return std::all_of(nodes_.begin(), nodes_.end(),
                     [](const auto& n) { return n->sub->conn().ready(); });
}

void sharded_subscriber::watch() {
  if (!tick_.armed()) topology_->loop().timers().arm_in(tick_, tick_period);
}

void sharded_subscriber::on_tick() {
  if (map_read_ != topology_->topology_reads()) sync_map();
  place();
  // Nodes that left the map with nothing subscribed on them go (a dead primary, replaced).
  // Taken out before they close: closing emits a disconnected event, which reads nodes_.
  std::vector<std::unique_ptr<node_subscriber>> gone;
  for (std::unique_ptr<node_subscriber>& n : nodes_) {
    if (n->sub->subscriptions().size() == 0 && map_.find(n->address) == slot_map::no_node)
      gone.push_back(std::move(n));
  }
  std::erase(nodes_, nullptr);
  gone.clear();
  // A node still in the map whose connection gave up (a handshake refused by a MOVED for a
  // channel just moved off it): try it again, without that channel now.
  for (const std::unique_ptr<node_subscriber>& n : nodes_) {
    const connection_state s = n->sub->conn().state();
    if ((s == connection_state::idle || s == connection_state::closed) &&
        map_.find(n->address) != slot_map::no_node)
      connect(*n);
  }
  if (settled()) return;
  topology_->refresh();
  watch();
}

sharded_subscriber::node_subscriber* sharded_subscriber::find(const node_address& address) {
  for (const auto& n : nodes_)
    if (n->address == address) return n.get();
  return nullptr;
}

void sharded_subscriber::connect(node_subscriber& n) {
  n.sub->connect([this](const result<void>& r) {
    if (closing_) return;  // the node subscribers go first when this does
    if (r.has_value()) {
      place();  // what waited for this node
    } else {
      watch();  // given up: the next map may name another node, or try this one again
    }
  });
}

sharded_subscriber::node_subscriber& sharded_subscriber::open(const node_address& address) {
  if (node_subscriber* n = find(address)) {
    const connection_state s = n->sub->conn().state();
    if (s == connection_state::idle || s == connection_state::closed) connect(*n);  // retry
    return *n;
  }
  connection_config cfg = node_;
  cfg.host = address.host;
  cfg.port = address.port;
  auto n = std::make_unique<node_subscriber>();
  n->address = address;
  n->sub = std::make_unique<pubsub::subscriber>(topology_->loop(), std::move(cfg));
  node_subscriber* raw = n.get();
  n->sub->on_shard_channel_dropped(
      [this, raw](std::string_view channel) { on_dropped(raw, channel); });
  connect(*n);
  nodes_.push_back(std::move(n));
  return *raw;
}

}  // namespace uredis::cluster

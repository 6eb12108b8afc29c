#include "uredis/cluster/slot_map.hpp"

#include <charconv>
#include <optional>

namespace uredis::cluster {
namespace {

// CLUSTER SLOTS answers, per range of slots:
//   [first slot, last slot, primary, replica...]
// and per node:
//   [endpoint, port, id?, networking metadata?]
// The endpoint is a string (null since 7.0 when it is unknown to the node); the port an integer.

std::optional<std::int64_t> integer_of(const resp::reply& r) {
  if (r.type() == resp::type::integer) return r.integer();
  return std::nullopt;
}

std::optional<std::string_view> string_of(const resp::reply& r) {
  switch (r.type()) {
    case resp::type::bulk_string:
    case resp::type::simple_string:
    case resp::type::verbatim_string:
      return r.text();
    default:
      return std::nullopt;
  }
}

struct parsed_node {
  node_address address;
  std::string id;
  bool reachable = true;
};

std::optional<parsed_node> parse_node(const resp::reply& r, std::string_view seed_host) {
  if (r.type() != resp::type::array || r.elements().size() < 2) return std::nullopt;
  const auto& e = r.elements();
  parsed_node n;
  if (e[0].is_null()) {
    n.address.host = seed_host;
  } else if (auto host = string_of(e[0])) {
    if (*host == "?") n.reachable = false;
    n.address.host = host->empty() ? seed_host : *host;
  } else {
    return std::nullopt;
  }
  const auto port = integer_of(e[1]);
  if (!port || *port < 0 || *port > 65535) return std::nullopt;
  n.address.port = static_cast<std::uint16_t>(*port);
  if (e.size() >= 3) {
    const auto id = string_of(e[2]);
    if (!id) return std::nullopt;
    n.id = *id;
  }
  return n;
}

}  // namespace

result<slot_map> slot_map::from_cluster_slots(const resp::reply& reply,
                                              std::string_view seed_host) {
  if (reply.type() != resp::type::array) return errc::cluster_topology_invalid;
  slot_map map;
  for (const resp::reply& range : reply.elements()) {
    if (range.type() != resp::type::array || range.elements().size() < 3) {
      return errc::cluster_topology_invalid;
    }
    const auto& e = range.elements();
    const auto first = integer_of(e[0]);
    const auto last = integer_of(e[1]);
    if (!first || !last || *first < 0 || *last < *first || *last >= util::cluster_slots) {
      return errc::cluster_topology_invalid;
    }
    auto primary = parse_node(e[2], seed_host);
    if (!primary) return errc::cluster_topology_invalid;
    std::vector<parsed_node> replicas;
    for (std::size_t i = 3; i < e.size(); ++i) {
      auto replica = parse_node(e[i], seed_host);
      if (!replica) return errc::cluster_topology_invalid;
      if (replica->reachable) replicas.push_back(std::move(*replica));
    }
    if (!primary->reachable) continue;  // unserved until a refresh names it

    // A primary that serves several ranges leads one shard: find it, or make it.
    const std::uint16_t p = map.add_node(std::move(primary->address), std::move(primary->id));
    if (p == no_node) return errc::cluster_topology_invalid;
    std::uint16_t s = 0;
    while (s < map.shards_.size() && map.shards_[s].primary != p)
      ++s;
    if (s == map.shards_.size()) {
      map.shards_.push_back(shard{p, {}});
      for (parsed_node& r : replicas) {
        const std::uint16_t index = map.add_node(std::move(r.address), std::move(r.id));
        if (index == no_node) return errc::cluster_topology_invalid;
        map.shards_[s].replicas.push_back(index);
      }
    }
    for (auto slot = *first; slot <= *last; ++slot)
      map.slot_[slot] = s;
  }
  return map;
}

std::uint16_t slot_map::find(const node_address& address) const noexcept {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].address == address) return static_cast<std::uint16_t>(i);
  }
  return no_node;
}

bool slot_map::is_primary(std::uint16_t node) const noexcept {
  for (const shard& s : shards_) {
    if (s.primary == node) return true;
  }
  return false;
}

std::uint16_t slot_map::add_node(node_address address, std::string id) {
  const std::uint16_t known = find(address);
  if (known != no_node) {
    if (!id.empty()) nodes_[known].id = std::move(id);
    return known;
  }
  if (nodes_.size() >= no_node) return no_node;  // more nodes than a cluster can have
  nodes_.push_back(node_info{std::move(address), std::move(id)});
  return static_cast<std::uint16_t>(nodes_.size() - 1);
}

std::uint16_t slot_map::repoint(std::uint16_t slot, const node_address& address) {
  slot &= util::cluster_slots - 1;
  const std::uint16_t n = add_node(address, {});
  if (n == no_node) return no_node;
  std::uint16_t s = 0;
  while (s < shards_.size() && shards_[s].primary != n)
    ++s;
  // A node known only as a replica now answers for the slot as its primary (a failover the
  // map has not seen yet): it leads a shard of its own until the next refresh.
  if (s == shards_.size()) shards_.push_back(shard{n, {}});
  slot_[slot] = s;
  return n;
}

std::size_t slot_map::covered_slots() const noexcept {
  std::size_t n = 0;
  for (const std::uint16_t s : slot_)
    n += s != no_shard;
  return n;
}

}  // namespace uredis::cluster

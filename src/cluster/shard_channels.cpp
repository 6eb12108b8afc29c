#include "uredis/cluster/shard_channels.hpp"

#include <algorithm>

#include "uredis/util/key_slot.hpp"

namespace uredis::cluster {

void shard_channels::add(std::string_view channel) {
  if (channels_.find(channel) != channels_.end()) return;
  channels_.emplace(std::string(channel), state{util::key_slot(channel), std::nullopt});
}

std::optional<node_address> shard_channels::remove(std::string_view channel) {
  const auto it = channels_.find(channel);
  if (it == channels_.end()) return std::nullopt;
  std::optional<node_address> was = std::move(it->second.where);
  channels_.erase(it);
  return was;
}

void shard_channels::lost(std::string_view channel) {
  const auto it = channels_.find(channel);
  if (it != channels_.end()) it->second.where.reset();
}

bool shard_channels::contains(std::string_view channel) const {
  return channels_.find(channel) != channels_.end();
}

const node_address* shard_channels::where(std::string_view channel) const {
  const auto it = channels_.find(channel);
  return it == channels_.end() || !it->second.where ? nullptr : &*it->second.where;
}

std::size_t shard_channels::unplaced() const noexcept {
  return static_cast<std::size_t>(std::count_if(channels_.begin(), channels_.end(),
                                                [](const auto& c) { return !c.second.where; }));
}

std::vector<shard_channels::move> shard_channels::plan(const slot_map& map) {
  std::vector<move> moves;
  for (auto& [name, s] : channels_) {
    const std::uint16_t owner = map.primary_of(s.slot);
    if (owner == slot_map::no_node) continue;  // nobody to ask yet: a later map will say
    const node_address& to = map.node(owner).address;
    if (s.where && *s.where == to) continue;
    moves.push_back({name, s.where, to});
    s.where = to;
  }
  return moves;
}

}  // namespace uredis::cluster

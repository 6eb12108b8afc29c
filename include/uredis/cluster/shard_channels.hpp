#pragma once
// shard_channels: where each shard channel of a cluster sharded subscriber is subscribed, and
// what to move when the topology says otherwise. Sans-I/O: it sends nothing; the subscriber
// carries out the moves plan() returns.
//
//   add(channel)       registered, not placed yet
//   plan(map)          every channel whose slot's primary is not where it is subscribed (or that
//                      is not subscribed anywhere) gets a move {from, to}; it counts as placed on
//                      `to` from then on. A channel whose slot nobody serves stays where it is.
//   lost(channel)      the node no longer has it (the server dropped it when its slot moved, a
//                      MOVED refused it): not placed, so the next plan() places it again
//   remove(channel)    forgotten; where it was is returned so it can be unsubscribed there
//
// A channel's slot is its CRC16 with hash tags (util::key_slot), as for a key.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "uredis/cluster/slot_map.hpp"

namespace uredis::cluster {

class shard_channels {
 public:
  struct move {
    std::string channel;
    std::optional<node_address> from;  // none: it was subscribed nowhere
    node_address to;
  };

  /// Registers `channel` (not placed). Adding a registered channel changes nothing.
  void add(std::string_view channel);
  /// Forgets `channel`; returns where it was placed (none: nowhere, or it was not registered).
  std::optional<node_address> remove(std::string_view channel);
  /// `channel` is subscribed nowhere now.
  void lost(std::string_view channel);

  bool contains(std::string_view channel) const;
  /// Where `channel` is placed, or null.
  const node_address* where(std::string_view channel) const;
  std::size_t size() const noexcept { return channels_.size(); }
  /// Channels placed nowhere.
  std::size_t unplaced() const noexcept;

  /// The moves that make every channel subscribed on its slot's primary in `map`.
  std::vector<move> plan(const slot_map& map);

 private:
  struct name_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  struct state {
    std::uint16_t slot = 0;
    std::optional<node_address> where;
  };
  std::unordered_map<std::string, state, name_hash, std::equal_to<>> channels_;
};

}  // namespace uredis::cluster

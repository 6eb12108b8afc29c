#pragma once
// read_router: which node of a slot's shard a cluster client sends a read-only command to, by
// read policy, as a small sans-I/O value beside the slot map (slot_map.hpp). It knows nothing
// of connections: the client tells it which replicas to skip.
//
//   primary          the slot's primary (what writes, transactions and scripts always get)
//   prefer_replica   the shard's replicas in turn, skipping those marked; the primary when the
//                    shard has none left (or none at all)
//   round_robin      primary, replica 1, replica 2, ..., primary, ...; a marked replica's turn
//                    goes to the primary
//
// A replica is skipped (skip()) from the moment its connection fails, or it answers a read
// with a redirect (it was removed, or lost READONLY), until the next topology (reset()): its
// reads go to the primary meanwhile, so a dead replica costs a read at most one resend.
//
// Which commands are read-only: retry::is_read_only(name) (retry/retry_policy.hpp), the list
// of commands the server flags "readonly", which the session already trusts to resend a read
// whose reply was lost. is_read_only_request() reads the name from the encoded command.
// Keyless commands are not routed here (they go to the primaries in turn).
//
// Consistency: a replica copies its primary asynchronously. A read sent to a replica may not
// see a write the same client made a moment before (no read-your-writes), and two reads may
// see the state go back in time when they land on different nodes. Keep policy primary (or
// exec_options::reads = primary for one call) where that matters.
//
// Cost: two array reads more than the primary's lookup, and a cursor per shard; nothing
// allocates per command (the vectors are sized by reset()).

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "uredis/cluster/slot_map.hpp"
#include "uredis/proto/exec_options.hpp"

namespace uredis::cluster {

using read_policy = proto::read_policy;

class read_router {
 public:
  /// The node serving a read-only command for `slot` under `policy`, or slot_map::no_node when
  /// nobody serves the slot.
  std::uint16_t node_for(const slot_map& map, std::uint16_t slot, read_policy policy) noexcept {
    const std::uint16_t s = map.shard_of(slot);
    if (s == slot_map::no_shard) return slot_map::no_node;
    const shard& sh = map.shards()[s];
    if (policy == read_policy::primary || sh.replicas.empty() || s >= cursor_.size())
      return sh.primary;
    return pick(sh, cursor_[s], policy);
  }

  /// A new topology: every replica usable again, turns back at the start. Sizes the state for
  /// `map` (a map grown by MOVED since routes its new shards to their primary).
  void reset(const slot_map& map);

  /// Reads stop going to `node` until the next reset().
  void skip(std::uint16_t node) noexcept {
    if (node < skipped_.size()) skipped_[node] = 1;
  }
  bool skipped(std::uint16_t node) const noexcept {
    return node < skipped_.size() && skipped_[node] != 0;
  }

  /// True when `request` (one encoded command) only reads: its name is on
  /// retry::is_read_only's list. Remembers the verdict on the last command's head (its
  /// argument count and name, "*2\r\n$3\r\nGET\r\n"): a client's reads are mostly one
  /// command, and comparing a few bytes is cheaper than reading the name and searching.
  bool is_read_only_request(std::string_view request) noexcept {
    if (last_head_size_ != 0 && request.size() >= last_head_size_ &&
        std::memcmp(request.data(), last_head_, last_head_size_) == 0)
      return last_read_only_;
    return look_up(request);
  }

 private:
  std::uint16_t pick(const shard& sh, std::uint16_t& cursor, read_policy policy) noexcept {
    const std::size_t n = sh.replicas.size();
    if (policy == read_policy::round_robin) {
      // Turn 0 is the primary's, turn i the replica i-1's.
      const std::size_t turn = cursor <= n ? cursor : 0;
      cursor = static_cast<std::uint16_t>(turn == n ? 0 : turn + 1);
      if (turn == 0) return sh.primary;
      const std::uint16_t replica = sh.replicas[turn - 1];
      return skipped(replica) ? sh.primary : replica;
    }
    // prefer_replica: the next replica not skipped, from the cursor on.
    const std::size_t start = cursor < n ? cursor : 0;
    for (std::size_t k = 0; k < n; ++k) {
      std::size_t i = start + k;
      if (i >= n) i -= n;
      const std::uint16_t replica = sh.replicas[i];
      if (skipped(replica)) continue;
      cursor = static_cast<std::uint16_t>(i + 1 == n ? 0 : i + 1);
      return replica;
    }
    return sh.primary;
  }
  bool look_up(std::string_view request) noexcept;

  std::vector<std::uint8_t> skipped_;  // by node index
  std::vector<std::uint16_t> cursor_;  // by shard: whose turn is next
  // "*NN\r\n$20\r\nGEORADIUSBYMEMBER_RO\r\n" (the longest name) is 34 bytes.
  static constexpr std::size_t head_capacity = 40;
  char last_head_[head_capacity] = {};
  std::uint8_t last_head_size_ = 0;  // 0: nothing remembered
  bool last_read_only_ = false;
};

}  // namespace uredis::cluster

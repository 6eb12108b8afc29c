#pragma once
// replicas: reading `SENTINEL replicas <service>` and choosing which replica a connection goes
// to next, with no I/O (the locator, sentinel/primary_locator.hpp, asks and connects).
//
// The answer is an array with one element per replica the Sentinel knows, each a RESP2 flat
// array of field names and values or a RESP3 map:
//
//   *1  *N  "name" "127.0.0.1:6380"  "ip" "127.0.0.1"  "port" "6380"  "flags" "slave,s_down" ...
//
// parse_replicas() keeps ip, port and whether the replica is usable: its comma-separated flags
// hold none of s_down, o_down, disconnected (a replica the Sentinel cannot reach, or thinks
// down, would fail the connect or serve stale data). Everything else is ignored. The list comes
// back in address order, so a rotation's turn names the same replica from one answer to the
// next whatever order the Sentinel's dictionary walked them in.
//
// replica_rotation: round robin over the usable replicas of successive answers, starting at a
// turn the caller picks (at random: connections of many processes then spread over the
// replicas), as redis-py's rotate_slaves does. No usable replica: null, and the caller falls
// back to the primary.

#include <cstdint>
#include <vector>

#include "uredis/client/address_provider.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/result.hpp"

namespace uredis::sentinel {

struct replica {
  endpoint address;
  /// Flagged neither s_down, o_down nor disconnected.
  bool usable = false;

  friend bool operator==(const replica&, const replica&) = default;
};

/// SENTINEL replicas' answer (an error reply is the caller's to tell apart, before), sorted by
/// address. Not an array, an element that is neither a flat array of an even count of strings
/// nor a map of strings, a missing or empty ip, a port outside 1..65535, no flags:
/// errc::sentinel_reply_invalid.
result<std::vector<replica>> parse_replicas(const resp::reply& answer);

class replica_rotation {
 public:
  /// `start`: the first turn (taken modulo the number of usable replicas then).
  explicit replica_rotation(std::uint64_t start) noexcept : turn_(start) {}

  /// The usable replica after the one picked last, or null when none is usable. The answer
  /// points into `replicas`.
  const endpoint* next(const std::vector<replica>& replicas) noexcept;

 private:
  std::uint64_t turn_;
  bool started_ = false;
};

}  // namespace uredis::sentinel

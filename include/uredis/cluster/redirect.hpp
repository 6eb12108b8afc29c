#pragma once
// redirect: what a MOVED or ASK error reply tells a cluster client.
//
//   "MOVED 3999 127.0.0.1:6381"  slot 3999 is served by 127.0.0.1:6381 from now on: repoint the
//                                slot map and resend there
//   "ASK 3999 127.0.0.1:6381"    slot 3999 is migrating: send this one command (after ASKING)
//                                to 127.0.0.1:6381, without changing the map
//
// The endpoint is split at its last ':', so an IPv6 address (sent without brackets) keeps its
// colons. An empty endpoint (":6381") means the node that replied, as in CLUSTER SLOTS.

#include <cstdint>
#include <optional>
#include <string_view>

#include "uredis/cluster/slot_map.hpp"
#include "uredis/error.hpp"

namespace uredis::cluster {

struct redirect {
  enum class kind : std::uint8_t { moved, ask };
  kind type = kind::moved;
  std::uint16_t slot = 0;
  node_address target;

  friend bool operator==(const redirect&, const redirect&) = default;
};

/// The redirect an error reply carries, or nullopt when it is not a well-formed MOVED or ASK
/// (a malformed one is then handled as the plain server error it is). `replying_host` fills in
/// an empty endpoint.
std::optional<redirect> parse_redirect(const server_error& error, std::string_view replying_host);

}  // namespace uredis::cluster

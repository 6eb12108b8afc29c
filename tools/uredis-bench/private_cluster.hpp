#pragma once
// private_cluster: a throw-away Redis Cluster of three primaries (no replicas) for --cluster
// runs given no -h/-p. Three private_servers (each in its own temporary directory, persistence
// off) with cluster-enabled yes, joined by `redis-cli --cluster create --cluster-yes` (from
// PATH), which spreads the 16384 slots over them; start() returns once every node reports
// cluster_state:ok. The destructor stops the servers and removes their directories.
//
// Invariant: after start() succeeds, every slot is served and seed_port() is one primary.

#include <array>
#include <cstdint>
#include <string>

#include "private_server.hpp"

namespace uredis::bench {

class private_cluster {
 public:
  static constexpr std::size_t primaries = 3;

  /// Starts the nodes and makes them a cluster; on failure returns false and sets `error`.
  bool start(std::string& error);
  /// A node to read the topology from.
  std::uint16_t seed_port() const noexcept { return nodes_[0].port(); }

 private:
  std::array<private_server, primaries> nodes_;
};

}  // namespace uredis::bench

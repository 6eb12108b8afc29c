#pragma once
// cluster_config: what a cluster client (cluster_client.hpp) needs, as a plain struct: where to
// find the cluster, and one connection_config that every node's connection copies (password,
// ACL user, TLS, protocol, timeouts, retry policy), with its host and port replaced by the
// node's.

#include <chrono>
#include <vector>

#include "uredis/client/config.hpp"
#include "uredis/cluster/read_router.hpp"
#include "uredis/cluster/refresh_schedule.hpp"
#include "uredis/cluster/slot_map.hpp"
#include "uredis/retry/backoff.hpp"

namespace uredis::cluster {

struct cluster_config {
  /// Nodes to read the topology from first (any node of the cluster will do); tried in turn.
  std::vector<node_address> seeds;
  /// The template of every node's connection: host and port are the node's; the rest applies
  /// to all (and unix_socket is ignored).
  connection_config node;
  /// Where read-only commands go (read_router.hpp): primary (every command to the slot's
  /// primary), prefer_replica or round_robin. Replica reads are eventually consistent: a read
  /// may not see the client's own write of a moment before. exec_options::reads overrides it
  /// per call.
  read_policy reads = read_policy::primary;
  /// When CLUSTER SLOTS is read again after a MOVED, a node failure or CLUSTERDOWN.
  refresh_options refresh;
  /// How long a CLUSTER SLOTS may take before the next node is asked.
  std::chrono::milliseconds refresh_timeout{1000};
  /// The wait before a command that met TRYAGAIN or CLUSTERDOWN, or whose node failed before
  /// it was sent, is routed again, by its number of redirects so far.
  retry::backoff retry_backoff = retry::backoff::exponential_with_jitter(
      std::chrono::milliseconds(10), std::chrono::milliseconds(500));
};

}  // namespace uredis::cluster

#pragma once
// A real Redis Cluster for integration tests: `primaries` redis-servers with `replicas_each`
// replicas apiece, on free loopback ports in temporary directories, joined by
// `redis-cli --cluster create --cluster-yes` and ready (cluster_state:ok on every node, every
// node agreeing on who serves every slot) when the constructor returns. Stopped when the object
// dies. Share one per test program: creating one takes a few seconds.
//
// Nodes keep their nodes.conf across kill()/start() (redis_server restarts in place), so a
// killed primary comes back as a member of the cluster.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "redis_server.hpp"

namespace uredis::test {

struct redis_cluster_options {
  std::size_t primaries = 3;
  std::size_t replicas_each = 1;
  /// cluster-node-timeout: how long a node may be unreachable before its replica takes over.
  std::chrono::milliseconds node_timeout{2000};
  /// Extra configuration for every node, as redis-server command-line pairs.
  std::vector<std::string> args;
};

class redis_cluster {
 public:
  /// Starts and joins the nodes; throws std::runtime_error (with redis-cli's output) on failure.
  explicit redis_cluster(redis_cluster_options options = {});

  std::size_t size() const noexcept { return nodes_.size(); }
  redis_server& node(std::size_t i) { return *nodes_[i]; }
  /// The node listening on `port`, or nullptr.
  redis_server* node_on_port(std::uint16_t port);
  /// "127.0.0.1:PORT" of node 0, a seed for clients.
  std::string seed() const;

  /// Waits until every running node reports cluster_state:ok and they all answer CLUSTER SLOTS
  /// with the same primaries; throws after `timeout`.
  void wait_stable(std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  redis_cluster_options options_;
  std::vector<std::unique_ptr<redis_server>> nodes_;
};

}  // namespace uredis::test

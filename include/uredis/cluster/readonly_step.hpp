#pragma once
// readonly_step: the handshake step (proto/handshake_step.hpp) that sends READONLY on a
// cluster node's connection, on every connect and reconnect: a replica serves reads of its
// primary's slots only to a connection that said READONLY, and a new socket starts without it
// (a replica then answers MOVED, which sends the read to the primary). READONLY is harmless on
// a primary, which is why a client reading from replicas registers it on every node's
// connection: a primary may become a replica after a failover, its connection unchanged.
//
// The reply must be +OK; an error reply (a server without cluster support) fails the
// handshake with the server's error. The step keeps no state: one step serves one connection
// at a time (its hook), for as long as it is registered there.

#include <cstddef>

#include "uredis/proto/handshake_step.hpp"

namespace uredis::cluster {

class readonly_step final : public proto::handshake_step {
 public:
  readonly_step() = default;

  std::size_t write(resp::encoder& out, const proto::handshake_params& params,
                    proto::resp_version protocol) override;
  result<void> on_node(const resp::node& n, std::size_t reply) override;
};

}  // namespace uredis::cluster

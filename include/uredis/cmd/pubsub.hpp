#pragma once
// Descriptors for publishing: PUBLISH, SPUBLISH. (descriptor.hpp states the contract.) Subscribing
// is not a command with one reply: its messages arrive as RESP3 pushes, routed by the connection.
//
// PUBLISH is keyless: a channel is not a key (in a cluster every node takes it and broadcasts
// it), whatever its name looks like. SPUBLISH's shard channel is routed as a key: a cluster
// sends it to the primary serving the channel's slot (cluster/sharded_subscriber.hpp).

#include <cstdint>
#include <string_view>

#include "uredis/cmd/arguments.hpp"
#include "uredis/resp/encoder.hpp"

namespace uredis::cmd {

/// PUBLISH channel message -> how many subscribers received it (on this node).
struct publish {
  std::string_view channel{};
  arg message{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const {
    e.begin(3);
    e.arg("PUBLISH");
    e.arg(channel);
    message.encode(e);
  }
  static constexpr bool keyless = true;
};

/// SPUBLISH shardchannel message (Redis 7) -> how many subscribers received it (on this node).
struct spublish {
  std::string_view channel{};
  arg message{};

  using response = std::int64_t;
  void encode(resp::encoder& e) const {
    e.begin(3);
    e.arg("SPUBLISH");
    e.arg(channel);
    message.encode(e);
  }
  constexpr void for_each_key(auto&& f) const { f(channel); }
};

}  // namespace uredis::cmd

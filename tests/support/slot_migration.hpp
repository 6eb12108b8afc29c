#pragma once
// Moving one hash slot between two primaries of a test cluster (redis_cluster.hpp) by hand, as
// redis-cli --cluster reshard does, in steps: IMPORTING on the target, MIGRATING on the source,
// MIGRATE the slot's keys, then SETSLOT NODE on every node. `before_node` runs between the
// migration of the keys and the final step: an ASK window (the keys are on `to`, the slot is
// still `from`'s). Used by every program that redirects a client on purpose.
//
//   test::move_slot(cluster, slot, from, to, [&] { /* commands here meet ASK */ });
//   // commands from a stale map meet MOVED now

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "parse_reply.hpp"
#include "redis_cluster.hpp"
#include "redis_server.hpp"
#include "uredis/resp/reply.hpp"

namespace uredis::test {

/// The node's cluster id (CLUSTER MYID), asked of the server itself.
inline std::string node_id(const redis_server& s) {
  return std::string(parse_reply(s.command({"CLUSTER", "MYID"})).text());
}

template <class BeforeNode>
void move_slot(redis_cluster& cluster, std::uint16_t slot, redis_server& from, redis_server& to,
               BeforeNode&& before_node) {
  const std::string s = std::to_string(slot);
  const std::string from_id = node_id(from);
  const std::string to_id = node_id(to);
  ASSERT_EQ(to.command({"CLUSTER", "SETSLOT", s, "IMPORTING", from_id}), "+OK\r\n");
  ASSERT_EQ(from.command({"CLUSTER", "SETSLOT", s, "MIGRATING", to_id}), "+OK\r\n");
  const std::string port = std::to_string(to.port());
  for (;;) {
    const resp::reply keys = parse_reply(from.command({"CLUSTER", "GETKEYSINSLOT", s, "100"}));
    if (keys.elements().empty()) break;
    std::vector<std::string_view> migrate = {"MIGRATE", "127.0.0.1", port, "", "0", "5000", "KEYS"};
    for (const resp::reply& k : keys.elements())
      migrate.push_back(k.text());
    const std::string reply = from.command(migrate);
    ASSERT_TRUE(reply == "+OK\r\n" || reply == "+NOKEY\r\n") << reply;
  }
  before_node();
  ASSERT_EQ(to.command({"CLUSTER", "SETSLOT", s, "NODE", to_id}), "+OK\r\n");
  ASSERT_EQ(from.command({"CLUSTER", "SETSLOT", s, "NODE", to_id}), "+OK\r\n");
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    redis_server& n = cluster.node(i);
    if (!n.running() || &n == &from || &n == &to) continue;
    (void)n.command({"CLUSTER", "SETSLOT", s, "NODE", to_id});  // replicas may refuse: gossip
  }
}

}  // namespace uredis::test

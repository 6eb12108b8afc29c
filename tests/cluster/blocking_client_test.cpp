// cluster::blocking_client against one real cluster (3 primaries, 3 replicas), shared by every
// test of this program: the typed helpers with keys in slots of every primary, read back through
// the client and from the serving node; the mapped exceptions (cross-slot, error replies, a
// cluster that is not there, a bad URL); transactions, scripts, exec_on and batches.

#include "uredis/cluster/blocking_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../support/redis_cluster.hpp"
#include "../support/shared_cluster.hpp"
#include "uredis/client/batch.hpp"
#include "uredis/client/script.hpp"
#include "uredis/client/transaction.hpp"
#include "uredis/cmd/all.hpp"
#include "uredis/exceptions.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/util/key_slot.hpp"

namespace uredis::cluster {
namespace {

using namespace std::chrono_literals;

std::string bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}

std::string seed_url() {
  return "redis://" + test::shared_cluster()->seed();
}

// Names "<prefix>0", "<prefix>1", ... until each primary serves `per_primary` of them.
std::vector<std::string> keys_on_every_primary(const slot_map& m, const std::string& prefix,
                                               std::size_t per_primary) {
  std::map<std::uint16_t, std::size_t> by_node;
  std::vector<std::string> out;
  for (int i = 0; by_node.size() < m.shards().size() ||
                  std::any_of(by_node.begin(), by_node.end(),
                              [&](const auto& e) { return e.second < per_primary; });
       ++i) {
    std::string k = prefix + std::to_string(i);
    ++by_node[m.primary_of(util::key_slot(k))];
    out.push_back(std::move(k));
  }
  return out;
}

test::redis_server& owner(blocking_client& c, std::string_view key) {
  const slot_map& m = c.cluster().slots();
  return *test::shared_cluster()->node_on_port(
      m.node(m.primary_of(util::key_slot(key))).address.port);
}

TEST(BlockingClient, typed_helpers_with_keys_in_slots_of_every_primary) {
  ASSERT_NE(test::shared_cluster(), nullptr);
  blocking_client c{seed_url()};
  const std::vector<std::string> bases = keys_on_every_primary(c.cluster().slots(), "bh:", 2);
  for (const std::string& k : bases) {
    const std::string s = k + ":s";
    const std::string h = k + ":h";
    const std::string l = k + ":l";
    const std::string st = k + ":set";
    const std::string z = k + ":z";
    c.del({s, h, l, st, z});

    EXPECT_TRUE(c.set(s, "v"));
    EXPECT_EQ(c.get(s), "v");
    EXPECT_EQ(owner(c, s).command({"GET", s}), bulk("v"));
    EXPECT_EQ(c.set_get(s, "w"), "v");
    EXPECT_EQ(c.append(s, "x"), 2);
    EXPECT_EQ(c.strlen(s), 2);
    EXPECT_EQ(c.getex(s), "wx");
    EXPECT_EQ(c.getdel(s), "wx");
    EXPECT_EQ(c.get(s), std::nullopt);
    EXPECT_EQ(c.incr(s), 1);
    EXPECT_EQ(c.incrby(s, 9), 10);
    EXPECT_EQ(c.decr(s), 9);
    EXPECT_EQ(c.decrby(s, 2), 7);
    EXPECT_TRUE(c.expire(s, 100s));
    EXPECT_GT(c.ttl(s), 0);
    EXPECT_TRUE(c.pexpire(s, 100000ms));
    EXPECT_GT(c.pttl(s), 0);
    EXPECT_EQ(c.exists(s), 1);

    EXPECT_EQ(c.hset(h, "f", "1"), 1);
    EXPECT_EQ(c.hincrby(h, "f", 2), 3);
    EXPECT_EQ(c.hget(h, "f"), "3");
    EXPECT_EQ(c.hgetall(h).size(), 1u);
    EXPECT_EQ(owner(c, h).command({"HGET", h, "f"}), bulk("3"));
    EXPECT_EQ(c.hdel(h, "f"), 1);

    EXPECT_EQ(c.rpush(l, {"a", "b", "c"}), 3);
    EXPECT_EQ(c.lpush(l, "z"), 4);
    EXPECT_EQ(c.lrange(l, 0, -1), (std::vector<std::string>{"z", "a", "b", "c"}));
    EXPECT_EQ(owner(c, l).command({"LLEN", l}), ":4\r\n");
    EXPECT_EQ(c.llen(l), 4);
    EXPECT_EQ(c.lpop(l), "z");
    EXPECT_EQ(c.rpop(l), "c");
    EXPECT_EQ(c.lpop(l, 1), (std::vector<std::string>{"a"}));
    EXPECT_EQ(c.rpop(l, 1), (std::vector<std::string>{"b"}));
    c.rpush(l, "q");
    EXPECT_EQ(c.blpop(l, 1000ms), std::make_pair(l, std::string("q")));
    c.rpush(l, "r");
    EXPECT_EQ(c.brpop(l, 1000ms), std::make_pair(l, std::string("r")));

    EXPECT_EQ(c.sadd(st, {"m1", "m2"}), 2);
    EXPECT_TRUE(c.sismember(st, "m2"));
    EXPECT_EQ(c.srem(st, "m1"), 1);
    EXPECT_EQ(c.smembers(st), (std::vector<std::string>{"m2"}));

    EXPECT_EQ(c.zadd(z, {{1, "a"}, {2, "b"}}), 2);
    EXPECT_EQ(c.zadd_incr(z, 5, "a"), 6.0);
    EXPECT_EQ(c.zincrby(z, 1, "b"), 3.0);
    EXPECT_EQ(c.zscore(z, "a"), 6.0);
    EXPECT_EQ(c.zrange(z, 0, -1), (std::vector<std::string>{"b", "a"}));
    EXPECT_EQ(c.zrange_withscores(z, 0, -1).size(), 2u);
    EXPECT_EQ(owner(c, z).command({"ZSCORE", z, "b"}), bulk("3"));

    EXPECT_EQ(c.eval<std::int64_t>("return redis.call('INCR', KEYS[1])", s), 8);
  }

  // Split across slots: MSET, MGET, EXISTS, UNLINK, DEL.
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const std::string& k : bases)
    pairs.emplace_back(k, "v" + k);
  EXPECT_TRUE(c.mset(pairs));
  const std::vector<std::optional<std::string>> values = c.mget(bases);
  ASSERT_EQ(values.size(), bases.size());
  for (std::size_t i = 0; i < bases.size(); ++i)
    EXPECT_EQ(values[i], "v" + bases[i]);
  EXPECT_EQ(c.exists(bases), static_cast<std::int64_t>(bases.size()));
  EXPECT_EQ(c.unlink(bases), static_cast<std::int64_t>(bases.size()));
  EXPECT_EQ(c.del(bases), 0);
}

TEST(BlockingClient, throws_the_mapped_exceptions) {
  ASSERT_NE(test::shared_cluster(), nullptr);
  blocking_client c{seed_url()};
  ASSERT_NE(util::key_slot("cross:a"), util::key_slot("cross:b"));
  try {
    c.eval("return 1", {"cross:a", "cross:b"});
    ADD_FAILURE() << "a cross-slot EVAL was sent";
  } catch (const cluster_error& e) {
    EXPECT_EQ(e.code(), errc::cluster_cross_slot);
  }
  EXPECT_THROW(c.exec(transaction{cmd::set{"cross:a", "1"}, cmd::incr{"cross:b"}}), cluster_error);
  c.set("{wrong}:s", "text");
  EXPECT_THROW(c.incr("{wrong}:s"), response_error);
  EXPECT_EQ(c.get("{wrong}:s"), "text");  // usable after an error reply
  EXPECT_THROW(c.exec_on({"127.0.0.1", 1}, cmd::ping{}), connection_error);

  EXPECT_THROW(blocking_client{"redis://127.0.0.1:notaport"}, data_error);
  // Port 1 (tcpmux): nothing listens there, so the connect is refused at once.
  try {
    blocking_client nowhere{"redis://127.0.0.1:1"};
    ADD_FAILURE() << "connected to a port nothing listens on";
  } catch (const connection_error& e) {
    EXPECT_NE(std::string_view(e.what()).find("127.0.0.1:1"), std::string_view::npos) << e.what();
  }
}

TEST(BlockingClient, transactions_scripts_exec_on_and_batches) {
  ASSERT_NE(test::shared_cluster(), nullptr);
  blocking_client c{seed_url()};
  auto [set, incr] = c.exec(transaction{cmd::set{"{btx}:a", "1"}, cmd::incrby{"{btx}:a", 9}});
  EXPECT_TRUE(set.has_value());
  EXPECT_EQ(*incr, 10);

  const script add{"return redis.call('INCRBY', KEYS[1], ARGV[1])"};
  const std::int64_t first = c.run<std::int64_t>(add, "{bsc}:n", 3);
  EXPECT_EQ(c.run<std::int64_t>(add, "{bsc}:n", 3), first + 3);

  std::int64_t total = 0;
  for (const shard& sh : c.cluster().slots().shards())
    total +=
        c.exec_on(c.cluster().slots().node(sh.primary).address, cmd::raw<std::int64_t>("DBSIZE"));
  EXPECT_GE(total, 2);

  const std::vector<std::string> keys = keys_on_every_primary(c.cluster().slots(), "bb:", 5);
  batch<> b;
  for (std::size_t i = 0; i < 600; ++i) {
    const std::string& k = keys[(i / 3) % keys.size()];  // a SET, then a GET of it
    if (i % 3 == 0) {
      b.push(cmd::set{k, static_cast<std::int64_t>(i)});
    } else if (i % 3 == 1) {
      b.push(cmd::get{k});
    } else {
      b.push(cmd::incr{"{bb}:counter"});
    }
  }
  ASSERT_TRUE(c.del("{bb}:counter") >= 0);
  const std::span<result<resp::reply>> replies = c.exec(b);
  ASSERT_EQ(replies.size(), 600u);
  std::int64_t counter = 0;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    ASSERT_TRUE(replies[i].has_value()) << i;
    if (i % 3 == 0) {
      EXPECT_EQ(replies[i]->text(), "OK") << i;
    } else if (i % 3 == 1) {
      EXPECT_EQ(replies[i]->text(), std::to_string(i - 1)) << i;
    } else {
      EXPECT_EQ(replies[i]->integer(), ++counter) << i;
    }
  }
  EXPECT_EQ(c.cluster().open_connections(), 3u);
}

}  // namespace
}  // namespace uredis::cluster

// cluster::client (the coroutine face of a cluster) against one real cluster (3 primaries, 3
// replicas), shared by every test of this program: every typed helper that takes keys, with
// keys in many slots and read back (through the client and from the node serving the slot),
// cross-slot refusal, transactions, scripts, exec_on, caller batches split per node (1,000
// mixed commands in caller order, a batch across a slot migration, and one in its ASK window),
// and no allocation per command in steady state.

#include "uredis/cluster/client.hpp"

#include <gtest/gtest.h>

#include "allocation_counter.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/parse_reply.hpp"
#include "../support/redis_cluster.hpp"
#include "../support/run_coroutine.hpp"
#include "../support/shared_cluster.hpp"
#include "../support/slot_migration.hpp"
#include "uredis/client/batch.hpp"
#include "uredis/client/script.hpp"
#include "uredis/client/task.hpp"
#include "uredis/client/transaction.hpp"
#include "uredis/cmd/all.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/util/key_slot.hpp"

namespace uredis::cluster {
namespace {

using namespace std::chrono_literals;

std::string bulk(std::string_view s) {
  return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
}

// A message for a failed result: its error or its server error.
template <class T>
std::string why(const result<T>& r) {
  if (r.has_error()) return r.error().message();
  if (r.has_server_error()) return r.server_error().message;
  return "ok";
}

// The result's error code; empty when it has a value or a server error.
template <class T>
std::error_code code_of(const result<T>& r) {
  return r.has_error() ? r.error() : std::error_code{};
}

class ClientOnCluster : public ::testing::Test {
 public:
  void SetUp() override {
    ASSERT_NE(test::shared_cluster(), nullptr);
    r_ = test::make_reactor();
    ASSERT_NE(r_, nullptr);
    cluster_config config;
    config.seeds.push_back({"127.0.0.1", test::shared_cluster()->node(0).port()});
    client_ = std::make_unique<client>(*r_, std::move(config));
    test::run_coroutine(*r_, [&]() -> task<> {
      const result<void> connected = co_await client_->connect();
      EXPECT_TRUE(connected.has_value()) << why(connected);
    });
  }
  void TearDown() override {
    client_.reset();
    r_.reset();
  }

  // The node serving `key`'s slot, as the client's map says, asked directly.
  test::redis_server& owner(std::string_view key) {
    const slot_map& m = client_->cluster().slots();
    const std::uint16_t node = m.primary_of(util::key_slot(key));
    test::redis_server* s = test::shared_cluster()->node_on_port(m.node(node).address.port);
    EXPECT_NE(s, nullptr);
    return *s;
  }
  test::redis_server& another_primary(std::uint16_t slot) {
    const slot_map& m = client_->cluster().slots();
    const std::uint16_t other = m.shards()[(m.shard_of(slot) + 1) % m.shards().size()].primary;
    return *test::shared_cluster()->node_on_port(m.node(other).address.port);
  }
  // Names "<prefix>0", "<prefix>1", ... until they hash to at least `per_primary` slots of each
  // primary: keys in many slots, on every node.
  std::vector<std::string> keys_on_every_primary(const std::string& prefix,
                                                 std::size_t per_primary) {
    const slot_map& m = client_->cluster().slots();
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

  // Sends a batch of `entries` that alternates RPUSH `list` i (even i) and SET of one of
  // `others` to i (odd i), and checks its results in caller order: each push's list length
  // (`before` items were in the list first), each SET's OK.
  void run_alternating_batch(const std::string& list, const std::vector<std::string>& others,
                             int entries, int before) {
    batch<> b;
    for (int i = 0; i < entries; ++i) {
      if (i % 2 == 0) {
        b.push(cmd::rpush{list, i});
      } else {
        b.push(cmd::set{others[static_cast<std::size_t>(i) % others.size()], i});
      }
    }
    test::run_coroutine(*r_, [&]() -> task<> { (void)co_await client_->exec(b); });
    EXPECT_FALSE(b.failure());
    for (int i = 0; i < entries; ++i) {
      const result<resp::reply>& r = b[static_cast<std::size_t>(i)];
      ASSERT_TRUE(r.has_value()) << i << ": " << why(r);
      if (i % 2 == 0) {
        EXPECT_EQ(r->integer(), before + i / 2 + 1) << i;  // the list's length after this push
      } else {
        EXPECT_EQ(r->text(), "OK") << i;
      }
    }
  }
  // The pushes of run_alternating_batch() landed on `node` in order, after `before` items.
  static void expect_pushed_in_order(test::redis_server& node, const std::string& list, int entries,
                                     int before) {
    const resp::reply stored = test::parse_reply(node.command({"LRANGE", list, "0", "-1"}));
    ASSERT_EQ(stored.elements().size(), static_cast<std::size_t>(before + entries / 2));
    for (int i = 0; i < entries / 2; ++i)
      EXPECT_EQ(stored.elements()[static_cast<std::size_t>(before + i)].text(),
                std::to_string(2 * i));
  }

  std::unique_ptr<reactor::reactor> r_;
  std::unique_ptr<client> client_;
};

// Every helper of command_helpers.hpp that takes keys, on one base key: each write is read
// back through the client, and once per data type from the node that serves the key's slot.
task<> exercise_every_keyed_helper(client& c, const std::string& k, ClientOnCluster& t) {
  const std::string s = k + ":s";
  const std::string n = k + ":n";
  const std::string h = k + ":h";
  const std::string l = k + ":l";
  const std::string st = k + ":set";
  const std::string z = k + ":z";
  const cmd::arg dels[] = {s, n, h, l, st, z};  // all of one base: split per slot anyway
  EXPECT_TRUE((co_await c.del(dels)).has_value());

  // strings
  EXPECT_TRUE(*co_await c.set(s, "v1"));
  EXPECT_EQ(*co_await c.get(s), "v1");
  EXPECT_EQ(t.owner(s).command({"GET", s}), bulk("v1"));
  EXPECT_EQ(*co_await c.set_get(s, "v2"), "v1");
  EXPECT_EQ(*co_await c.append(s, "x"), 3);
  EXPECT_EQ(*co_await c.strlen(s), 3);
  EXPECT_EQ(*co_await c.getex(s), "v2x");
  EXPECT_EQ(*co_await c.getdel(s), "v2x");
  EXPECT_EQ(*co_await c.get(s), std::nullopt);
  EXPECT_EQ(*co_await c.incr(n), 1);
  EXPECT_EQ(*co_await c.incrby(n, 10), 11);
  EXPECT_EQ(*co_await c.decr(n), 10);
  EXPECT_EQ(*co_await c.decrby(n, 4), 6);
  EXPECT_EQ(*co_await c.get(n), "6");

  // keys
  EXPECT_EQ(*co_await c.exists(n), 1);
  EXPECT_TRUE(*co_await c.expire(n, 100s));
  const std::int64_t ttl = *co_await c.ttl(n);
  EXPECT_GT(ttl, 0);
  EXPECT_LE(ttl, 100);
  EXPECT_TRUE(*co_await c.pexpire(n, 200000ms));
  EXPECT_GT(*co_await c.pttl(n), 100000);

  // hashes
  EXPECT_EQ(*co_await c.hset(h, "f", "1"), 1);
  const std::map<std::string, std::string> more = {{"g", "2"}, {"h", "3"}};
  EXPECT_EQ(*co_await c.hset(h, more), 2);
  EXPECT_EQ(*co_await c.hget(h, "f"), "1");
  EXPECT_EQ(*co_await c.hincrby(h, "f", 5), 6);
  EXPECT_EQ(*co_await c.hdel(h, "h"), 1);
  const auto all = *co_await c.hgetall(h);
  EXPECT_EQ(all.size(), 2u);
  EXPECT_EQ(all.at("f"), "6");
  EXPECT_EQ(t.owner(h).command({"HGET", h, "g"}), bulk("2"));

  // lists
  const cmd::arg abc[] = {"a", "b", "c"};
  EXPECT_EQ(*co_await c.rpush(l, abc), 3);
  EXPECT_EQ(*co_await c.lpush(l, "z"), 4);
  const std::vector<std::string> expected1 = {"z", "a", "b", "c"};
  EXPECT_EQ(*co_await c.lrange(l, 0, -1), expected1);
  EXPECT_EQ(t.owner(l).command({"LINDEX", l, "1"}), bulk("a"));
  EXPECT_EQ(*co_await c.llen(l), 4);
  EXPECT_EQ(*co_await c.lpop(l), "z");
  EXPECT_EQ(*co_await c.rpop(l), "c");
  const std::vector<std::string> expected2 = {"a"};
  EXPECT_EQ(*co_await c.lpop(l, 1), expected2);
  const std::vector<std::string> expected3 = {"b"};
  EXPECT_EQ(*co_await c.rpop(l, 1), expected3);
  EXPECT_EQ(*co_await c.rpush(l, "q"), 1);
  EXPECT_EQ(*co_await c.blpop(l, 1000ms), std::make_pair(l, std::string("q")));
  EXPECT_EQ(*co_await c.rpush(l, "r"), 1);
  EXPECT_EQ(*co_await c.brpop(l, 1000ms), std::make_pair(l, std::string("r")));

  // sets
  const cmd::arg members[] = {"m1", "m2"};
  EXPECT_EQ(*co_await c.sadd(st, members), 2);
  EXPECT_TRUE(*co_await c.sismember(st, "m1"));
  EXPECT_EQ(*co_await c.srem(st, "m2"), 1);
  const std::vector<std::string> expected4 = {"m1"};
  EXPECT_EQ(*co_await c.smembers(st), expected4);
  EXPECT_EQ(t.owner(st).command({"SCARD", st}), ":1\r\n");

  // sorted sets
  EXPECT_EQ(*co_await c.zadd(z, cmd::pair_list(1, "a")), 1);
  EXPECT_EQ(*co_await c.zadd(z, cmd::pair_list(2, "b")), 1);
  EXPECT_EQ(*co_await c.zadd_incr(z, 2.5, "a"), 3.5);
  EXPECT_EQ(*co_await c.zincrby(z, 1, "b"), 3.0);
  EXPECT_EQ(*co_await c.zscore(z, "a"), 3.5);
  const std::vector<std::string> expected5 = {"b", "a"};
  EXPECT_EQ(*co_await c.zrange(z, 0, -1), expected5);
  const auto scored = *co_await c.zrange_withscores(z, 0, -1);
  EXPECT_EQ(scored.size(), 2u);
  if (scored.size() == 2) {
    EXPECT_EQ(scored[1], std::make_pair(std::string("a"), 3.5));
  }
  EXPECT_EQ(t.owner(z).command({"ZCARD", z}), ":2\r\n");

  // scripting: the key routes EVAL and EVALSHA (loaded on every primary first: SCRIPT LOAD is
  // keyless and reaches one)
  EXPECT_EQ(*co_await c.eval<std::int64_t>("return redis.call('INCRBY', KEYS[1], ARGV[1])", n, 5),
            11);
  const std::string body = "return redis.call('GET', KEYS[1])";
  std::string sha;
  for (const shard& sh : c.cluster().slots().shards()) {
    const node_address& node = c.cluster().slots().node(sh.primary).address;
    sha = *co_await c.exec_on(node, cmd::script_load{body});
  }
  EXPECT_EQ(*co_await c.evalsha<std::optional<std::string>>(sha, n), "11");
}

TEST_F(ClientOnCluster, every_typed_helper_with_keys_works_in_slots_of_every_primary) {
  const std::vector<std::string> bases = keys_on_every_primary("helpers:", 3);
  ASSERT_GE(bases.size(), 9u);
  test::run_coroutine(
      *r_,
      [&]() -> task<> {
        for (const std::string& k : bases)
          co_await exercise_every_keyed_helper(*client_, k, *this);
      },
      60s);
  EXPECT_EQ(client_->cluster().open_connections(), 3u);
}

TEST_F(ClientOnCluster, split_helpers_span_slots_and_the_rest_refuse_cross_slot) {
  const std::vector<std::string> keys = keys_on_every_primary("split:", 2);
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const std::string& k : keys)
    pairs.emplace_back(k, "v" + k);
  test::run_coroutine(*r_, [&]() -> task<> {
    EXPECT_TRUE(*co_await client_->mset(pairs));
    const auto values = co_await client_->mget(keys);
    EXPECT_TRUE(values.has_value()) << why(values);
    if (values) {
      EXPECT_EQ(values->size(), keys.size());
      for (std::size_t i = 0; i < keys.size() && i < values->size(); ++i)
        EXPECT_EQ((*values)[i], "v" + keys[i]);
    }
    const auto n = static_cast<std::int64_t>(keys.size());
    EXPECT_EQ(*co_await client_->exists(keys), n);
    const std::vector<std::string> half(keys.begin(), keys.begin() + n / 2);
    EXPECT_EQ(*co_await client_->unlink(half), n / 2);
    EXPECT_EQ(*co_await client_->del(keys), n - n / 2);
    EXPECT_EQ(*co_await client_->exists(keys), 0);

    // Not split: refused before sending, and no suspension needed to learn it.
    const cmd::arg cross[] = {"cross:a", "cross:b"};
    EXPECT_NE(util::key_slot("cross:a"), util::key_slot("cross:b"));
    const auto eval = co_await client_->eval("return 1", cross);
    EXPECT_EQ(code_of(eval), errc::cluster_cross_slot);
    // A raw command's keys are unknown to the client: the node refuses it instead.
    const auto raw = co_await client_->command<std::int64_t>("SINTERCARD", 2, cross);
    EXPECT_TRUE(raw.has_server_error());
    EXPECT_EQ(raw.has_server_error() ? raw.server_error().kind : server_error_kind::err,
              server_error_kind::crossslot);
    const auto tx =
        co_await client_->exec(transaction{cmd::set{"cross:a", "1"}, cmd::incr{"cross:b"}});
    EXPECT_EQ(code_of(tx), errc::cluster_cross_slot);
    const script sum{"return #KEYS"};
    const auto ran = co_await client_->run<std::int64_t>(sum, cross);
    EXPECT_EQ(code_of(ran), errc::cluster_cross_slot);
  });
}

TEST_F(ClientOnCluster, keyless_helpers_go_to_the_primaries_in_turn) {
  test::run_coroutine(*r_, [&]() -> task<> {
    EXPECT_EQ(*co_await client_->ping(), "PONG");
    EXPECT_EQ(*co_await client_->ping("hi"), "hi");
    EXPECT_EQ(*co_await client_->echo("back"), "back");
    EXPECT_EQ(*co_await client_->publish("nobody-listens", "m"), 0);
    const std::string sha = *co_await client_->script_load("return 1");
    EXPECT_EQ(sha.size(), 40u);
    const auto page = co_await client_->scan(0, std::nullopt, 10);
    EXPECT_TRUE(page.has_value()) << why(page);
    const auto info = co_await client_->command<std::string>("CLUSTER", "MYID");
    EXPECT_TRUE(info.has_value()) << why(info);
  });
  EXPECT_GE(client_->cluster().open_connections(), 3u);  // six keyless commands, three primaries
}

TEST_F(ClientOnCluster, transactions_scripts_and_exec_on_reach_their_node) {
  test::run_coroutine(*r_, [&]() -> task<> {
    const auto tx =
        co_await client_->exec(transaction{cmd::set{"{tx}:a", "1"}, cmd::incrby{"{tx}:a", 41}});
    EXPECT_TRUE(tx.has_value()) << why(tx);
    if (tx) {
      EXPECT_EQ(*std::get<1>(*tx), 42);
    }
    EXPECT_EQ(owner("{tx}:a").command({"GET", "{tx}:a"}), bulk("42"));

    const script add{"return redis.call('INCRBY', KEYS[1], ARGV[1]) + #KEYS"};
    const cmd::arg keys[] = {"{sc}:n", "{sc}:m"};
    const auto first = co_await client_->run<std::int64_t>(add, keys, 5);
    EXPECT_TRUE(first.has_value()) << why(first);
    const auto second = co_await client_->run<std::int64_t>(add, keys, 5);
    EXPECT_TRUE(second.has_value());
    if (first && second) {
      EXPECT_EQ(*second - *first, 5);
    }

    // DBSIZE of each primary: the keys of one node only.
    std::int64_t keys_everywhere = 0;
    for (const shard& sh : client_->cluster().slots().shards()) {
      const node_address& node = client_->cluster().slots().node(sh.primary).address;
      const auto size = co_await client_->exec_on(node, cmd::raw<std::int64_t>("DBSIZE"));
      EXPECT_TRUE(size.has_value()) << why(size);
      keys_everywhere += size ? *size : 0;
    }
    EXPECT_GE(keys_everywhere, 2);
    const node_address nowhere{"127.0.0.1", 1};
    const auto unknown = co_await client_->exec_on(nowhere, cmd::ping{});
    EXPECT_EQ(code_of(unknown), errc::not_connected);
  });
}

TEST_F(ClientOnCluster, a_batch_of_a_thousand_mixed_commands_returns_in_caller_order) {
  constexpr int commands = 1000;
  const std::vector<std::string> keys = keys_on_every_primary("batch:", 20);
  batch<> b;
  std::set<std::uint16_t> nodes;
  for (int i = 0; i < commands; ++i) {
    const std::string& k = keys[static_cast<std::size_t>(i / 4) % keys.size()];  // 4 per key
    nodes.insert(client_->cluster().slots().primary_of(util::key_slot(k)));
    switch (i % 4) {
      case 0:
        b.push(cmd::set{k, std::to_string(i)});
        break;
      case 1:
        b.push(cmd::get{k});
        break;
      case 2:
        b.push(cmd::incr{k});
        break;
      default:
        b.push(cmd::ping{});
        break;  // keyless: any primary
    }
  }
  ASSERT_EQ(nodes.size(), 3u);
  test::run_coroutine(*r_, [&]() -> task<> {
    const std::span<result<resp::reply>> replies = co_await client_->exec(b);
    EXPECT_EQ(replies.size(), static_cast<std::size_t>(commands));
  });
  EXPECT_FALSE(b.failure());
  for (int i = 0; i < commands; ++i) {
    const result<resp::reply>& r = b[static_cast<std::size_t>(i)];
    ASSERT_TRUE(r.has_value()) << i << ": " << why(r);
    switch (i % 4) {
      case 0:
        EXPECT_EQ(r->text(), "OK") << i;
        break;
      case 1:
        EXPECT_EQ(r->text(), std::to_string(i - 1)) << i;
        break;  // the SET just before
      case 2:
        EXPECT_EQ(r->integer(), i - 1) << i;
        break;  // that value, plus one
      default:
        EXPECT_EQ(r->text(), "PONG") << i;
        break;
    }
  }
  EXPECT_EQ(client_->cluster().open_connections(), 3u);

  // Sent again as it is: the same commands, the same answers.
  test::run_coroutine(*r_, [&]() -> task<> { (void)co_await client_->exec(b); });
  EXPECT_EQ(b[2].value().integer(), 1);

  // A typed batch, and an entry that spans slots: refused in its own result only.
  batch<std::int64_t> typed;
  typed.push(cmd::incr{"{typed}:n"});
  const cmd::arg cross[] = {"cross:a", "cross:b"};
  typed.push(cmd::del{cross});
  typed.push(cmd::incr{"{typed}:n"});
  test::run_coroutine(*r_, [&]() -> task<> { (void)co_await client_->exec(typed); });
  ASSERT_TRUE(typed[0].has_value());
  ASSERT_TRUE(typed[1].has_error());
  EXPECT_EQ(typed[1].error(), errc::cluster_cross_slot);
  ASSERT_TRUE(typed[2].has_value());
  EXPECT_EQ(*typed[2], *typed[0] + 1);
  EXPECT_FALSE(typed.failure());
}

TEST_F(ClientOnCluster, a_batch_across_a_moved_slot_completes_in_order) {
  // The slot moves behind the client's back: the batch's entries for it meet MOVED and are
  // sent on to the new owner; the others go straight to theirs. Results stay in caller order,
  // and the moved slot's writes land in order.
  const std::string list = "{moving}:list";
  const std::uint16_t slot = util::key_slot(list);
  test::run_coroutine(*r_, [&]() -> task<> {
    const cmd::arg key[] = {list};
    (void)co_await client_->del(key);
  });
  test::redis_server& from = owner(list);
  test::redis_server& to = another_primary(slot);
  test::move_slot(*test::shared_cluster(), slot, from, to, [] {});
  ASSERT_NE(
      client_->cluster().slots().node(client_->cluster().slots().primary_of(slot)).address.port,
      to.port());  // the client's map is stale

  constexpr int entries = 300;
  run_alternating_batch(list, keys_on_every_primary("around:", 2), entries, 0);
  EXPECT_EQ(
      client_->cluster().slots().node(client_->cluster().slots().primary_of(slot)).address.port,
      to.port());
  expect_pushed_in_order(to, list, entries, 0);
}

TEST_F(ClientOnCluster, a_batch_in_an_ask_window_follows_ask_per_entry_in_order) {
  // The slot's keys are on the target while the slot is still the source's: each entry for it
  // meets ASK and goes to the target behind its own ASKING; the map stays; the other entries
  // go straight to their nodes. Results stay in caller order, the list's pushes land in order.
  const std::string list = "{asking}:list";
  const std::uint16_t slot = util::key_slot(list);
  test::run_coroutine(*r_, [&]() -> task<> {
    const cmd::arg key[] = {list};
    (void)co_await client_->del(key);
    (void)co_await client_->exec(cmd::rpush{list, "seed"});  // a key to migrate
  });
  test::redis_server& from = owner(list);
  test::redis_server& to = another_primary(slot);
  const slot_map& map = client_->cluster().slots();
  const std::uint16_t owner_before = map.node(map.primary_of(slot)).address.port;
  ASSERT_EQ(owner_before, from.port());

  const std::vector<std::string> others = keys_on_every_primary("ask-around:", 2);
  constexpr int entries = 200;
  test::move_slot(*test::shared_cluster(), slot, from, to, [&] {
    run_alternating_batch(list, others, entries, 1);  // after "seed"
    EXPECT_EQ(map.node(map.primary_of(slot)).address.port, owner_before) << "ASK repoints nothing";
  });
  expect_pushed_in_order(to, list, entries, 1);
}

TEST_F(ClientOnCluster, a_coroutine_get_allocates_nothing_in_steady_state) {
  test::run_coroutine(*r_, [&]() -> task<> {
    EXPECT_TRUE(*co_await client_->set("{alloc}:k", "short"));  // short enough for the SSO
  });
  constexpr int coroutines = 16;
  constexpr int gets = 32;
  int wrong = 0;
  int finished = 0;
  auto worker = [&]() -> task<> {
    for (int i = 0; i < gets; ++i) {
      const result<std::optional<std::string>> v = co_await client_->get("{alloc}:k");
      if (!v || **v != "short") ++wrong;
      const result<std::int64_t> n = co_await client_->incr("{alloc}:n");
      if (!n) ++wrong;
    }
    ++finished;
  };
  auto round = [&] {
    const int target = finished + coroutines;
    for (int i = 0; i < coroutines; ++i)
      spawn(worker());
    ASSERT_TRUE(test::run_until(
        *r_, [&] { return finished == target; }, 10s));
  };
  for (int i = 0; i < 4; ++i)
    round();  // warm-up: connections, buffers, the frame pool
  const dev::allocation_scope scope;
  for (int i = 0; i < 20; ++i)
    round();
  EXPECT_EQ(scope.allocations(), 0u);
  EXPECT_EQ(wrong, 0);
}

}  // namespace
}  // namespace uredis::cluster

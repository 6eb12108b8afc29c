// cluster_client against one real cluster (3 primaries, 3 replicas, made by redis-cli --cluster
// create), shared by every test of this program and started once: routing by slot, the split
// multi-key commands, cross-slot refusal, MOVED and ASK while slots move by hand, live
// resharding under load, a node added and removed, a new primary known only from an ASK (and its
// connection retired with a command in flight), and a primary killed under load. The tests
// run in this order (the last ones change the cluster for good).

#include "uredis/cluster/cluster_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/redis_cluster.hpp"
#include "../support/shared_cluster.hpp"
#include "../support/slot_migration.hpp"
#include "uredis/client/script.hpp"
#include "uredis/client/transaction.hpp"
#include "uredis/cmd/all.hpp"
#include "uredis/event/dispatcher.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/util/key_slot.hpp"

namespace uredis::cluster {
namespace {

using namespace std::chrono_literals;

class ClusterClient : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(test::shared_cluster(), nullptr);
    r_ = test::make_reactor();
    ASSERT_NE(r_, nullptr);
    cluster_config config;
    for (std::size_t i = 0; i < test::shared_cluster()->size(); ++i) {
      if (test::shared_cluster()->node(i).running())
        config.seeds.push_back({"127.0.0.1", test::shared_cluster()->node(i).port()});
    }
    client_ = std::make_unique<cluster_client>(*r_, std::move(config));
    std::optional<result<void>> connected;
    client_->connect([&](const result<void>& r) { connected = r; });
    ASSERT_TRUE(test::run_until(
        *r_, [&] { return connected.has_value(); }, 10s));
    ASSERT_TRUE(connected->has_value()) << connected->error().message();
  }
  void TearDown() override {
    client_.reset();
    r_.reset();
  }

  // Runs `command` through the client and waits for its result.
  template <class Command>
  result<typename Command::response> run(const Command& command) {
    std::optional<result<typename Command::response>> out;
    client_->exec(command,
                  [&](result<typename Command::response> r) { out.emplace(std::move(r)); });
    EXPECT_TRUE(test::run_until(
        *r_, [&] { return out.has_value(); }, 10s));
    return out.has_value() ? std::move(*out) : result<typename Command::response>(errc::timeout);
  }

  test::redis_server& server_serving(std::uint16_t slot) {
    const slot_map& m = client_->slots();
    test::redis_server* s =
        test::shared_cluster()->node_on_port(m.node(m.primary_of(slot)).address.port);
    EXPECT_NE(s, nullptr);
    return *s;
  }
  test::redis_server& another_primary(std::uint16_t slot) {
    const slot_map& m = client_->slots();
    const std::uint16_t other = m.shards()[(m.shard_of(slot) + 1) % m.shards().size()].primary;
    return *test::shared_cluster()->node_on_port(m.node(other).address.port);
  }

  std::unique_ptr<reactor::reactor> r_;
  std::unique_ptr<cluster_client> client_;
};

TEST_F(ClusterClient, routes_ten_thousand_keys_across_all_slots) {
  constexpr int keys = 10000;
  int done = 0;
  int errors = 0;
  std::vector<std::string> names;
  names.reserve(keys);
  for (int i = 0; i < keys; ++i)  // every 20th key shares a tag with its neighbour
    names.push_back(i % 20 == 0 ? "{tag" + std::to_string(i / 40) + "}:k" + std::to_string(i)
                                : "key:" + std::to_string(i));
  for (int i = 0; i < keys; ++i) {
    client_->exec(cmd::set{names[i], "v" + std::to_string(i)}, [&](result<cmd::applied> r) {
      ++done;
      if (!r.has_value() || !*r) ++errors;
    });
  }
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return done == keys; }, 30s))
      << done;
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(client_->open_connections(), 3u);  // the three primaries, opened on first use

  done = 0;
  for (int i = 0; i < keys; ++i) {
    client_->exec(cmd::get{names[i]}, [&, i](result<std::optional<std::string>> r) {
      ++done;
      if (!r.has_value() || *r != "v" + std::to_string(i)) ++errors;
    });
  }
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return done == keys; }, 30s))
      << done;
  EXPECT_EQ(errors, 0);
  // And each key is where its slot says, asked of the server directly.
  for (int i = 0; i < keys; i += 97) {
    const std::string reply = server_serving(util::key_slot(names[i])).command({"GET", names[i]});
    EXPECT_EQ(reply, "$" + std::to_string(1 + std::to_string(i).size()) + "\r\nv" +
                         std::to_string(i) + "\r\n");
  }
}

TEST_F(ClusterClient, the_connect_callback_may_destroy_the_client) {
  // As a coroutine does that holds the client in its frame and ends once connected; a command
  // issued before the topology waits for it, and fails as closed when the client goes.
  cluster_config config;
  config.seeds.push_back({"127.0.0.1", test::shared_cluster()->node(0).port()});
  auto client = std::make_unique<cluster_client>(*r_, std::move(config));
  std::optional<result<std::optional<std::string>>> got;
  client->exec(cmd::get{"{gone}:k"},
               [&](result<std::optional<std::string>> r) { got.emplace(std::move(r)); });
  bool connected = false;
  client->connect([&](const result<void>& r) {
    connected = r.has_value();
    client.reset();
  });
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return client == nullptr; }, 10s));
  EXPECT_TRUE(connected);
  ASSERT_TRUE(got.has_value());
  ASSERT_TRUE(got->has_error()) << "the command ran after its client was gone";
  EXPECT_EQ(got->error(), errc::connection_closed) << got->error().message();
  test::run_for(*r_, 50ms);  // nothing of the client is touched after it is gone (ASan)
}

TEST_F(ClusterClient, splits_mget_mset_del_exists_unlink_touch_per_slot) {
  const std::vector<std::string> keys = {"split:a", "split:b",   "split:c",  "split:d",
                                         "split:e", "{split}:f", "{split}:g"};
  std::vector<std::string> values_sent;
  for (const std::string& k : keys)
    values_sent.push_back("value-of-" + k);
  std::vector<cmd::arg_pair> pairs;
  for (std::size_t i = 0; i < keys.size(); ++i)
    pairs.push_back({keys[i], values_sent[i]});
  std::vector<cmd::arg> names(keys.begin(), keys.end());
  const auto mset = run(cmd::mset{cmd::pair_list(pairs)});
  ASSERT_TRUE(mset.has_value());
  EXPECT_TRUE(*mset);

  std::vector<cmd::arg> with_missing = names;
  with_missing.insert(with_missing.begin() + 2, cmd::arg("split:missing"));
  const auto values = run(cmd::mget{cmd::arg_list(with_missing)});
  ASSERT_TRUE(values.has_value());
  ASSERT_EQ(values->size(), keys.size() + 1);
  for (std::size_t i = 0, k = 0; i < values->size(); ++i) {
    if (i == 2) {
      EXPECT_FALSE((*values)[i].has_value());
      continue;
    }
    EXPECT_EQ((*values)[i], "value-of-" + keys[k]) << i;
    ++k;
  }
  std::vector<cmd::arg> twice = names;
  twice.push_back(cmd::arg(keys[0]));
  EXPECT_EQ(*run(cmd::exists{cmd::arg_list(twice)}), 8);  // a key named twice counts twice
  EXPECT_EQ(*run(cmd::touch{cmd::arg_list(with_missing)}), 7);
  const std::vector<cmd::arg> first_three(names.begin(), names.begin() + 3);
  EXPECT_EQ(*run(cmd::del{cmd::arg_list(first_three)}), 3);
  EXPECT_EQ(*run(cmd::unlink{cmd::arg_list(with_missing)}), 4);
  EXPECT_EQ(*run(cmd::exists{cmd::arg_list(names)}), 0);
}

TEST_F(ClusterClient, refuses_other_cross_slot_commands_before_sending) {
  const auto r = run(cmd::eval<>{"return 1", {"cross:a", "cross:b"}, {}});
  ASSERT_TRUE(r.has_error());
  EXPECT_EQ(r.error(), errc::cluster_cross_slot);
  // One slot (a hash tag): sent, and answered.
  const auto ok = run(cmd::eval<>{"return #KEYS", {"{cross}:a", "{cross}:b"}, {}});
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(ok->integer(), 2);
}

TEST_F(ClusterClient, transactions_and_scripts_go_to_their_one_slot) {
  std::optional<result<transaction<cmd::set, cmd::incr>::results>> tx;
  client_->exec(
      transaction{cmd::set{"{tx}:a", "1"}, cmd::incr{"{tx}:b"}},
      [&](result<transaction<cmd::set, cmd::incr>::results> r) { tx.emplace(std::move(r)); });
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return tx.has_value(); }, 10s));
  ASSERT_TRUE(tx->has_value());
  EXPECT_TRUE(std::get<0>(**tx).has_value());
  ASSERT_TRUE(std::get<1>(**tx).has_value());

  std::optional<result<transaction<cmd::set, cmd::incr>::results>> cross;
  client_->exec(
      transaction{cmd::set{"tx:a", "1"}, cmd::incr{"tx:b"}},
      [&](result<transaction<cmd::set, cmd::incr>::results> r) { cross.emplace(std::move(r)); });
  ASSERT_TRUE(cross.has_value());  // refused before sending: at once
  ASSERT_TRUE(cross->has_error());
  EXPECT_EQ(cross->error(), errc::cluster_cross_slot);

  const script sum{"return redis.call('INCRBY', KEYS[1], ARGV[1]) + #KEYS"};
  std::optional<result<std::int64_t>> ran;
  client_->run<std::int64_t>(sum, {"{sc}:n", "{sc}:m"}, {5},
                             [&](result<std::int64_t> r) { ran.emplace(std::move(r)); });
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return ran.has_value(); }, 10s));
  ASSERT_TRUE(ran->has_value()) << (ran->has_error() ? ran->error().message()
                                                     : ran->server_error().message);
  EXPECT_GE(**ran, 7);
  std::optional<result<std::int64_t>> refused;
  client_->run<std::int64_t>(sum, {"sc:n", "sc:m"}, {5},
                             [&](result<std::int64_t> r) { refused.emplace(std::move(r)); });
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->error(), errc::cluster_cross_slot);
}

// A slot moved by hand (support/slot_migration.hpp), on this program's cluster.
template <class BeforeNode>
void move_slot(std::uint16_t slot, test::redis_server& from, test::redis_server& to,
               BeforeNode&& before_node) {
  test::move_slot(*test::shared_cluster(), slot, from, to, std::forward<BeforeNode>(before_node));
}

TEST_F(ClusterClient, ask_during_a_migration_then_moved_after_it) {
  const std::string key = "{asked}:k";
  const std::string untouched = "{asked}:stays";
  const std::uint16_t slot = util::key_slot(key);
  ASSERT_TRUE(run(cmd::set{key, "migrated"}).has_value());
  test::redis_server& from = server_serving(slot);
  test::redis_server& to = another_primary(slot);
  const std::uint16_t owner_before = client_->slots().primary_of(slot);

  move_slot(slot, from, to, [&] {
    // The key lives on `to`, the slot is still `from`'s: ASK, and the map stays.
    const auto v = run(cmd::get{key});
    ASSERT_TRUE(v.has_value()) << (v.has_error() ? v.error().message() : v.server_error().message);
    EXPECT_EQ(*v, "migrated");
    EXPECT_EQ(client_->slots().primary_of(slot), owner_before);
    // A new key of the migrating slot is created on the target (ASK for a missing key).
    const auto w = run(cmd::set{untouched, "new"});
    ASSERT_TRUE(w.has_value());
  });
  // The slot is `to`'s now: MOVED repoints the map, and the command is answered.
  const auto v = run(cmd::get{key});
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(*v, "migrated");
  EXPECT_EQ(client_->slots().node(client_->slots().primary_of(slot)).address.port, to.port());
  EXPECT_EQ(*run(cmd::get{untouched}), "new");
}

TEST_F(ClusterClient, moved_for_a_whole_batch_keeps_every_write) {
  // Move a slot behind the client's back, then send a batch to it from the stale map: every
  // command meets MOVED and is sent on, and the values land in order.
  const std::string key = "{batch}:counter";
  const std::uint16_t slot = util::key_slot(key);
  ASSERT_TRUE(run(cmd::del{key}).has_value());
  move_slot(slot, server_serving(slot), another_primary(slot), [] {});
  constexpr int n = 500;
  int done = 0;
  int errors = 0;
  std::int64_t last = 0;
  for (int i = 0; i < n; ++i) {
    client_->exec(cmd::incr{key}, [&](result<std::int64_t> r) {
      ++done;
      if (!r.has_value() || *r != last + 1) ++errors;
      if (r.has_value()) last = *r;
    });
  }
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return done == n; }, 10s));
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(*run(cmd::get{key}), std::to_string(n));
}

TEST_F(ClusterClient, a_moved_script_or_transaction_is_returned_and_the_map_read_again) {
  // A slot moved behind the client's back: a script and a transaction of it meet MOVED, which
  // they return (parts may have run), and which makes the client read the topology, so that the
  // caller's next try goes to the new owner.
  const script incr{"return redis.call('INCR', KEYS[1])"};
  const auto run_script = [&](const std::string& key) {
    std::optional<result<std::int64_t>> out;
    client_->run<std::int64_t>(incr, {key}, {},
                               [&](result<std::int64_t> r) { out.emplace(std::move(r)); });
    EXPECT_TRUE(test::run_until(
        *r_, [&] { return out.has_value(); }, 10s));
    return out.value_or(result<std::int64_t>(errc::timeout));
  };
  using tx_results = transaction<cmd::incr>::results;
  const auto run_transaction = [&](const std::string& key) {
    std::optional<result<tx_results>> out;
    client_->exec(transaction{cmd::incr{key}},
                  [&](result<tx_results> r) { out.emplace(std::move(r)); });
    EXPECT_TRUE(test::run_until(
        *r_, [&] { return out.has_value(); }, 10s));
    return out.value_or(result<tx_results>(errc::timeout));
  };
  const auto moved_then_answered = [&](auto&& call, const std::string& key) {
    const std::uint16_t slot = util::key_slot(key);
    move_slot(slot, server_serving(slot), another_primary(slot), [] {});
    const std::uint64_t reads = client_->topology_reads();
    const auto first = call(key);
    ASSERT_TRUE(first.has_server_error()) << key << ": the stale map's node answered";
    EXPECT_NE(first.server_error().message.find("MOVED"), std::string::npos)
        << first.server_error().message;
    ASSERT_TRUE(test::run_until(
        *r_, [&] { return client_->topology_reads() > reads; }, 5s))
        << key << ": the MOVED did not make the client read the topology";
    const auto second = call(key);
    EXPECT_TRUE(second.has_value())
        << key << ": " << (second.has_server_error() ? second.server_error().message : "error");
  };
  moved_then_answered(run_script, "{moved-script}:n");
  moved_then_answered(run_transaction, "{moved-tx}:n");
}

TEST_F(ClusterClient, writes_held_through_an_unserved_slot_run_in_the_order_issued) {
  // The slot's owner forgets it: every command for it meets CLUSTERDOWN until it is added
  // back. INCRs issued before and during that outage must run in the order issued, each once:
  // the i-th returns i + 1 (held_slots.hpp: the ones on the wire when the slot went down come
  // back first, later ones queue behind them, one probe at a time).
  const std::string key = "{held}:counter";
  const std::uint16_t slot = util::key_slot(key);
  ASSERT_TRUE(run(cmd::del{key}).has_value());
  test::redis_server& owner = server_serving(slot);
  const std::string slot_text = std::to_string(slot);
  ASSERT_EQ(owner.command({"CLUSTER", "DELSLOTS", slot_text}), "+OK\r\n");

  constexpr int n = 600;
  std::vector<std::int64_t> values(n, 0);
  std::vector<std::string> errors;
  int done = 0;
  const auto issue = [&](int i) {
    client_->exec(cmd::incr{key}, [&, i](result<std::int64_t> r) {
      ++done;
      if (r.has_value()) {
        values[static_cast<std::size_t>(i)] = *r;
      } else {
        errors.push_back(r.has_error() ? r.error().message() : r.server_error().message);
      }
    });
  };
  for (int i = 0; i < n / 2; ++i)
    issue(i);
  // All of them came back and wait (the probe on the wire is not counted).
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return client_->waiting() >= n / 2 - 1; }, 10s))
      << client_->waiting();
  for (int i = n / 2; i < n; ++i)
    issue(i);
  EXPECT_GE(client_->waiting(), static_cast<std::size_t>(n - 1)) << "issued since: held back";
  // A command held with a timeout of its own keeps it: it fails where it waits.
  std::optional<result<std::optional<std::string>>> timed;
  client_->exec(
      cmd::get{key}, [&](result<std::optional<std::string>> r) { timed.emplace(std::move(r)); },
      exec_options{.timeout = 100ms});
  test::run_for(*r_, 300ms);  // probes meet CLUSTERDOWN again, and stay first
  EXPECT_EQ(done, 0) << (errors.empty() ? "" : errors.front());
  ASSERT_TRUE(timed.has_value()) << "a held command must keep its deadline";
  EXPECT_TRUE(timed->has_error() && timed->error() == errc::timeout);

  ASSERT_EQ(owner.command({"CLUSTER", "ADDSLOTS", slot_text}), "+OK\r\n");
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return done == n; }, 10s))
      << done << " of " << n;
  EXPECT_TRUE(errors.empty()) << errors.size() << " errors, first: " << errors.front();
  int out_of_order = 0;
  for (int i = 0; i < n; ++i)
    if (values[static_cast<std::size_t>(i)] != i + 1) ++out_of_order;
  EXPECT_EQ(out_of_order, 0) << "INCR #0 returned " << values[0] << ", #" << n - 1 << " returned "
                             << values[n - 1];
  EXPECT_EQ(*run(cmd::get{key}), std::to_string(n));
  EXPECT_EQ(client_->waiting(), 0u);
}

// A load of SET then GET chains: each chain writes key n with its value, reads it back, and
// moves on to the next n; every error (and every value read back wrong) is counted.
struct set_get_load {
  cluster_client* client;
  std::vector<std::string> keys;
  std::vector<char> written;  // per key: the SET succeeded
  std::vector<std::string> errors;
  std::size_t next = 0;
  std::size_t in_flight = 0;
  bool stopping = false;
  // Outcomes a failover may give a write (it may or may not have run): counted apart.
  bool writes_may_be_unknown = false;
  std::size_t unknown = 0;

  static std::string value_of(std::size_t n) { return "value-" + std::to_string(n); }

  void start(std::size_t chains) {
    for (std::size_t i = 0; i < chains; ++i)
      chain();
  }
  void chain() {
    if (stopping || next >= keys.size()) return;
    const std::size_t n = next++;
    ++in_flight;
    const std::string value = value_of(n);
    client->exec(cmd::set{keys[n], value}, [this, n](result<cmd::applied> r) {
      if (r.has_value() && *r) {
        written[n] = 1;
        read(n);
        return;
      }
      if (writes_may_be_unknown && r.has_error() && r.error() == errc::outcome_unknown) {
        ++unknown;
      } else {
        errors.push_back("SET " + keys[n] + ": " +
                         (r.has_error() ? r.error().message() : r.server_error().message));
      }
      --in_flight;
      chain();
    });
  }
  void read(std::size_t n) {
    client->exec(cmd::get{keys[n]}, [this, n](result<std::optional<std::string>> r) {
      if (!r.has_value() || *r != value_of(n))
        errors.push_back("GET " + keys[n] + ": " +
                         (r.has_error()          ? r.error().message()
                          : r.has_server_error() ? r.server_error().message
                                                 : r->value_or("(nil)")));
      --in_flight;
      chain();
    });
  }
};

TEST_F(ClusterClient, live_resharding_of_a_thousand_slots_under_load_loses_nothing) {
  // The first 1000 slots of the first shard move to the next one while SETs and GETs run.
  const slot_map& m = client_->slots();
  std::vector<std::uint16_t> moving;
  const std::uint16_t from_shard = m.shard_of(0);
  for (std::uint32_t s = 0; s < util::cluster_slots && moving.size() < 1000; ++s)
    if (m.shard_of(static_cast<std::uint16_t>(s)) == from_shard)
      moving.push_back(static_cast<std::uint16_t>(s));
  ASSERT_EQ(moving.size(), 1000u);
  test::redis_server& from = server_serving(moving.front());
  test::redis_server& to = another_primary(moving.front());

  set_get_load load{client_.get(), {}, {}, {}};
  // Half the keys in the moving slots, half anywhere.
  std::vector<char> is_moving(util::cluster_slots, 0);
  for (const std::uint16_t s : moving)
    is_moving[s] = 1;
  for (std::size_t i = 0; load.keys.size() < 40000; ++i) {
    std::string key = "reshard:" + std::to_string(i);
    if (is_moving[util::key_slot(key)] || i % 2 == 0) load.keys.push_back(std::move(key));
  }
  load.written.assign(load.keys.size(), 0);

  std::atomic<bool> moved{false};
  std::thread resharder([&] {
    for (const std::uint16_t s : moving)
      move_slot(s, from, to, [] {});
    moved = true;
  });
  load.start(64);
  const bool finished = test::run_until(
      *r_,
      [&] {
        if (moved && load.next >= 5000) load.stopping = true;
        if (load.in_flight == 0 && load.next < load.keys.size() && !load.stopping) load.start(64);
        return moved && load.stopping && load.in_flight == 0;
      },
      120s);
  resharder.join();
  ASSERT_TRUE(finished) << "in flight " << load.in_flight << " next " << load.next;
  EXPECT_TRUE(load.errors.empty()) << load.errors.size() << " errors, first: " << load.errors[0];
  EXPECT_GE(load.next, 5000u);
  EXPECT_GT(client_->topology_reads(), 1u);  // MOVED replies were met, and refreshed the map

  // Every write is readable with its value, and the map names the new owner.
  std::size_t checked = 0;
  std::size_t wrong = 0;
  for (std::size_t n = 0; n < load.next; ++n) {
    if (!load.written[n]) continue;
    client_->exec(cmd::get{load.keys[n]}, [&, n](result<std::optional<std::string>> r) {
      ++checked;
      if (!r.has_value() || *r != set_get_load::value_of(n)) ++wrong;
    });
  }
  const std::size_t expected =
      static_cast<std::size_t>(std::count(load.written.begin(), load.written.end(), char{1}));
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return checked == expected; }, 30s));
  EXPECT_EQ(wrong, 0u);
  test::shared_cluster()->wait_stable();
  client_->refresh();
  ASSERT_TRUE(test::run_until(
      *r_,
      [&] {
        return client_->slots().node(client_->slots().primary_of(moving.back())).address.port ==
               to.port();
      },
      10s));
}

TEST_F(ClusterClient, the_map_follows_a_node_added_and_removed) {
  std::vector<std::uint16_t> added;
  std::vector<std::uint16_t> removed;
  event::listener<event::node_added> on_added(
      r_->events(), [&](const event::node_added& e) { added.push_back(e.port); });
  event::listener<event::node_removed> on_removed(
      r_->events(), [&](const event::node_removed& e) { removed.push_back(e.port); });
  std::size_t changes = 0;
  event::listener<event::topology_changed> on_changed(
      r_->events(), [&](const event::topology_changed&) { ++changes; });

  // A new node joins as a replica of the first primary (CLUSTER SLOTS lists replicas).
  test::redis_server_options o;
  const std::string bus_port = std::to_string(test::free_loopback_port());
  o.args = {"--cluster-enabled", "yes",    "--cluster-config-file",  "nodes.conf",
            "--cluster-port",    bus_port, "--cluster-node-timeout", "1500"};
  auto extra = std::make_unique<test::redis_server>(std::move(o));
  const std::uint16_t port = extra->port();
  test::redis_server& seed = test::shared_cluster()->node(0);
  ASSERT_EQ(seed.command({"CLUSTER", "MEET", "127.0.0.1", std::to_string(port), bus_port}),
            "+OK\r\n");
  const slot_map& m = client_->slots();
  const std::string primary_id = m.node(m.shards()[0].primary).id;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  std::string reply;
  while (std::chrono::steady_clock::now() < deadline) {
    reply = extra->command({"CLUSTER", "REPLICATE", primary_id});
    if (reply == "+OK\r\n") break;
    std::this_thread::sleep_for(100ms);  // the new node does not know the primary yet
  }
  ASSERT_EQ(reply, "+OK\r\n");
  ASSERT_TRUE(test::run_until(
      *r_,
      [&] {
        client_->refresh();
        return client_->slots().find({"127.0.0.1", port}) != slot_map::no_node;
      },
      20s));
  EXPECT_EQ(added, std::vector<std::uint16_t>{port});
  EXPECT_GE(changes, 1u);

  // It goes: killed and forgotten by every node.
  const std::string extra_id = test::node_id(*extra);
  extra->kill();
  for (std::size_t i = 0; i < test::shared_cluster()->size(); ++i) {
    if (test::shared_cluster()->node(i).running())
      (void)test::shared_cluster()->node(i).command({"CLUSTER", "FORGET", extra_id});
  }
  ASSERT_TRUE(test::run_until(
      *r_,
      [&] {
        client_->refresh();
        return client_->slots().find({"127.0.0.1", port}) == slot_map::no_node;
      },
      20s));
  EXPECT_EQ(removed, std::vector<std::uint16_t>{port});
  extra.reset();
  test::shared_cluster()->wait_stable();
}

// A new primary joins empty (CLUSTER SLOTS lists no node without slots) and imports a slot: the
// ASK to it is followed, though the map does not name it. Then it serves an empty slot, and the
// slot is given back while a write waits on it (paused): the new node leaves the map with the
// write in flight, so its connection retires; the write is answered (MOVED on), and the next
// topology closes the retired connection, once.
TEST_F(ClusterClient, a_new_primary_known_from_an_ask_is_followed_and_then_retires_cleanly) {
  test::redis_server_options o;
  const std::string bus_port = std::to_string(test::free_loopback_port());
  // Replica migration off: a primary whose last slot goes would become the new owner's replica.
  o.args = {"--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-port",
            bus_port,
            "--cluster-node-timeout",
            "1500",
            "--cluster-allow-replica-migration",
            "no"};
  auto extra = std::make_unique<test::redis_server>(std::move(o));
  const node_address extra_address{"127.0.0.1", extra->port()};
  const std::string extra_id = test::node_id(*extra);
  // However the test ends (a failed ASSERT returns early), the node leaves: killed and forgotten
  // by every node, so that the tests after this one find the cluster as it was.
  struct leaves_at_the_end {
    std::unique_ptr<test::redis_server>& node;
    const std::string& id;
    ~leaves_at_the_end() {
      node->kill();
      for (std::size_t i = 0; i < test::shared_cluster()->size(); ++i) {
        if (test::shared_cluster()->node(i).running())
          (void)test::shared_cluster()->node(i).command({"CLUSTER", "FORGET", id});
      }
      node.reset();
      test::shared_cluster()->wait_stable();
    }
  } leaves{extra, extra_id};
  ASSERT_EQ(test::shared_cluster()->node(0).command(
                {"CLUSTER", "MEET", "127.0.0.1", std::to_string(extra->port()), bus_port}),
            "+OK\r\n");
  // SETSLOT NODE names it by id: every node must know it first; and it must see the cluster up
  // (MIGRATE to a node that sees it down fails).
  const auto known_by_all = [&] {
    if (extra->command({"CLUSTER", "INFO"}).find("cluster_state:ok") == std::string::npos)
      return false;
    for (std::size_t i = 0; i < test::shared_cluster()->size(); ++i) {
      test::redis_server& n = test::shared_cluster()->node(i);
      if (n.running() && n.command({"CLUSTER", "NODES"}).find(extra_id) == std::string::npos)
        return false;
    }
    return true;
  };
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!known_by_all() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(known_by_all());
  client_->refresh();
  test::run_for(*r_, 200ms);
  ASSERT_EQ(client_->slots().find(extra_address), slot_map::no_node) << "it serves no slot";

  // The ASK names a node the map does not: followed at once.
  const std::string key = "{ask-new}:k";
  const std::uint16_t slot = util::key_slot(key);
  ASSERT_TRUE(run(cmd::set{key, "moved"}).has_value());
  test::redis_server& from = server_serving(slot);
  move_slot(slot, from, *extra, [&] {
    const auto started = std::chrono::steady_clock::now();
    const auto v = run(cmd::get{key});
    ASSERT_TRUE(v.has_value()) << (v.has_error() ? v.error().message() : v.server_error().message);
    EXPECT_EQ(*v, "moved");
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1s) << "the ASK waited for a topology";
  });
  EXPECT_EQ(*run(cmd::get{key}), "moved");  // MOVED: the map names it now
  EXPECT_NE(client_->slots().find(extra_address), slot_map::no_node);
  move_slot(slot, *extra, from, [] {});
  EXPECT_EQ(*run(cmd::get{key}), "moved");

  // An empty slot on the new node, known to the client, and a write waiting on it there.
  // (The other tests' keys are spread over every slot: find one that holds none.)
  std::string waiting_key;
  for (int i = 0; waiting_key.empty() && i < 1000; ++i) {
    const std::string k = "{retire-" + std::to_string(i) + "}:k";
    const std::string count =
        server_serving(util::key_slot(k))
            .command({"CLUSTER", "COUNTKEYSINSLOT", std::to_string(util::key_slot(k))});
    if (count == ":0\r\n") waiting_key = k;
  }
  ASSERT_FALSE(waiting_key.empty()) << "no empty slot";
  const std::uint16_t empty_slot = util::key_slot(waiting_key);
  test::redis_server& owner = server_serving(empty_slot);
  move_slot(empty_slot, owner, *extra, [] {});
  ASSERT_TRUE(run(cmd::get{waiting_key}).has_value());  // MOVED to it
  ASSERT_NE(client_->slots().find(extra_address), slot_map::no_node);
  ASSERT_EQ(extra->command({"CLIENT", "PAUSE", "20000", "WRITE"}), "+OK\r\n");
  std::optional<result<cmd::applied>> written;
  client_->exec(cmd::set{waiting_key, "late"},
                [&](result<cmd::applied> r) { written.emplace(std::move(r)); });
  test::run_for(*r_, 100ms);
  ASSERT_FALSE(written.has_value()) << "the paused node answered";

  // The slot goes back (SETSLOT is not a write: the paused node takes it too), and the client
  // reads a topology without the new node: its connection, one reply due, retires.
  const std::string s = std::to_string(empty_slot);
  const std::string owner_id = test::node_id(owner);
  ASSERT_EQ(owner.command({"CLUSTER", "SETSLOT", s, "IMPORTING", extra_id}), "+OK\r\n");
  ASSERT_EQ(owner.command({"CLUSTER", "SETSLOT", s, "NODE", owner_id}), "+OK\r\n");
  ASSERT_EQ(extra->command({"CLUSTER", "SETSLOT", s, "NODE", owner_id}), "+OK\r\n");
  for (std::size_t i = 0; i < test::shared_cluster()->size(); ++i) {
    test::redis_server& n = test::shared_cluster()->node(i);
    if (n.running() && &n != &owner) (void)n.command({"CLUSTER", "SETSLOT", s, "NODE", owner_id});
  }
  ASSERT_TRUE(test::run_until(
      *r_,
      [&] {
        client_->refresh();
        return client_->slots().find(extra_address) == slot_map::no_node;
      },
      20s));
  EXPECT_FALSE(written.has_value());

  // Unpaused: MOVED to the owner, where the write lands; then a topology read sweeps the
  // retired connection (ready, nothing due), whose close must not sweep it a second time.
  ASSERT_EQ(extra->command({"CLIENT", "UNPAUSE"}), "+OK\r\n");
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return written.has_value(); }, 10s));
  EXPECT_TRUE(written->has_value())
      << (written->has_error() ? written->error().message() : written->server_error().message);
  EXPECT_EQ(*run(cmd::get{waiting_key}), "late");
  const std::uint64_t reads = client_->topology_reads();
  ASSERT_TRUE(test::run_until(
      *r_,
      [&] {
        client_->refresh();
        return client_->topology_reads() > reads;
      },
      10s));
  // Closed: the new node's clients are the one asking and the MIGRATE connection the old
  // owner keeps (its last command RESTORE-ASKING).
  const auto clients_of_extra = [&] {
    const std::string list = extra->command({"CLIENT", "LIST"});
    std::size_t n = 0;
    for (auto at = list.find(" cmd="); at != std::string::npos; at = list.find(" cmd=", at + 1)) {
      if (list.compare(at, 19, " cmd=restore-asking") != 0) ++n;
    }
    return n;
  };
  for (int i = 0; i < 100 && clients_of_extra() > 1; ++i)
    std::this_thread::sleep_for(20ms);
  EXPECT_EQ(clients_of_extra(), 1u) << extra->command({"CLIENT", "LIST"});
}

// Last: it changes the cluster for good (a replica becomes a primary).
TEST_F(ClusterClient, a_killed_primary_under_load_fails_over_and_every_command_is_accounted) {
  const std::string probe = "{failover}:probe";
  const std::uint16_t slot = util::key_slot(probe);
  test::redis_server& victim = server_serving(slot);
  const std::uint16_t victim_port = victim.port();

  set_get_load load{client_.get(), {}, {}, {}};
  load.writes_may_be_unknown = true;
  for (std::size_t i = 0; i < 200000; ++i)
    load.keys.push_back("failover:" + std::to_string(i));
  load.written.assign(load.keys.size(), 0);
  load.start(32);
  test::run_for(*r_, 200ms);  // the load runs against a healthy cluster first
  const std::size_t before = load.next;

  const auto killed_at = std::chrono::steady_clock::now();
  victim.kill();
  // The client sends the probe's slot to the promoted replica within the node timeout plus a
  // refresh (the election itself takes up to a second or so after the timeout).
  const bool promoted = test::run_until(
      *r_,
      [&] {
        const slot_map& m = client_->slots();
        const std::uint16_t p = m.primary_of(slot);
        return p != slot_map::no_node && m.node(p).address.port != victim_port;
      },
      15s);
  const auto took = std::chrono::steady_clock::now() - killed_at;
  ASSERT_TRUE(promoted);
  EXPECT_LT(took, 1500ms + 2500ms)
      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  const auto probe_set = run(cmd::set{probe, "after"});
  EXPECT_TRUE(probe_set.has_value());

  // The load goes on against the new topology, then stops; everything completed, and the
  // only failures are writes whose outcome cannot be known.
  const std::size_t at_promotion = load.next;
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return load.next >= at_promotion + 2000; }, 30s));
  load.stopping = true;
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return load.in_flight == 0; }, 30s));
  EXPECT_GT(load.next, before);
  EXPECT_TRUE(load.errors.empty()) << load.errors.size() << " errors, first: " << load.errors[0];
  std::printf(
      "failover: new primary in use after %lld ms, %zu writes outcome_unknown\n",
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
      load.unknown);
}

}  // namespace
}  // namespace uredis::cluster

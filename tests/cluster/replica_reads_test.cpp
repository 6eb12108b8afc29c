// cluster_client reading from replicas, against one real cluster (3 primaries, 3 replicas, made
// by redis-cli --cluster create) shared by every test of this program: prefer_replica sends reads
// to replicas and writes to primaries, round_robin spreads reads over both, a call may ask for
// replica reads under policy primary, READONLY is sent again on a replica's new connection, a
// replica that redirects a read sends it to the primary, and a killed replica's reads go to the
// primary. Where each command ran is read from the servers' own INFO commandstats and CLIENT
// LIST. The tests run in this order (the last one kills and restarts a replica).

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/parse_reply.hpp"
#include "../support/redis_cluster.hpp"
#include "../support/shared_cluster.hpp"
#include "uredis/cluster/cluster_client.hpp"
#include "uredis/cmd/all.hpp"
#include "uredis/cmd/raw.hpp"
#include "uredis/resp/reply.hpp"

namespace uredis::cluster {
namespace {

using namespace std::chrono_literals;

// `field` of the line `name:...` of INFO `section` (cmdstat_get:calls=5,...,rejected_calls=0),
// 0 when the server has no such line (a command it never ran).
std::int64_t info_field(const test::redis_server& s, std::string_view section,
                        std::string_view name, std::string_view field) {
  const std::string text(test::parse_reply(s.command({"INFO", section})).text());
  const std::string head = "\n" + std::string(name) + ":";
  std::size_t at = text.find(head);
  if (at == std::string::npos) return 0;
  const std::size_t end = text.find('\r', at + 1);
  const std::string line = text.substr(at + head.size(), end - at - head.size());
  const std::string key = std::string(field) + "=";
  std::size_t f = 0;
  while (f < line.size()) {
    const std::size_t next = line.find(',', f);
    const std::string part =
        line.substr(f, next == std::string::npos ? std::string::npos : next - f);
    if (part.starts_with(key)) return std::stoll(part.substr(key.size()));
    if (next == std::string::npos) break;
    f = next + 1;
  }
  return 0;
}

std::int64_t gets(const test::redis_server& s) {
  return info_field(s, "commandstats", "cmdstat_get", "calls");
}
std::int64_t refused_gets(const test::redis_server& s) {  // MOVED replies to GET
  return info_field(s, "commandstats", "cmdstat_get", "rejected_calls");
}
std::int64_t sets(const test::redis_server& s) {
  return info_field(s, "commandstats", "cmdstat_set", "calls");
}
std::int64_t refused_sets(const test::redis_server& s) {
  return info_field(s, "commandstats", "cmdstat_set", "rejected_calls");
}

// How many of the server's clients said READONLY (CLIENT LIST: flags=r).
int readonly_clients(const test::redis_server& s) {
  const std::string text(test::parse_reply(s.command({"CLIENT", "LIST"})).text());
  int n = 0;
  for (std::size_t at = text.find(" flags="); at != std::string::npos;
       at = text.find(" flags=", at + 1)) {
    const std::size_t end = text.find(' ', at + 1);
    if (text.substr(at + 7, end - at - 7).find('r') != std::string::npos) ++n;
  }
  return n;
}

std::string key(int i) {
  return "rr:" + std::to_string(i);
}
std::string value(int i) {
  return "value-" + std::to_string(i);
}

class ReplicaReads : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NE(test::shared_cluster(), nullptr); }
  void TearDown() override {
    client_.reset();
    r_.reset();
  }

  void start(read_policy reads) {
    r_ = test::make_reactor();
    ASSERT_NE(r_, nullptr);
    cluster_config config;
    for (std::size_t i = 0; i < test::shared_cluster()->size(); ++i) {
      if (test::shared_cluster()->node(i).running())
        config.seeds.push_back({"127.0.0.1", test::shared_cluster()->node(i).port()});
    }
    config.reads = reads;
    client_ = std::make_unique<cluster_client>(*r_, std::move(config));
    std::optional<result<void>> connected;
    client_->connect([&](const result<void>& r) { connected = r; });
    ASSERT_TRUE(test::run_until(
        *r_, [&] { return connected.has_value(); }, 10s));
    ASSERT_TRUE(connected->has_value()) << connected->error().message();
    const slot_map& m = client_->slots();
    ASSERT_EQ(m.shards().size(), 3u);
    primaries_.clear();
    replicas_.clear();
    for (const shard& s : m.shards()) {
      primaries_.push_back(test::shared_cluster()->node_on_port(m.node(s.primary).address.port));
      ASSERT_EQ(s.replicas.size(), 1u);
      replicas_.push_back(test::shared_cluster()->node_on_port(m.node(s.replicas[0]).address.port));
    }
  }

  // Writes keys [0, n) and waits until every one reads back through the client (replication
  // is asynchronous: a replica may not have them yet).
  void write_keys(int n) {
    int done = 0;
    int errors = 0;
    for (int i = 0; i < n; ++i) {
      client_->exec(cmd::set{key(i), value(i)}, [&](result<cmd::applied> r) {
        ++done;
        if (!r.has_value() || !*r) ++errors;
      });
    }
    ASSERT_TRUE(test::run_until(
        *r_, [&] { return done == n; }, 20s));
    ASSERT_EQ(errors, 0);
    bool all = false;
    for (int round = 0; round < 100 && !all; ++round) {
      all = read_keys(n, exec_options{}) == 0;
      if (!all) test::run_for(*r_, 50ms);
    }
    ASSERT_TRUE(all) << "the replicas never caught up";
  }

  // Reads keys [0, n) with `options`; returns how many failed or read a wrong value.
  int read_keys(int n, const exec_options& options) {
    int done = 0;
    int wrong = 0;
    for (int i = 0; i < n; ++i) {
      client_->exec(
          cmd::get{key(i)},
          [&, i](result<std::optional<std::string>> r) {
            ++done;
            if (!r.has_value() || *r != value(i)) ++wrong;
          },
          options);
    }
    EXPECT_TRUE(test::run_until(
        *r_, [&] { return done == n; }, 20s))
        << done << " of " << n;
    return wrong + (n - done);
  }

  template <class F>
  std::int64_t sum(const std::vector<test::redis_server*>& nodes, F&& stat) {
    std::int64_t total = 0;
    for (const test::redis_server* s : nodes)
      total += stat(*s);
    return total;
  }

  std::unique_ptr<reactor::reactor> r_;
  std::unique_ptr<cluster_client> client_;
  std::vector<test::redis_server*> primaries_;  // by shard
  std::vector<test::redis_server*> replicas_;   // by shard
};

TEST_F(ReplicaReads, prefer_replica_reads_from_replicas_and_writes_to_primaries) {
  ASSERT_NO_FATAL_FAILURE(start(read_policy::prefer_replica));
  constexpr int n = 600;
  const std::int64_t sets_before = sum(primaries_, sets);
  const std::int64_t refused_before = sum(replicas_, refused_sets);
  ASSERT_NO_FATAL_FAILURE(write_keys(n));
  // Every SET went to a primary, and none was refused by a replica on the way.
  EXPECT_EQ(sum(primaries_, sets) - sets_before, n);
  EXPECT_EQ(sum(replicas_, refused_sets), refused_before);

  const std::int64_t primary_gets = sum(primaries_, gets);
  std::vector<std::int64_t> replica_gets;
  for (const test::redis_server* s : replicas_)
    replica_gets.push_back(gets(*s));
  const std::int64_t refused_gets_before = sum(replicas_, refused_gets);
  EXPECT_EQ(read_keys(n, exec_options{}), 0);
  EXPECT_EQ(sum(primaries_, gets), primary_gets);  // no read reached a primary
  std::int64_t on_replicas = 0;
  for (std::size_t i = 0; i < replicas_.size(); ++i) {
    const std::int64_t got = gets(*replicas_[i]) - replica_gets[i];
    EXPECT_GT(got, 0) << "replica of shard " << i;
    on_replicas += got;
  }
  EXPECT_EQ(on_replicas, n);
  EXPECT_EQ(sum(replicas_, refused_gets), refused_gets_before);  // READONLY: no MOVED
  for (const test::redis_server* s : replicas_)
    EXPECT_GE(readonly_clients(*s), 1);

  // A transaction and a script go to the primary whatever the policy.
  const std::int64_t primary_gets_now = sum(primaries_, gets);
  std::optional<result<resp::reply>> ran;
  client_->exec(cmd::eval<>{"return redis.call('GET', KEYS[1])", {key(1)}, {}},
                [&](result<resp::reply> r) { ran.emplace(std::move(r)); });
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return ran.has_value(); }, 10s));
  ASSERT_TRUE(ran->has_value());
  EXPECT_EQ((*ran)->text(), value(1));
  EXPECT_EQ(sum(primaries_, gets), primary_gets_now + 1);  // the script's GET, on a primary
  // EVAL_RO only reads: it may go to a replica.
  const std::int64_t replica_gets_now = sum(replicas_, gets);
  std::optional<result<resp::reply>> ro;
  client_->exec(cmd::eval_ro<>{"return redis.call('GET', KEYS[1])", {key(2)}, {}},
                [&](result<resp::reply> r) { ro.emplace(std::move(r)); });
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return ro.has_value(); }, 10s));
  ASSERT_TRUE(ro->has_value());
  EXPECT_EQ((*ro)->text(), value(2));
  EXPECT_EQ(sum(replicas_, gets), replica_gets_now + 1);
}

TEST_F(ReplicaReads, round_robin_spreads_reads_over_primaries_and_replicas) {
  ASSERT_NO_FATAL_FAILURE(start(read_policy::round_robin));
  constexpr int n = 600;
  ASSERT_NO_FATAL_FAILURE(write_keys(n));
  std::vector<std::int64_t> before;
  for (const test::redis_server* s : primaries_)
    before.push_back(gets(*s));
  for (const test::redis_server* s : replicas_)
    before.push_back(gets(*s));
  EXPECT_EQ(read_keys(n, exec_options{}), 0);
  std::int64_t on_primaries = 0;
  std::int64_t on_replicas = 0;
  for (std::size_t i = 0; i < primaries_.size(); ++i) {
    const std::int64_t p = gets(*primaries_[i]) - before[i];
    const std::int64_t r = gets(*replicas_[i]) - before[primaries_.size() + i];
    // The shard's reads alternate: primary, replica, primary...
    EXPECT_GT(p, 0) << "primary of shard " << i;
    EXPECT_GT(r, 0) << "replica of shard " << i;
    EXPECT_LE(p > r ? p - r : r - p, 2) << "shard " << i;
    on_primaries += p;
    on_replicas += r;
  }
  EXPECT_EQ(on_primaries + on_replicas, n);
}

TEST_F(ReplicaReads, a_call_asks_for_replica_reads_under_policy_primary) {
  ASSERT_NO_FATAL_FAILURE(start(read_policy::primary));
  constexpr int n = 200;
  ASSERT_NO_FATAL_FAILURE(write_keys(n));  // policy primary: these reads hit primaries
  const std::int64_t primary_gets = sum(primaries_, gets);
  const std::int64_t replica_gets = sum(replicas_, gets);
  EXPECT_EQ(read_keys(n, exec_options{.reads = read_policy::prefer_replica}), 0);
  EXPECT_EQ(sum(primaries_, gets), primary_gets);
  EXPECT_EQ(sum(replicas_, gets), replica_gets + n);
  // And the default again: primaries.
  EXPECT_EQ(read_keys(n, exec_options{}), 0);
  EXPECT_EQ(sum(primaries_, gets), primary_gets + n);
  EXPECT_EQ(sum(replicas_, gets), replica_gets + n);
}

TEST_F(ReplicaReads, readonly_is_sent_again_on_a_replicas_new_connection) {
  ASSERT_NO_FATAL_FAILURE(start(read_policy::prefer_replica));
  constexpr int n = 300;
  ASSERT_NO_FATAL_FAILURE(write_keys(n));
  const std::int64_t refused_before = sum(replicas_, refused_gets);
  // Cut every client connection to the replicas (the fixture's own is spared: SKIPME).
  for (test::redis_server* s : replicas_) {
    const std::string killed = s->command({"CLIENT", "KILL", "TYPE", "normal"});
    ASSERT_TRUE(killed.starts_with(":")) << killed;
    ASSERT_NE(killed, ":0\r\n");
    EXPECT_EQ(readonly_clients(*s), 0);
  }
  // Reads keep succeeding (on the primaries while the replicas are skipped), and once the
  // topology is read again they land on the replicas' new connections, which said READONLY:
  // no replica ever answers one with MOVED.
  const std::int64_t replica_gets = sum(replicas_, gets);
  bool back = false;
  for (int round = 0; round < 100 && !back; ++round) {
    ASSERT_EQ(read_keys(n, exec_options{}), 0) << "round " << round;
    back = sum(replicas_, gets) - replica_gets >= n;
    if (!back) test::run_for(*r_, 50ms);
  }
  EXPECT_TRUE(back) << "reads never came back to the replicas";
  for (const test::redis_server* s : replicas_)
    EXPECT_GE(readonly_clients(*s), 1);
  EXPECT_EQ(sum(replicas_, refused_gets), refused_before);
}

TEST_F(ReplicaReads, a_replica_that_redirects_a_read_sends_it_to_the_primary) {
  ASSERT_NO_FATAL_FAILURE(start(read_policy::prefer_replica));
  constexpr int n = 300;
  ASSERT_NO_FATAL_FAILURE(write_keys(n));
  // READWRITE undoes READONLY on the client's connection to one replica: it answers the reads
  // it gets with MOVED to its primary, as a replica that lost READONLY would.
  const slot_map& m = client_->slots();
  const node_address replica = m.node(m.shards()[0].replicas[0]).address;
  connection* c = client_->connection_to(replica);
  ASSERT_NE(c, nullptr);
  std::optional<result<resp::reply>> rw;
  c->exec(cmd::raw{"READWRITE"}, [&](result<resp::reply> r) { rw.emplace(std::move(r)); });
  ASSERT_TRUE(test::run_until(
      *r_, [&] { return rw.has_value(); }, 10s));
  ASSERT_TRUE(rw->has_value());
  test::redis_server& moved_by = *test::shared_cluster()->node_on_port(replica.port);
  const std::int64_t refused_before = refused_gets(moved_by);
  const std::int64_t primary_gets = gets(*primaries_[0]);
  // Every read is answered, the redirected ones by the primary: none loops or fails.
  EXPECT_EQ(read_keys(n, exec_options{}), 0);
  EXPECT_GE(refused_gets(moved_by) - refused_before, 1);
  EXPECT_GE(gets(*primaries_[0]) - primary_gets, 1);
}

TEST_F(ReplicaReads, a_killed_replicas_reads_go_to_the_primary) {
  ASSERT_NO_FATAL_FAILURE(start(read_policy::prefer_replica));
  constexpr int n = 300;
  ASSERT_NO_FATAL_FAILURE(write_keys(n));
  test::redis_server& victim = *replicas_[1];
  victim.kill();
  // Reads in flight and after: all answered, from the primaries, while the replica is down.
  for (int round = 0; round < 5; ++round)
    EXPECT_EQ(read_keys(n, exec_options{}), 0) << "round " << round;
  test::run_for(*r_, 2s);  // past cluster-node-timeout: the cluster marks the replica failed
  const std::int64_t primary_gets = gets(*primaries_[1]);
  EXPECT_EQ(read_keys(n, exec_options{}), 0);
  EXPECT_GT(gets(*primaries_[1]), primary_gets);

  // Back, resynchronised: reads find it again after a refresh.
  victim.start();
  test::shared_cluster()->wait_stable();
  ASSERT_TRUE(test::run_until(
      *r_,
      [&] {
        const std::string text(test::parse_reply(victim.command({"INFO", "replication"})).text());
        return text.find("master_link_status:up") != std::string::npos;
      },
      20s));
  client_->refresh();
  const std::int64_t victim_gets = gets(victim);
  bool back = false;
  for (int round = 0; round < 100 && !back; ++round) {
    ASSERT_EQ(read_keys(n, exec_options{}), 0) << "round " << round;
    back = gets(victim) > victim_gets;
    if (!back) test::run_for(*r_, 100ms);
  }
  EXPECT_TRUE(back);
}

}  // namespace
}  // namespace uredis::cluster

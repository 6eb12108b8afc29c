// A connection asking the Sentinels for a replica (sentinel_role=replica) against real
// Sentinels: a primary, two replicas and three Sentinels (tests/support/redis_sentinel.hpp),
// shared by the program's tests, which run in order: the last one kills both replicas.

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/eventually.hpp"
#include "../support/redis_sentinel.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/cmd/raw.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/retry/retry_policy.hpp"
#include "uredis/sentinel/primary_locator.hpp"

namespace uredis::sentinel {
namespace {

using namespace std::chrono_literals;

class ReplicaRole : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    test::redis_sentinel_options options;
    options.replicas = 2;
    set_ = new test::redis_sentinel(options);
  }
  static void TearDownTestSuite() {
    delete set_;
    set_ = nullptr;
  }

  void SetUp() override { r_ = test::make_reactor(); }

  // A replica-role config from the set's URL, retrying steadily (the tests kill servers).
  static connection_config replica_config() {
    std::string_view why;
    result<connection_config> c = parse_url(set_->url() + "?sentinel_role=replica", &why);
    EXPECT_TRUE(c.has_value()) << why;
    connection_config config = c ? *c : connection_config{};
    config.retry = retry::retry_policy(
        retry::backoff::exponential_with_jitter(std::chrono::milliseconds(20), 200ms), -1);
    return config;
  }

  // Runs `command` on `c` and returns its outcome (nullopt: no answer within 5 s).
  template <class Command>
  std::optional<result<typename Command::response>> run(connection& c, const Command& command) {
    return test::exec_within(*r_, c, command);
  }

  bool connect(connection& c) {
    const std::optional<result<void>> done = test::connect_within(*r_, c);
    return done && done->has_value();
  }

  // The port of the server `c` is connected to, as it says itself; 0 if it does not answer.
  std::uint16_t port_of(connection& c) {
    const auto r = run(c, cmd::raw<std::vector<std::string>>{"CONFIG", "GET", "port"});
    if (!r || !r->has_value() || (*r)->size() != 2) return 0;
    return static_cast<std::uint16_t>(std::stoi((**r)[1]));
  }

  // ROLE's first element through `c`: "master" or "slave"; "" if it does not answer.
  std::string role_of(connection& c) {
    const auto r = run(c, cmd::raw{"ROLE"});
    if (!r || !r->has_value() || (*r)->elements().empty()) return {};
    return std::string((*r)->elements()[0].text());
  }

  // Checks `holds` (which may run commands, so it is not a run_until predicate) every 100 ms of
  // reactor time, up to `limit`.
  template <class Predicate>
  bool poll(Predicate&& holds, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!holds()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      test::run_for(*r_, 100ms);
    }
    return true;
  }

  static bool is_replica_port(std::uint16_t port) {
    test::redis_server* primary = set_->primary();
    for (std::size_t i = 0; i < set_->data_count(); ++i)
      if (&set_->data(i) != primary && set_->data(i).port() == port) return true;
    return false;
  }

  static test::redis_sentinel* set_;
  std::unique_ptr<reactor::reactor> r_;
};

test::redis_sentinel* ReplicaRole::set_ = nullptr;

TEST_F(ReplicaRole, lands_on_a_replica_where_reads_work_and_writes_are_refused_once) {
  ASSERT_TRUE(r_);
  test::redis_server* primary = set_->primary();
  ASSERT_NE(primary, nullptr);
  ASSERT_EQ(primary->command({"SET", "replica:k", "v"}), "+OK\r\n");
  ASSERT_EQ(primary->command({"WAIT", "2", "2000"}), ":2\r\n");

  connection c{*r_, replica_config()};
  ASSERT_TRUE(connect(c));
  EXPECT_EQ(role_of(c), "slave");
  EXPECT_TRUE(is_replica_port(port_of(c)));

  const auto read = run(c, cmd::get{"replica:k"});
  ASSERT_TRUE(read.has_value());
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(**read, std::optional<std::string>("v"));

  // A write is the replica's -READONLY, as a value: not a sign of a failover, not retried.
  const auto began = std::chrono::steady_clock::now();
  const auto write = run(c, cmd::set{"replica:k", "w"});
  ASSERT_TRUE(write.has_value()) << "the write never completed";
  ASSERT_TRUE(write->has_server_error());
  EXPECT_TRUE(write->server_error().message.starts_with("READONLY"))
      << write->server_error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - began, 1s);
  EXPECT_EQ(c.reconnects(), 0u);
  EXPECT_TRUE(c.ready());
  EXPECT_EQ(primary->command({"GET", "replica:k"}), "$1\r\nv\r\n");
}

TEST_F(ReplicaRole, successive_reconnects_rotate_between_the_two_replicas) {
  ASSERT_TRUE(r_);
  connection c{*r_, replica_config()};
  ASSERT_TRUE(connect(c));
  std::vector<std::uint16_t> visited{port_of(c)};
  for (int i = 0; i < 4; ++i) {
    // This connection's socket only: the Sentinels' own links to the replica stay up.
    const auto id = run(c, cmd::raw<std::int64_t>{"CLIENT", "ID"});
    ASSERT_TRUE(id.has_value() && id->has_value());
    const std::uint16_t at = visited.back();
    test::redis_server* server = nullptr;
    for (std::size_t d = 0; d < set_->data_count(); ++d)
      if (set_->data(d).port() == at) server = &set_->data(d);
    ASSERT_NE(server, nullptr) << at;
    const std::uint64_t before = c.reconnects();
    ASSERT_EQ(server->command({"CLIENT", "KILL", "ID", std::to_string(**id)}), ":1\r\n");
    ASSERT_TRUE(test::run_until(
        *r_, [&] { return c.reconnects() > before && c.ready(); }, 10s));
    visited.push_back(port_of(c));
  }
  const std::set<std::uint16_t> distinct(visited.begin(), visited.end());
  EXPECT_EQ(distinct.size(), 2u) << testing::PrintToString(visited);
  for (std::size_t i = 0; i < visited.size(); ++i) {
    EXPECT_TRUE(is_replica_port(visited[i])) << visited[i];
    if (i > 0) {
      EXPECT_NE(visited[i], visited[i - 1]) << testing::PrintToString(visited);
    }
  }
}

TEST_F(ReplicaRole, a_promoted_replica_moves_its_connections_to_a_replica) {
  ASSERT_TRUE(r_);
  test::redis_server* old_primary = set_->primary();
  ASSERT_NE(old_primary, nullptr);
  // Connections land on both replicas (a locator's turns alternate), so one sits on the
  // replica the failover promotes, whichever it is.
  auto locator = make_primary_locator(*r_, replica_config().sentinel);
  connection_config config = replica_config();
  config.address = locator;
  connection a{*r_, config};
  connection b{*r_, config};
  ASSERT_TRUE(connect(a));
  ASSERT_TRUE(connect(b));
  ASSERT_NE(port_of(a), port_of(b));

  const std::uint64_t moved_before = a.reconnects() + b.reconnects();
  ASSERT_EQ(set_->failover(0), "+OK\r\n");
  test::redis_server* promoted = nullptr;
  ASSERT_TRUE(poll(
      [&] {
        promoted = set_->primary();
        return promoted != nullptr && promoted != old_primary;
      },
      20s));
  ASSERT_TRUE(set_->wait_primary(*promoted, 20s));
  // Both end up on replicas again: the one on the promoted node moved (+switch-master, or its
  // ROLE check on reconnect), the other had no reason to.
  EXPECT_TRUE(poll(
      [&] {
        return a.ready() && b.ready() && role_of(a) == "slave" && role_of(b) == "slave" &&
               port_of(a) != promoted->port() && port_of(b) != promoted->port();
      },
      20s))
      << "a on " << port_of(a) << ", b on " << port_of(b) << ", primary " << promoted->port();
  EXPECT_GT(a.reconnects() + b.reconnects(), moved_before);
}

TEST_F(ReplicaRole, with_every_replica_down_it_falls_back_to_the_primary) {
  ASSERT_TRUE(r_);
  test::redis_server* primary = set_->primary();
  ASSERT_NE(primary, nullptr);
  connection c{*r_, replica_config()};
  ASSERT_TRUE(connect(c));
  ASSERT_EQ(role_of(c), "slave");

  std::vector<test::redis_server*> killed;
  for (std::size_t i = 0; i < set_->data_count(); ++i) {
    if (&set_->data(i) == primary) continue;
    set_->data(i).kill();
    killed.push_back(&set_->data(i));
  }
  // Once the Sentinels flag both down (down-after: 1 s), the reconnect lands on the primary
  // and checks it is one.
  EXPECT_TRUE(poll([&] { return c.ready() && role_of(c) == "master"; }, 20s));
  EXPECT_EQ(port_of(c), primary->port());
  const auto read = run(c, cmd::get{"replica:k"});
  ASSERT_TRUE(read.has_value());
  EXPECT_TRUE(read->has_value());
  for (test::redis_server* s : killed)
    s->start();
}

}  // namespace
}  // namespace uredis::sentinel

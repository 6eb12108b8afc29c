// A representative part of the command suite over TLS, with and without a client certificate
// (tls-auth-clients yes): each family's replies (strings, keys, hashes, lists, sets, sorted
// sets, scripts, a transaction, a pipelined batch, pub/sub's PUBLISH) come back through the
// TLS engine exactly as over plaintext.

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "../support/client_setup.hpp"
#include "../support/redis_server.hpp"
#include "../support/test_certificates.hpp"
#include "uredis/client/batch.hpp"
#include "uredis/client/blocking_client.hpp"
#include "uredis/client/transaction.hpp"
#include "uredis/cmd/all.hpp"

namespace uredis {
namespace {

using namespace std::chrono_literals;

// Parameter: the server requires a client certificate (mutual TLS).
class Commands : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() {
    certs = new test::test_certificates();
    for (const bool mutual : {false, true}) {
      test::redis_server_options o;
      o.tls = test::redis_tls_options{certs->cert("server"), certs->key("server"),
                                      certs->cert("ca"), mutual};
      servers[mutual] = new test::redis_server(o);
    }
  }
  static void TearDownTestSuite() {
    for (test::redis_server*& s : servers) {
      delete s;
      s = nullptr;
    }
    delete certs;
    certs = nullptr;
  }

  void SetUp() override {
    ASSERT_EQ(server().command({"FLUSHALL"}), "+OK\r\n");
    connection_config c = test::config_for(server());
    c.tls = true;
    c.tls_options.ca_file = certs->cert("ca");
    if (GetParam()) {
      c.tls_options.cert_file = certs->cert("client");
      c.tls_options.key_file = certs->key("client");
    }
    c.retry_first_connect = false;
    c.connect_timeout = 3s;
    client.emplace(c);
  }

  static test::redis_server& server() { return *servers[GetParam()]; }

  std::optional<blocking_client> client;
  static test::test_certificates* certs;
  static test::redis_server* servers[2];
};

test::test_certificates* Commands::certs = nullptr;
test::redis_server* Commands::servers[2] = {nullptr, nullptr};

TEST_P(Commands, StringsAndKeys) {
  blocking_client& c = *client;
  c.set("s", "v");
  EXPECT_EQ(c.get("s"), "v");
  EXPECT_EQ(c.append("s", "w"), 2);
  EXPECT_EQ(c.incrby("n", 41), 41);
  EXPECT_EQ(c.incr("n"), 42);
  c.mset({{"a", "1"}, {"b", "2"}});
  const std::vector<std::optional<std::string>> got = c.mget({"a", "b", "missing"});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "1");
  EXPECT_EQ(got[1], "2");
  EXPECT_EQ(got[2], std::nullopt);
  EXPECT_EQ(c.exists({"a", "b", "missing"}), 2);
  EXPECT_TRUE(c.expire("a", 100s));
  EXPECT_GT(c.ttl("a"), 0);
  EXPECT_EQ(c.del({"a", "b"}), 2);
}

TEST_P(Commands, HashesListsSetsAndSortedSets) {
  blocking_client& c = *client;
  EXPECT_EQ(c.hset("h", {{"f1", "v1"}, {"f2", "v2"}}), 2);
  EXPECT_EQ(c.hget("h", "f1"), "v1");
  EXPECT_EQ(c.hgetall("h").size(), 2u);
  EXPECT_EQ(c.rpush("l", {"x", "y", "z"}), 3);
  EXPECT_EQ(c.lrange("l", 0, -1), (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(c.lpop("l"), "x");
  EXPECT_EQ(c.sadd("set", {"m1", "m2", "m2"}), 2);
  EXPECT_TRUE(c.sismember("set", "m1"));
  EXPECT_EQ(c.zadd("z", {{"1", "one"}, {"2", "two"}}), 2);
  EXPECT_EQ(c.zrange("z", "0", "-1"), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(c.zscore("z", "two"), 2.0);
}

TEST_P(Commands, LargeValuesScriptsAndPublish) {
  blocking_client& c = *client;
  const std::string big(256 * 1024, 'b');  // many records each way
  c.set("big", big);
  EXPECT_EQ(c.get("big"), big);
  EXPECT_EQ(c.strlen("big"), static_cast<std::int64_t>(big.size()));
  EXPECT_EQ(c.publish("nobody-listens", "m"), 0);
}

TEST_P(Commands, TransactionAndBatch) {
  blocking_client& c = *client;
  const auto [first, second] = c.exec(transaction{cmd::incr{"t"}, cmd::incr{"t"}});
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(*second, 2);
  batch<std::int64_t> b;
  for (int i = 0; i < 500; ++i)
    b.push(cmd::incr{"batched"});
  const auto replies = c.exec(b);
  ASSERT_EQ(replies.size(), 500u);
  EXPECT_EQ(*replies.back(), 500);
}

INSTANTIATE_TEST_SUITE_P(Tls, Commands, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& p) {
                           return p.param ? "MutualTls" : "ServerAuthOnly";
                         });

}  // namespace
}  // namespace uredis

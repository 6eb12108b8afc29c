// The blocking client against a real redis-server: typed helpers round trip (RESP3 and RESP2, TCP
// and Unix socket), exec() and command() for anything else, pipeline(), and every failure as the
// exception redis-py would raise.

#include "uredis/client/blocking_client.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../support/redis_server.hpp"
#include "uredis/exceptions.hpp"

namespace uredis {
namespace {

using namespace std::chrono_literals;
using opt = std::optional<std::string>;
using strings = std::vector<std::string>;

// One server for the typed round trips; tests that break servers start their own.
class BlockingClient : public ::testing::TestWithParam<resp_version> {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<test::redis_server>(); }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    ASSERT_EQ(server_->command({"FLUSHALL"}), "+OK\r\n");
    ASSERT_EQ(server_->command({"SCRIPT", "FLUSH"}), "+OK\r\n");
    connection_config config;
    config.host = server_->host();
    config.port = server_->port();
    config.protocol = GetParam();
    client_.emplace(config);
    ASSERT_TRUE(client_->connected());
    ASSERT_EQ(client_->protocol(), GetParam() == resp_version::resp2 ? 2 : 3);
  }

  blocking_client& c() { return *client_; }

  static inline std::unique_ptr<test::redis_server> server_;
  std::optional<blocking_client> client_;
};

// The helpers return the descriptors' responses themselves, not results.
static_assert(std::is_same_v<decltype(std::declval<blocking_client&>().get("k")), opt>);
static_assert(std::is_same_v<decltype(std::declval<blocking_client&>().incr("k")), std::int64_t>);
static_assert(
    std::is_same_v<decltype(std::declval<blocking_client&>().command("PING")), resp::reply>);

TEST_P(BlockingClient, StringsRoundTrip) {
  EXPECT_EQ(c().ping(), "PONG");
  EXPECT_EQ(c().echo("two\r\nlines"), "two\r\nlines");
  EXPECT_EQ(c().get("k"), std::nullopt);
  EXPECT_TRUE(c().set("k", "v"));
  EXPECT_EQ(c().get("k"), opt("v"));
  EXPECT_FALSE(c().set("k", "other", {.condition = cmd::set_condition::nx}));
  EXPECT_EQ(c().get("k"), opt("v"));
  EXPECT_EQ(c().set_get("k", "w"), opt("v"));
  EXPECT_TRUE(c().set("ttl", "x", {.expiry = cmd::set_expiry::after(100s)}));
  EXPECT_GT(c().ttl("ttl"), 90);
  EXPECT_EQ(c().getex("ttl", cmd::getex_expiry::persist()), opt("x"));
  EXPECT_EQ(c().ttl("ttl"), -1);
  EXPECT_EQ(c().getdel("ttl"), opt("x"));
  EXPECT_EQ(c().exists({"ttl", "k"}), 1);
  EXPECT_TRUE(c().mset({{"a", "1"}, {"b", 2}}));
  EXPECT_EQ(c().mget({"a", "nope", "b"}), (std::vector<opt>{"1", std::nullopt, "2"}));
  EXPECT_EQ(c().incr("a"), 2);
  EXPECT_EQ(c().incrby("a", 40), 42);
  EXPECT_EQ(c().decr("a"), 41);
  EXPECT_EQ(c().append("k", "xyz"), 4);
  EXPECT_EQ(c().strlen("k"), 4);
  EXPECT_TRUE(c().expire("k", 50s));
  EXPECT_GT(c().pttl("k"), 40'000);
  EXPECT_EQ(c().del({"a", "b", "nope"}), 2);
  EXPECT_EQ(c().unlink({"k"}), 1);
  // The values really are on the server.
  EXPECT_EQ(server_->command({"DBSIZE"}), ":0\r\n");
}

TEST_P(BlockingClient, HashesListsSetsSortedSets) {
  EXPECT_EQ(c().hset("h", {{"f1", "v1"}, {"f2", "v2"}}), 2);
  EXPECT_EQ(c().hget("h", "f1"), opt("v1"));
  EXPECT_EQ(c().hincrby("h", "n", 5), 5);
  const auto all = c().hgetall("h");
  EXPECT_EQ((std::map<std::string, std::string>(all.begin(), all.end())),
            (std::map<std::string, std::string>{{"f1", "v1"}, {"f2", "v2"}, {"n", "5"}}));
  EXPECT_EQ(c().hdel("h", {"f1", "nope"}), 1);

  EXPECT_EQ(c().rpush("l", {"a", "b", "c"}), 3);
  EXPECT_EQ(c().lpush("l", {"z"}), 4);
  EXPECT_EQ(c().lrange("l", 0, -1), (strings{"z", "a", "b", "c"}));
  EXPECT_EQ(c().lpop("l"), opt("z"));
  EXPECT_EQ(c().rpop("l", 2), (std::optional<strings>{{"c", "b"}}));
  EXPECT_EQ(c().llen("l"), 1);

  EXPECT_EQ(c().sadd("s", {"x", "y"}), 2);
  EXPECT_TRUE(c().sismember("s", "x"));
  EXPECT_EQ(c().srem("s", {"x"}), 1);
  EXPECT_EQ(c().smembers("s"), strings{"y"});

  EXPECT_EQ(c().zadd("z", {{1.5, "one"}, {3, "three"}}), 2);
  EXPECT_EQ(c().zscore("z", "one"), 1.5);
  EXPECT_EQ(c().zincrby("z", 2, "one"), 3.5);
  EXPECT_EQ(c().zrange("z", 0, -1), (strings{"three", "one"}));
  const auto scored = c().zrange_withscores("z", 0, -1);
  ASSERT_EQ(scored.size(), 2u);
  EXPECT_EQ(scored[1], (std::pair<std::string, double>{"one", 3.5}));
  EXPECT_EQ(c().publish("nobody-listens", "m"), 0);
}

TEST_P(BlockingClient, ScanSeesEveryKey) {
  for (int i = 0; i < 50; ++i)
    c().set("key:" + std::to_string(i), i);
  std::vector<std::string> seen;
  std::uint64_t cursor = 0;
  do {
    auto [next, keys] = c().scan(cursor, "key:*", 10);
    seen.insert(seen.end(), keys.begin(), keys.end());
    cursor = next;
  } while (cursor != 0);
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  EXPECT_EQ(seen.size(), 50u);
}

TEST_P(BlockingClient, ScriptsAndAnyCommand) {
  const std::string sha = c().script_load("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  EXPECT_EQ(sha.size(), 40u);
  EXPECT_EQ(c().evalsha<std::int64_t>(sha, {"counter"}, {"5"}), 5);
  EXPECT_EQ(c().eval<std::int64_t>("return #KEYS + #ARGV", {"a", "b"}, {"c"}), 3);
  const resp::reply r = c().eval("return {1, 'two'}");
  ASSERT_EQ(r.elements().size(), 2u);
  EXPECT_EQ(r.elements()[1].text(), "two");

  EXPECT_EQ(c().exec(cmd::incr{"counter"}), 6);
  EXPECT_EQ(c().command<std::int64_t>("INCRBY", "counter", 4), 10);
  const resp::reply encoding = c().command("OBJECT", "ENCODING", "counter");
  EXPECT_EQ(encoding.text(), "int");
}

TEST_P(BlockingClient, PipelineReturnsEveryReplyInOrder) {
  auto [set, a, b, value] =
      c().pipeline(cmd::set{"k", "v"}, cmd::incr{"n"}, cmd::incr{"n"}, cmd::get{"k"});
  EXPECT_TRUE(set);
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 2);
  EXPECT_EQ(value, opt("v"));
}

TEST_P(BlockingClient, PipelineThrowsTheFirstFailureAfterReadingEveryReply) {
  c().set("text", "x");
  EXPECT_THROW(c().pipeline(cmd::incr{"n"}, cmd::incr{"text"}, cmd::incr{"n"}), response_error);
  // Every command ran, and the connection is still in step: the next reply is the next one.
  EXPECT_EQ(c().get("n"), opt("2"));
  EXPECT_EQ(c().ping(), "PONG");
}

TEST_P(BlockingClient, WrongTypeIsAResponseErrorAndTheConnectionStays) {
  c().set("text", "x");
  try {
    c().incr("text");
    FAIL() << "no exception";
  } catch (const response_error& e) {
    ASSERT_NE(e.server_error(), nullptr);
    EXPECT_EQ(e.server_error()->kind, server_error_kind::err);
  }
  c().rpush("list", {"a"});
  try {
    c().get("list");
    FAIL() << "no exception";
  } catch (const response_error& e) {
    ASSERT_NE(e.server_error(), nullptr);
    EXPECT_EQ(e.server_error()->kind, server_error_kind::wrongtype);
    EXPECT_EQ(std::string(e.what()).rfind("WRONGTYPE", 0), 0u) << e.what();
  }
  EXPECT_TRUE(c().connected());
  EXPECT_EQ(c().incr("n"), 1);
}

TEST_P(BlockingClient, NoScriptIsANoScriptError) {
  EXPECT_THROW(c().evalsha(std::string(40, '0')), no_script_error);
  EXPECT_EQ(c().ping(), "PONG");
}

TEST_P(BlockingClient, ReplyOfTheWrongShapeIsADataError) {
  c().rpush("list", {"a"});
  EXPECT_THROW(c().command<std::int64_t>("LRANGE", "list", 0, -1), data_error);
  EXPECT_EQ(c().ping(), "PONG");
}

INSTANTIATE_TEST_SUITE_P(Protocols, BlockingClient,
                         ::testing::Values(resp_version::resp3, resp_version::resp2),
                         [](const auto& info) {
                           return info.param == resp_version::resp3 ? "resp3" : "resp2";
                         });

TEST(BlockingClientConnect, FromAUrl) {
  test::redis_server server;
  blocking_client c{server.url() + "/3"};
  EXPECT_TRUE(c.set("k", "in db 3"));
  EXPECT_EQ(c.config().db, 3);
  EXPECT_EQ(server.command({"EXISTS", "k"}), ":0\r\n");  // the helper connection is in db 0
}

TEST(BlockingClientConnect, UnixSocket) {
  test::redis_server server;
  blocking_client c{"unix://" + server.unix_socket()};
  EXPECT_EQ(c.echo("over a socket"), "over a socket");
}

TEST(BlockingClientConnect, PasswordAndUser) {
  test::redis_server server{{.args = {"--requirepass", "right", "--user", "alice", "on", ">alicepw",
                                      "~*", "&*", "+@all"}}};
  blocking_client c{"redis://:right@127.0.0.1:" + std::to_string(server.port())};
  EXPECT_EQ(c.command("ACL", "WHOAMI").text(), "default");
  blocking_client alice{"redis://alice:alicepw@127.0.0.1:" + std::to_string(server.port())};
  EXPECT_EQ(alice.command("ACL", "WHOAMI").text(), "alice");
}

TEST(BlockingClientConnect, WrongPasswordIsAnAuthenticationError) {
  test::redis_server server{{.args = {"--requirepass", "right"}}};
  for (const resp_version v : {resp_version::resp3, resp_version::resp2}) {
    connection_config config;
    config.port = server.port();
    config.password = "wrong";
    config.protocol = v;
    try {
      blocking_client c{config};
      FAIL() << "connected with a wrong password";
    } catch (const authentication_error& e) {
      ASSERT_NE(e.server_error(), nullptr);
      EXPECT_EQ(e.server_error()->kind, server_error_kind::wrongpass);
    }
  }
}

TEST(BlockingClientConnect, NoPasswordOnAServerThatWantsOneIsAnAuthenticationError) {
  test::redis_server server{{.args = {"--requirepass", "right"}}};
  for (const resp_version v : {resp_version::resp3, resp_version::resp2}) {
    connection_config config;
    config.port = server.port();
    config.db = 1;  // RESP2 finds out at SELECT, RESP3 at HELLO
    config.protocol = v;
    EXPECT_THROW(blocking_client{config}, authentication_error);
  }
}

TEST(BlockingClientConnect, DeadServerIsAConnectionError) {
  connection_config config;
  config.port = test::free_loopback_port();
  config.retry = retry::retry_policy(retry::backoff::constant(std::chrono::milliseconds(1)), 2);
  try {
    blocking_client c{config};
    FAIL() << "connected to nothing";
  } catch (const connection_error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::connection_refused));
    const std::string where = "127.0.0.1:" + std::to_string(config.port);
    EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << e.what();
  }
  connection_config unix;
  unix.unix_socket = "/nonexistent/redis.sock";
  unix.retry = retry::retry_policy::never();
  EXPECT_THROW(blocking_client{unix}, connection_error);
}

// Counts the failures the retry policy is asked about (its fail hook).
void count_failure(void* context, const retry::failure&) noexcept {
  ++*static_cast<int*>(context);
}

// Nothing listens: the constructor throws on the first refusal, without asking the policy (the
// default one would take ~4 s of retries), unless the config asks for the retries.
TEST(BlockingClientConnect, ADeadServerFailsTheFirstConnectAtOnce) {
  int consulted = 0;
  connection_config config;
  config.port = test::free_loopback_port();
  config.retry = retry::retry_policy(retry::backoff::constant(std::chrono::milliseconds(1)), 10);
  config.retry.on_failure(&count_failure, &consulted);
  try {
    blocking_client c{config};
    FAIL() << "connected to nothing";
  } catch (const connection_error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::connection_refused));
    const std::string where = "127.0.0.1:" + std::to_string(config.port);
    EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << e.what();
  }
  EXPECT_EQ(consulted, 0) << "the first connect was retried";

  config.retry_first_connect = true;  // asked for: the policy's 10 retries, then the error
  EXPECT_THROW(blocking_client{config}, connection_error);
  EXPECT_EQ(consulted, 11);
}

// The default is the blocking client's own, visible in its config; once connected, a lost
// connection is reconnected by the policy as before (ServerDeathFails... below).
TEST(BlockingClientConnect, TheFirstConnectIsNotRetriedByDefault) {
  test::redis_server server;
  blocking_client c{server.url()};
  EXPECT_EQ(c.config().retry_first_connect, std::optional<bool>(false));
  connection_config asked;
  asked.port = server.port();
  asked.retry_first_connect = true;
  blocking_client d{asked};
  EXPECT_EQ(d.config().retry_first_connect, std::optional<bool>(true));
}

TEST(BlockingClientConnect, MissingDatabaseIsAConnectionError) {
  test::redis_server server;
  connection_config config;
  config.port = server.port();
  config.db = 999;
  try {
    blocking_client c{config};
    FAIL() << "selected a database that does not exist";
  } catch (const connection_error& e) {
    ASSERT_NE(e.server_error(), nullptr);
    EXPECT_NE(std::string(e.what()).find("DB index is out of range"), std::string::npos);
  }
}

TEST(BlockingClientConnect, BadUrlIsADataError) {
  EXPECT_THROW(blocking_client{"http://127.0.0.1"}, data_error);
  EXPECT_THROW(blocking_client{"redis://127.0.0.1:99999"}, data_error);
}

TEST(BlockingClientConnect, AServerThatDiedWhileTheClientSatIdleCostsTheNextWriteNothing) {
  test::redis_server server;
  connection_config config;
  config.port = server.port();
  config.retry = retry::retry_policy(retry::backoff::constant(std::chrono::milliseconds(20)), 100);
  blocking_client c{config};
  EXPECT_EQ(c.incr("n"), 1);
  server.kill();
  std::thread restart([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    server.start();
  });
  // The dead socket's end of stream is taken in before the INCR is queued (redis-py checks a
  // pooled connection on checkout), so it is not written there and lost as outcome_unknown:
  // it waits while the connection retries, and runs once the server is back.
  std::optional<std::int64_t> n;
  try {
    n = c.incr("n");
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what();  // caught: the thread must be joined
  }
  restart.join();
  EXPECT_EQ(n, 1);  // a new server process: an empty database
  EXPECT_TRUE(c.connected());
  EXPECT_GE(c.loop().events().stats().reconnect_scheduled, 1u);
  EXPECT_EQ(c.loop().events().stats().reconnected, 1u);
}

TEST(BlockingClientConnect, ServerDownLongerThanTheRetryBudgetIsAConnectionError) {
  test::redis_server server;
  connection_config config;
  config.port = server.port();
  config.retry = retry::retry_policy(retry::backoff::constant(std::chrono::milliseconds(5)), 3);
  blocking_client c{config};
  server.kill();
  EXPECT_THROW(c.incr("n"), connection_error);
  // Still down: the next command waits for the retries, which run out.
  try {
    c.get("n");
    FAIL() << "a GET with no server succeeded";
  } catch (const connection_error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::connection_refused));
  }
  EXPECT_EQ(c.loop().events().stats().retries_exhausted, 2u) << "one budget per command";
  server.start();
  EXPECT_EQ(c.incr("n"), 1);  // the next command connects again
}

TEST(BlockingClientConnect, CloseThenUseReconnects) {
  test::redis_server server;
  blocking_client c{server.url()};
  EXPECT_EQ(c.incr("n"), 1);
  c.close();
  EXPECT_FALSE(c.connected());
  EXPECT_EQ(c.incr("n"), 2);
}

// TLS options that cannot be applied are the caller's to fix: no connection is tried.
TEST(BlockingClientConnect, ARedissUrlWithAMissingCaFileIsADataError) {
  try {
    blocking_client c{"rediss://127.0.0.1:6380?ssl_ca_certs=/nonexistent/ca.pem"};
    FAIL() << "connected with a CA file that does not exist";
  } catch (const data_error& e) {
    EXPECT_EQ(e.code(), make_error_code(errc::tls_config_invalid));
    EXPECT_NE(std::string(e.what()).find("TLS"), std::string::npos) << e.what();
  }
}

// A ring that fails (here: submitting from a thread that is not the ring's, which io_uring's
// SINGLE_ISSUER refuses) is reported as an error, and nothing is left waiting.
TEST(BlockingClientConnect, ARingFailureIsAnErrorNotACrash) {
  test::redis_server server;
  blocking_client c{server.url()};
  if (!c.loop().ring().features().single_issuer)
    GTEST_SKIP() << "no IORING_SETUP_SINGLE_ISSUER on this kernel: no way to make the ring fail";
  std::string what;
  std::thread other([&] {
    try {
      c.get("k");
    } catch (const connection_error& e) {
      what = std::string("connection_error: ") + e.what();
    } catch (const error& e) {
      what = e.what();
    }
  });
  other.join();
  EXPECT_TRUE(what.starts_with("the io_uring of this blocking_client failed")) << what;
  EXPECT_FALSE(c.connected());
}

TEST(BlockingClientConnect, MovesKeepWorking) {
  test::redis_server server;
  blocking_client a{server.url()};
  blocking_client b{std::move(a)};
  EXPECT_EQ(b.incr("n"), 1);
  blocking_client other{server.url()};
  other = std::move(b);
  EXPECT_EQ(other.incr("n"), 2);
}

TEST(BlockingClientConnect, ManyClientsOnManyThreads) {
  test::redis_server server;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&server, &wrong, t] {
      blocking_client c{server.url()};
      const std::string key = "thread:" + std::to_string(t);
      for (int i = 1; i <= 500; ++i)
        if (c.incr(key) != i) ++wrong;
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(wrong.load(), 0);
  for (int t = 0; t < 4; ++t)
    EXPECT_EQ(server.command({"GET", "thread:" + std::to_string(t)}), "$3\r\n500\r\n");
}

}  // namespace
}  // namespace uredis

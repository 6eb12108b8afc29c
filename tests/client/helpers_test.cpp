// Every typed helper of command_helpers.hpp through the coroutine client, against a real
// redis-server, over RESP3 and RESP2: each checks what the server really did, not only that a
// reply came back.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../support/redis_server.hpp"
#include "../support/run_coroutine.hpp"
#include "uredis/client/client.hpp"
#include "uredis/client/task.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis {
namespace {

using namespace std::chrono_literals;
using opt = std::optional<std::string>;

// ASSERT_* returns, which a coroutine cannot: this co_returns instead.
#define CO_ASSERT_TRUE(condition)            \
  do {                                       \
    if (!(condition)) {                      \
      ADD_FAILURE() << "false: " #condition; \
      co_return;                             \
    }                                        \
  } while (false)

// The value of `r`, or (after recording a failure that says why there is none) a default T, so
// one bad reply fails its check without ending the coroutine.
template <class T>
T must(result<T> r, const char* what = "") {
  if (r.has_value()) return std::move(*r);
  if (r.has_error()) {
    ADD_FAILURE() << what << ": error " << r.error().message();
  } else {
    ADD_FAILURE() << what << ": server error " << r.server_error().message;
  }
  return T{};
}

class Helpers : public ::testing::TestWithParam<resp_version> {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<test::redis_server>(); }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    ASSERT_EQ(server_->command({"FLUSHALL"}), "+OK\r\n");
    auto r = reactor::reactor::create();
    ASSERT_TRUE(r.has_value()) << r.error().message();
    reactor_ = std::move(*r);
    connection_config config;
    config.host = server_->host();
    config.port = server_->port();
    config.protocol = GetParam();
    client_ = std::make_unique<client>(*reactor_, config);
    run([this]() -> task<> {
      const result<void> connected = co_await client_->connect();
      EXPECT_TRUE(connected.has_value());
    });
    ASSERT_TRUE(client_->ready());
    ASSERT_EQ(client_->protocol(), GetParam() == resp_version::resp2 ? 2 : 3);
  }

  // Runs the coroutine `body()` makes (a named lambda: its captures must outlive the coroutine)
  // on the reactor until it finishes.
  template <class Body>
  void run(Body body) {
    test::run_coroutine(*reactor_, std::move(body));
  }

  client& c() { return *client_; }

  static inline std::unique_ptr<test::redis_server> server_;
  std::unique_ptr<reactor::reactor> reactor_;
  std::unique_ptr<client> client_;
};

TEST_P(Helpers, PingAndEcho) {
  run([this]() -> task<> {
    EXPECT_EQ(must(co_await c().ping()), "PONG");
    EXPECT_EQ(must(co_await c().ping("hello")), "hello");
    EXPECT_EQ(must(co_await c().echo("two\r\nlines")), "two\r\nlines");
    EXPECT_EQ(must(co_await c().echo(42)), "42");
  });
}

TEST_P(Helpers, GetAndSetWithEveryOption) {
  run([this]() -> task<> {
    EXPECT_EQ(must(co_await c().get("k")), std::nullopt);
    EXPECT_TRUE(must(co_await c().set("k", "v")));
    EXPECT_EQ(must(co_await c().get("k")), opt("v"));
    EXPECT_TRUE(must(co_await c().set("n", 12)));
    EXPECT_EQ(must(co_await c().get("n")), opt("12"));

    // NX / XX: false when the condition stops the write, and the value is left alone.
    EXPECT_FALSE(must(co_await c().set("k", "other", {.condition = cmd::set_condition::nx})));
    EXPECT_EQ(must(co_await c().get("k")), opt("v"));
    EXPECT_FALSE(must(co_await c().set("none", "x", {.condition = cmd::set_condition::xx})));
    EXPECT_EQ(must(co_await c().get("none")), std::nullopt);
    EXPECT_TRUE(must(co_await c().set("k", "v2", {.condition = cmd::set_condition::xx})));
    EXPECT_TRUE(must(co_await c().set("fresh", "x", {.condition = cmd::set_condition::nx})));
    EXPECT_EQ(must(co_await c().get("k")), opt("v2"));

    // EX / PX / EXAT / PXAT set the time to live the server reports.
    EXPECT_TRUE(must(co_await c().set("ex", "x", {.expiry = cmd::set_expiry::after(100s)})));
    const std::int64_t ex = must(co_await c().ttl("ex"));
    EXPECT_GT(ex, 90);
    EXPECT_LE(ex, 100);
    EXPECT_TRUE(must(co_await c().set("px", "x", {.expiry = cmd::set_expiry::after(50000ms)})));
    const std::int64_t px = must(co_await c().pttl("px"));
    EXPECT_GT(px, 40000);
    EXPECT_LE(px, 50000);
    const auto now = std::chrono::system_clock::now();
    EXPECT_TRUE(must(co_await c().set(
        "exat", "x",
        {.expiry = cmd::set_expiry::at(std::chrono::floor<std::chrono::seconds>(now) + 200s)})));
    const std::int64_t exat = must(co_await c().ttl("exat"));
    EXPECT_GT(exat, 190);
    EXPECT_LE(exat, 200);
    EXPECT_TRUE(must(co_await c().set("pxat", "x", {.expiry = cmd::set_expiry::at(now + 300s)})));
    const std::int64_t pxat = must(co_await c().pttl("pxat"));
    EXPECT_GT(pxat, 290000);
    EXPECT_LE(pxat, 300000);

    // KEEPTTL keeps the expiry; a plain SET drops it.
    EXPECT_TRUE(must(co_await c().set("ex", "y", {.expiry = cmd::set_expiry::keep_ttl()})));
    EXPECT_GT(must(co_await c().ttl("ex")), 0);
    EXPECT_EQ(must(co_await c().get("ex")), opt("y"));
    EXPECT_TRUE(must(co_await c().set("ex", "z")));
    EXPECT_EQ(must(co_await c().ttl("ex")), -1);

    // GET: the old value, or none; NX with GET sets only when there was none.
    EXPECT_EQ(must(co_await c().set_get("k", "v3")), opt("v2"));
    EXPECT_EQ(must(co_await c().get("k")), opt("v3"));
    EXPECT_EQ(must(co_await c().set_get("new", "a")), std::nullopt);
    EXPECT_EQ(must(co_await c().get("new")), opt("a"));
    EXPECT_EQ(must(co_await c().set_get("new", "b", {.condition = cmd::set_condition::nx})),
              opt("a"));
    EXPECT_EQ(must(co_await c().get("new")), opt("a"));
  });
}

TEST_P(Helpers, GetdelAndGetex) {
  run([this]() -> task<> {
    EXPECT_TRUE(must(co_await c().set("k", "v")));
    EXPECT_EQ(must(co_await c().getdel("k")), opt("v"));
    EXPECT_EQ(must(co_await c().exists("k")), 0);
    EXPECT_EQ(must(co_await c().getdel("k")), std::nullopt);

    EXPECT_TRUE(must(co_await c().set("e", "w")));
    EXPECT_EQ(must(co_await c().getex("e")), opt("w"));
    EXPECT_EQ(must(co_await c().ttl("e")), -1);
    EXPECT_EQ(must(co_await c().getex("e", cmd::getex_expiry::after(100s))), opt("w"));
    const std::int64_t t = must(co_await c().ttl("e"));
    EXPECT_GT(t, 90);
    EXPECT_LE(t, 100);
    EXPECT_EQ(must(co_await c().getex("e", cmd::getex_expiry::after(80000ms))), opt("w"));
    EXPECT_LE(must(co_await c().pttl("e")), 80000);
    // PERSIST removes the time to live.
    EXPECT_EQ(must(co_await c().getex("e", cmd::getex_expiry::persist())), opt("w"));
    EXPECT_EQ(must(co_await c().ttl("e")), -1);
    EXPECT_EQ(must(co_await c().getex("missing", cmd::getex_expiry::persist())), std::nullopt);
  });
}

TEST_P(Helpers, MgetAndMset) {
  run([this]() -> task<> {
    const cmd::arg_pair ab[] = {{"a", "1"}, {"b", 2}};
    EXPECT_TRUE(must(co_await c().mset(ab)));
    const cmd::arg some[] = {"a", "missing", "b"};
    const auto values = must(co_await c().mget(some));
    EXPECT_EQ(values, (std::vector<opt>{"1", std::nullopt, "2"}));
    const std::map<std::string, std::string> pairs{{"x", "10"}, {"y", "20"}};
    EXPECT_TRUE(must(co_await c().mset(pairs)));
    EXPECT_TRUE(must(co_await c().mset({"z", "30"})));
    const std::vector<std::string> keys{"z", "y", "x"};
    const auto zyx = must(co_await c().mget(keys));
    EXPECT_EQ(zyx, (std::vector<opt>{"30", "20", "10"}));
    const auto one = must(co_await c().mget("a"));
    EXPECT_EQ(one, std::vector<opt>(1, "1"));
  });
}

TEST_P(Helpers, CountersAppendAndStrlen) {
  run([this]() -> task<> {
    EXPECT_EQ(must(co_await c().incr("n")), 1);
    EXPECT_EQ(must(co_await c().incrby("n", 41)), 42);
    EXPECT_EQ(must(co_await c().decr("n")), 41);
    EXPECT_EQ(must(co_await c().decrby("n", 50)), -9);
    EXPECT_EQ(must(co_await c().get("n")), opt("-9"));

    EXPECT_EQ(must(co_await c().append("s", "hello")), 5);
    EXPECT_EQ(must(co_await c().append("s", " world")), 11);
    EXPECT_EQ(must(co_await c().strlen("s")), 11);
    EXPECT_EQ(must(co_await c().strlen("missing")), 0);
    EXPECT_EQ(must(co_await c().get("s")), opt("hello world"));

    // A counter on text: the server's error comes back as a value; the connection carries on.
    const result<std::int64_t> bad = co_await c().incr("s");
    CO_ASSERT_TRUE(bad.has_server_error());
    EXPECT_EQ(bad.server_error().kind, server_error_kind::err);
    EXPECT_EQ(must(co_await c().incr("n")), -8);
  });
}

TEST_P(Helpers, DelUnlinkAndExists) {
  run([this]() -> task<> {
    const cmd::arg_pair abcd[] = {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}};
    EXPECT_TRUE(must(co_await c().mset(abcd)));
    const cmd::arg twice[] = {"a", "b", "missing", "a"};
    EXPECT_EQ(must(co_await c().exists(twice)), 3);
    EXPECT_EQ(must(co_await c().del("a")), 1);
    const cmd::arg abm[] = {"a", "b", "missing"};
    EXPECT_EQ(must(co_await c().del(abm)), 1);
    const std::vector<std::string> rest{"c", "d", "missing"};
    EXPECT_EQ(must(co_await c().unlink(rest)), 2);
    EXPECT_EQ(must(co_await c().exists(rest)), 0);
  });
}

TEST_P(Helpers, ExpireAndTtl) {
  run([this]() -> task<> {
    EXPECT_EQ(must(co_await c().ttl("k")), -2);
    EXPECT_EQ(must(co_await c().pttl("k")), -2);
    EXPECT_FALSE(must(co_await c().expire("k", 10s)));
    EXPECT_TRUE(must(co_await c().set("k", "v")));
    EXPECT_EQ(must(co_await c().ttl("k")), -1);
    EXPECT_TRUE(must(co_await c().expire("k", 100s)));
    const std::int64_t t = must(co_await c().ttl("k"));
    EXPECT_GT(t, 90);
    EXPECT_LE(t, 100);
    // NX: only without an expiry; GT: only to a later one; XX_LT: only to an earlier one.
    EXPECT_FALSE(must(co_await c().expire("k", 500s, cmd::update_condition::nx)));
    EXPECT_FALSE(must(co_await c().expire("k", 50s, cmd::update_condition::gt)));
    EXPECT_TRUE(must(co_await c().expire("k", 500s, cmd::update_condition::gt)));
    EXPECT_GT(must(co_await c().ttl("k")), 400);
    EXPECT_TRUE(must(co_await c().pexpire("k", 20000ms, cmd::update_condition::xx_lt)));
    const std::int64_t p = must(co_await c().pttl("k"));
    EXPECT_GT(p, 10000);
    EXPECT_LE(p, 20000);
    EXPECT_TRUE(must(co_await c().pexpire("k", 1ms)));
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(must(co_await c().get("k")), std::nullopt);
  });
}

TEST_P(Helpers, ScanIteratesEveryKey) {
  run([this]() -> task<> {
    std::set<std::string> expected;
    std::vector<std::pair<std::string, std::string>> pairs;
    for (int i = 0; i < 300; ++i) {
      pairs.emplace_back("scan:" + std::to_string(i), std::to_string(i));
      expected.insert(pairs.back().first);
    }
    EXPECT_TRUE(must(co_await c().mset(pairs)));
    EXPECT_TRUE(must(co_await c().set("other", "x")));
    EXPECT_EQ(must(co_await c().hset("scan:hash", "f", "v")), 1);

    std::set<std::string> seen;
    std::uint64_t cursor = 0;
    int pages = 0;
    do {
      auto page = must(co_await c().scan(cursor, "scan:*", 40));
      cursor = page.first;
      seen.insert(page.second.begin(), page.second.end());
      ++pages;
    } while (cursor != 0 && pages < 1000);
    expected.insert("scan:hash");
    EXPECT_EQ(seen, expected);
    EXPECT_GT(pages, 1);

    // TYPE: only the hash.
    std::set<std::string> hashes;
    cursor = 0;
    do {
      auto page = must(co_await c().scan(cursor, std::nullopt, 100, "hash"));
      cursor = page.first;
      hashes.insert(page.second.begin(), page.second.end());
    } while (cursor != 0);
    EXPECT_EQ(hashes, (std::set<std::string>{"scan:hash"}));
  });
}

TEST_P(Helpers, Hashes) {
  run([this]() -> task<> {
    EXPECT_EQ(must(co_await c().hset("h", "f", "v")), 1);
    EXPECT_EQ(must(co_await c().hset("h", "f", "v2")), 0);
    const cmd::arg_pair fields[] = {{"g", 1}, {"f", "v3"}, {"n", 10}};
    EXPECT_EQ(must(co_await c().hset("h", fields)), 2);
    const std::map<std::string, std::string> more{{"m1", "a"}, {"m2", "b"}};
    EXPECT_EQ(must(co_await c().hset("h", more)), 2);
    EXPECT_EQ(must(co_await c().hget("h", "f")), opt("v3"));
    EXPECT_EQ(must(co_await c().hget("h", "nope")), std::nullopt);
    EXPECT_EQ(must(co_await c().hget("missing", "f")), std::nullopt);
    EXPECT_EQ(must(co_await c().hincrby("h", "n", 5)), 15);
    EXPECT_EQ(must(co_await c().hincrby("h", "new", -3)), -3);
    const auto all = must(co_await c().hgetall("h"));
    EXPECT_EQ(all,
              (std::unordered_map<std::string, std::string>{
                  {"f", "v3"}, {"g", "1"}, {"n", "15"}, {"new", "-3"}, {"m1", "a"}, {"m2", "b"}}));
    EXPECT_EQ(must(co_await c().hdel("h", "g")), 1);
    const cmd::arg doomed[] = {"m1", "m2", "nope"};
    EXPECT_EQ(must(co_await c().hdel("h", doomed)), 2);
    EXPECT_EQ(must(co_await c().hgetall("h")).size(), 3u);
    EXPECT_TRUE(must(co_await c().hgetall("missing")).empty());
  });
}

TEST_P(Helpers, Lists) {
  using strings = std::vector<std::string>;
  run([this]() -> task<> {
    EXPECT_EQ(must(co_await c().rpush("l", "b")), 1);
    const cmd::arg cd[] = {"c", "d"};
    EXPECT_EQ(must(co_await c().rpush("l", cd)), 3);
    const cmd::arg za[] = {"z", "a"};
    EXPECT_EQ(must(co_await c().lpush("l", za)), 5);  // z, then a: a ends up first
    const std::vector<std::string> tail{"e", "f", "g"};
    EXPECT_EQ(must(co_await c().rpush("l", tail)), 8);
    const strings whole = must(co_await c().lrange("l", 0, -1));
    EXPECT_EQ(whole, (strings{"a", "z", "b", "c", "d", "e", "f", "g"}));
    const strings middle = must(co_await c().lrange("l", 1, 2));
    EXPECT_EQ(middle, (strings{"z", "b"}));
    EXPECT_EQ(must(co_await c().llen("l")), 8);
    EXPECT_EQ(must(co_await c().lpop("l")), opt("a"));
    EXPECT_EQ(must(co_await c().rpop("l")), opt("g"));
    const std::optional<strings> head = must(co_await c().lpop("l", 2));
    EXPECT_EQ(head, std::optional<strings>(strings{"z", "b"}));
    const std::optional<strings> tail_end = must(co_await c().rpop("l", 2));
    EXPECT_EQ(tail_end, std::optional<strings>(strings{"f", "e"}));
    EXPECT_EQ(must(co_await c().llen("l")), 2);
    EXPECT_EQ(must(co_await c().lpop("missing")), std::nullopt);
    EXPECT_EQ(must(co_await c().rpop("missing")), std::nullopt);
    EXPECT_EQ(must(co_await c().lpop("missing", 3)), std::nullopt);
    EXPECT_EQ(must(co_await c().rpop("missing", 3)), std::nullopt);
    EXPECT_EQ(must(co_await c().llen("missing")), 0);
    EXPECT_TRUE(must(co_await c().lrange("missing", 0, -1)).empty());
  });
}

TEST_P(Helpers, Sets) {
  run([this]() -> task<> {
    EXPECT_EQ(must(co_await c().sadd("s", "a")), 1);
    const cmd::arg abc4[] = {"a", "b", "c", 4};
    EXPECT_EQ(must(co_await c().sadd("s", abc4)), 3);
    auto members = must(co_await c().smembers("s"));
    EXPECT_EQ(std::set<std::string>(members.begin(), members.end()),
              (std::set<std::string>{"a", "b", "c", "4"}));
    EXPECT_EQ(members.size(), 4u);
    EXPECT_TRUE(must(co_await c().sismember("s", "b")));
    EXPECT_TRUE(must(co_await c().sismember("s", 4)));
    EXPECT_FALSE(must(co_await c().sismember("s", "x")));
    EXPECT_FALSE(must(co_await c().sismember("missing", "x")));
    EXPECT_EQ(must(co_await c().srem("s", "a")), 1);
    const std::vector<std::string> gone{"b", "x"};
    EXPECT_EQ(must(co_await c().srem("s", gone)), 1);
    EXPECT_EQ(must(co_await c().smembers("s")).size(), 2u);
    EXPECT_TRUE(must(co_await c().smembers("missing")).empty());
  });
}

TEST_P(Helpers, SortedSets) {
  using strings = std::vector<std::string>;
  using scored = std::vector<std::pair<std::string, double>>;
  run([this]() -> task<> {
    EXPECT_EQ(must(co_await c().zadd("z", {1.5, "a"})), 1);
    const cmd::arg_pair bca[] = {{2.25, "b"}, {-3, "c"}, {1.5, "a"}};
    EXPECT_EQ(must(co_await c().zadd("z", bca)), 2);
    const strings by_rank = must(co_await c().zrange("z", 0, -1));
    EXPECT_EQ(by_rank, (strings{"c", "a", "b"}));
    const scored with_scores = must(co_await c().zrange_withscores("z", 0, -1));
    EXPECT_EQ(with_scores, (scored{{"c", -3.0}, {"a", 1.5}, {"b", 2.25}}));
    const strings reversed = must(co_await c().zrange("z", 0, -1, {.reverse = true}));
    EXPECT_EQ(reversed, (strings{"b", "a", "c"}));
    const strings above =
        must(co_await c().zrange("z", "(1.5", "+inf", {.by = cmd::zrange_by::score}));
    EXPECT_EQ(above, strings(1, "b"));
    const scored second = must(co_await c().zrange_withscores(
        "z", "-inf", "+inf", {.by = cmd::zrange_by::score, .limit = cmd::zrange_limit{1, 1}}));
    EXPECT_EQ(second, scored(1, {"a", 1.5}));

    // XX CH: only existing members, counting the changed ones.
    const cmd::arg_pair a_new[] = {{10, "a"}, {20, "new"}};
    EXPECT_EQ(must(co_await c().zadd("z", a_new,
                                     {.condition = cmd::update_condition::xx, .changed = true})),
              1);
    EXPECT_EQ(must(co_await c().zscore("z", "a")), std::optional<double>(10.0));
    EXPECT_EQ(must(co_await c().zscore("z", "new")), std::nullopt);
    EXPECT_EQ(must(co_await c().zscore("missing", "a")), std::nullopt);

    EXPECT_EQ(must(co_await c().zadd_incr("z", 0.5, "a")), std::optional<double>(10.5));
    EXPECT_EQ(must(co_await c().zadd_incr("z", 1, "a", cmd::update_condition::nx)), std::nullopt);
    EXPECT_EQ(must(co_await c().zadd_incr("z", 1, "a", cmd::update_condition::gt)),
              std::optional<double>(11.5));
    EXPECT_EQ(must(co_await c().zincrby("z", -1.25, "b")), 1.0);
    EXPECT_EQ(must(co_await c().zincrby("z", 7, "fresh")), 7.0);
    const scored after = must(co_await c().zrange_withscores("z", 0, -1));
    EXPECT_EQ(after, (scored{{"c", -3.0}, {"b", 1.0}, {"fresh", 7.0}, {"a", 11.5}}));
  });
}

// A subscriber on a plain blocking socket (RESP2), to see PUBLISH deliver.
class raw_subscriber {
 public:
  raw_subscriber(std::uint16_t port, const std::string& channel) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    const std::string command =
        "*2\r\n$9\r\nSUBSCRIBE\r\n$" + std::to_string(channel.size()) + "\r\n" + channel + "\r\n";
    (void)::send(fd_, command.data(), command.size(), MSG_NOSIGNAL);
    const std::string confirm = "*3\r\n$9\r\nsubscribe\r\n$" + std::to_string(channel.size()) +
                                "\r\n" + channel + "\r\n:1\r\n";
    subscribed_ = read(confirm.size()) == confirm;
  }
  ~raw_subscriber() { ::close(fd_); }
  bool subscribed() const { return subscribed_; }

  /// Exactly n bytes (fewer if the peer closes).
  std::string read(std::size_t n) {
    std::string out;
    char buf[256];
    while (out.size() < n) {
      const ssize_t got = ::recv(fd_, buf, std::min(sizeof buf, n - out.size()), 0);
      if (got <= 0) break;
      out.append(buf, static_cast<std::size_t>(got));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool subscribed_ = false;
};

TEST_P(Helpers, Publish) {
  raw_subscriber subscriber{server_->port(), "news"};
  ASSERT_TRUE(subscriber.subscribed());
  run([this]() -> task<> {
    EXPECT_EQ(must(co_await c().publish("nobody-listens", "x")), 0);
    EXPECT_EQ(must(co_await c().publish("news", "hello")), 1);
  });
  const std::string message = "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n";
  EXPECT_EQ(subscriber.read(message.size()), message);
}

TEST_P(Helpers, Scripting) {
  run([this]() -> task<> {
    const resp::reply one = must(co_await c().eval("return 1"));
    EXPECT_EQ(one.type(), resp::type::integer);
    EXPECT_EQ(one.integer(), 1);
    const cmd::arg three[] = {"a", "b", 3};
    EXPECT_EQ(must(co_await c().eval<std::int64_t>("return #ARGV", {}, three)), 3);
    EXPECT_TRUE(must(co_await c().set("k", "value")));
    EXPECT_EQ(must(co_await c().eval<opt>("return redis.call('GET', KEYS[1])", "k")), opt("value"));
    EXPECT_EQ(must(co_await c().eval<opt>("return redis.call('GET', KEYS[1])", "nope")),
              std::nullopt);

    const std::string script = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
    const std::string sha = must(co_await c().script_load(script));
    EXPECT_EQ(sha.size(), 40u);
    EXPECT_EQ(must(co_await c().evalsha<std::int64_t>(sha, "counter", 5)), 5);
    const std::vector<std::string> keys{"counter"};
    const std::vector<int> args{10};
    EXPECT_EQ(must(co_await c().evalsha<std::int64_t>(sha, keys, args)), 15);
    const resp::reply any = must(co_await c().evalsha(sha, "counter", 1));
    EXPECT_EQ(any.integer(), 16);

    const result<resp::reply> unknown =
        co_await c().evalsha("0123456789012345678901234567890123456789");
    CO_ASSERT_TRUE(unknown.has_server_error());
    EXPECT_EQ(unknown.server_error().kind, server_error_kind::noscript);
  });
}

TEST_P(Helpers, AnyCommand) {
  run([this]() -> task<> {
    const resp::reply ok = must(co_await c().command("SET", "raw", 5));
    EXPECT_EQ(ok.type(), resp::type::simple_string);
    EXPECT_EQ(ok.text(), "OK");
    EXPECT_EQ(must(co_await c().command<std::int64_t>("INCRBY", "raw", 2)), 7);
    const std::vector<std::string> values{"x", "y"};
    EXPECT_EQ(must(co_await c().command<std::int64_t>("RPUSH", "list", values, "z")), 3);
    const auto list = must(co_await c().command<std::vector<std::string>>("LRANGE", "list", 0, -1));
    EXPECT_EQ(list, (std::vector<std::string>{"x", "y", "z"}));
    const std::vector<std::string> keys{"raw", "list", "missing"};
    EXPECT_EQ(must(co_await c().command<std::int64_t>("DEL", keys)), 2);
    const result<resp::reply> unknown = co_await c().command("NOSUCHCOMMAND", "x");
    CO_ASSERT_TRUE(unknown.has_server_error());
    EXPECT_EQ(unknown.server_error().kind, server_error_kind::err);
  });
}

// Without a server: each helper builds the command it names, braced lists included (GCC 12
// refuses those inside a co_await expression; see command_helpers.hpp), and returns what the
// derived exec() returns.
class encoding_api : public command_helpers<encoding_api> {
 public:
  template <cmd::descriptor D>
  std::string exec(const D& command) {
    util::byte_buffer out;
    resp::encoder e{out};
    command.encode(e);
    return std::string(out.data());
  }
};

std::string wire(std::initializer_list<std::string_view> words) {
  std::string out = "*" + std::to_string(words.size()) + "\r\n";
  for (std::string_view w : words)
    out += "$" + std::to_string(w.size()) + "\r\n" + std::string(w) + "\r\n";
  return out;
}

TEST(HelpersEncoding, BuildTheCommandTheyName) {
  encoding_api api;
  EXPECT_EQ(api.ping(), wire({"PING"}));
  EXPECT_EQ(api.echo(7), wire({"ECHO", "7"}));
  EXPECT_EQ(api.set("k", "v",
                    {.expiry = cmd::set_expiry::after(10s), .condition = cmd::set_condition::nx}),
            wire({"SET", "k", "v", "EX", "10", "NX"}));
  EXPECT_EQ(api.set_get("k", "v", {.expiry = cmd::set_expiry::keep_ttl()}),
            wire({"SET", "k", "v", "KEEPTTL", "GET"}));
  EXPECT_EQ(api.getex("k", cmd::getex_expiry::persist()), wire({"GETEX", "k", "PERSIST"}));
  EXPECT_EQ(api.mget({"a", "b"}), wire({"MGET", "a", "b"}));
  EXPECT_EQ(api.mset({{"a", "1"}, {"b", 2}}), wire({"MSET", "a", "1", "b", "2"}));
  EXPECT_EQ(api.mset({"a", "1"}), wire({"MSET", "a", "1"}));
  EXPECT_EQ(api.del({"a", "b"}), wire({"DEL", "a", "b"}));
  EXPECT_EQ(api.expire("k", 5s, cmd::update_condition::xx_gt),
            wire({"EXPIRE", "k", "5", "XX", "GT"}));
  EXPECT_EQ(api.pexpire("k", 1500ms), wire({"PEXPIRE", "k", "1500"}));
  EXPECT_EQ(api.scan(7, "u:*", 100, "hash"),
            wire({"SCAN", "7", "MATCH", "u:*", "COUNT", "100", "TYPE", "hash"}));
  EXPECT_EQ(api.hset("h", "f", "v"), wire({"HSET", "h", "f", "v"}));
  EXPECT_EQ(api.hset("h", {{"f", "v"}, {"g", 2}}), wire({"HSET", "h", "f", "v", "g", "2"}));
  EXPECT_EQ(api.hdel("h", {"f", "g"}), wire({"HDEL", "h", "f", "g"}));
  EXPECT_EQ(api.hincrby("h", "f", -2), wire({"HINCRBY", "h", "f", "-2"}));
  EXPECT_EQ(api.lpush("l", {"a", "b"}), wire({"LPUSH", "l", "a", "b"}));
  EXPECT_EQ(api.lpop("l", 3), wire({"LPOP", "l", "3"}));
  EXPECT_EQ(api.rpop("l"), wire({"RPOP", "l"}));
  EXPECT_EQ(api.lrange("l", 0, -1), wire({"LRANGE", "l", "0", "-1"}));
  EXPECT_EQ(api.sadd("s", {"a", 1}), wire({"SADD", "s", "a", "1"}));
  EXPECT_EQ(api.zadd("z", {{1.5, "a"}}, {.changed = true}), wire({"ZADD", "z", "CH", "1.5", "a"}));
  EXPECT_EQ(api.zadd_incr("z", 2, "a", cmd::update_condition::nx),
            wire({"ZADD", "z", "NX", "INCR", "2", "a"}));
  EXPECT_EQ(api.zrange_withscores("z", "(1", "+inf", {.by = cmd::zrange_by::score}),
            wire({"ZRANGE", "z", "(1", "+inf", "BYSCORE", "WITHSCORES"}));
  EXPECT_EQ(api.zincrby("z", 0.5, "a"), wire({"ZINCRBY", "z", "0.5", "a"}));
  EXPECT_EQ(api.publish("ch", "m"), wire({"PUBLISH", "ch", "m"}));
  EXPECT_EQ(api.eval("return 1", {"k1", "k2"}, {"a"}),
            wire({"EVAL", "return 1", "2", "k1", "k2", "a"}));
  EXPECT_EQ(api.evalsha("abc"), wire({"EVALSHA", "abc", "0"}));
  EXPECT_EQ(api.script_load("return 1"), wire({"SCRIPT", "LOAD", "return 1"}));
  const std::vector<std::string> keys{"x", "y"};
  EXPECT_EQ(api.command("DEL", keys, 3), wire({"DEL", "x", "y", "3"}));
}

// The coroutine client's helpers are awaitables of the descriptors' results.
static_assert(std::is_same_v<decltype(std::declval<client&>().get("k")), exec_awaiter<cmd::get>>);
static_assert(
    std::is_same_v<decltype(std::declval<exec_awaiter<cmd::zrange_withscores>&>().await_resume()),
                   result<std::vector<std::pair<std::string, double>>>>);
static_assert(std::is_same_v<decltype(std::declval<client&>().command<std::int64_t>("INCR", "k")),
                             exec_awaiter<cmd::raw<std::int64_t>>>);

INSTANTIATE_TEST_SUITE_P(Protocols, Helpers,
                         ::testing::Values(resp_version::resp3, resp_version::resp2),
                         [](const ::testing::TestParamInfo<resp_version>& info) {
                           return info.param == resp_version::resp2 ? std::string("Resp2")
                                                                    : std::string("Resp3");
                         });

}  // namespace
}  // namespace uredis

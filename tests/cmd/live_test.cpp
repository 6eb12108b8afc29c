// Every descriptor against a real redis-server, in RESP2 and in RESP3: the encoder's bytes go out
// on a plain blocking socket (no uredis connection involved), the real reply comes back and is
// adapted into the descriptor's response, and the test checks the values Redis' documented
// semantics promise.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "support/redis_server.hpp"
#include "uredis/cmd/all.hpp"
#include "uredis/resp/adapter.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/resp/reply.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis::cmd {
namespace {

using namespace std::chrono_literals;
using strings = std::vector<std::string>;

// One blocking TCP connection that sends descriptors and reads their replies.
class blocking_connection {
 public:
  blocking_connection(std::uint16_t port, int protocol) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      throw std::runtime_error(std::string("connect: ") + std::strerror(errno));
    }
    timeval tv{5, 0};  // never hang on a wedged server
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (protocol == 3) {
      const auto hello = exec(raw<std::map<std::string, resp::reply>>{"HELLO", 3});
      if (!hello || hello->at("proto").integer() != 3) throw std::runtime_error("HELLO 3 failed");
    }
  }
  ~blocking_connection() { ::close(fd_); }
  blocking_connection(const blocking_connection&) = delete;
  blocking_connection& operator=(const blocking_connection&) = delete;

  template <descriptor D>
  result<response_t<D>> exec(const D& d) {
    util::byte_buffer out;
    resp::encoder e{out};
    d.encode(e);
    std::string_view bytes = out.data();
    while (!bytes.empty()) {
      const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    for (;;) {
      std::size_t consumed = 0;
      auto r = resp::read_reply<response_t<D>>(in_, &consumed);
      if (!(r.has_error() && r.error() == errc::incomplete_reply)) {
        if (consumed == 0) throw std::runtime_error("bad reply bytes: " + in_);
        in_.erase(0, consumed);
        return r;
      }
      char chunk[4096];
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) throw std::runtime_error("recv failed or timed out");
      in_.append(chunk, static_cast<std::size_t>(n));
    }
  }

  // The value of a command that must succeed.
  template <descriptor D>
  response_t<D> value(const D& d) {
    auto r = exec(d);
    if (!r.has_value()) {
      ADD_FAILURE() << "no value: "
                    << (r.has_server_error() ? r.server_error().message : r.error().message());
      return {};
    }
    return std::move(*r);
  }

 private:
  int fd_ = -1;
  std::string in_;
};

class Live : public testing::TestWithParam<int> {
 protected:
  static void SetUpTestSuite() { server_ = std::make_unique<test::redis_server>(); }
  static void TearDownTestSuite() { server_.reset(); }

  void SetUp() override {
    conn_ = std::make_unique<blocking_connection>(server_->port(), GetParam());
    ASSERT_TRUE(conn_->value(raw<applied>{"FLUSHALL"}));
  }

  template <descriptor D>
  result<response_t<D>> exec(const D& d) {
    return conn_->exec(d);
  }
  template <descriptor D>
  response_t<D> value(const D& d) {
    return conn_->value(d);
  }

  static std::unique_ptr<test::redis_server> server_;
  std::unique_ptr<blocking_connection> conn_;
};

std::unique_ptr<test::redis_server> Live::server_;

INSTANTIATE_TEST_SUITE_P(Protocols, Live, testing::Values(2, 3),
                         [](const testing::TestParamInfo<int>& info) {
                           return "resp" + std::to_string(info.param);
                         });

// ---- server ---------------------------------------------------------------------------------

TEST_P(Live, ping_echo) {
  EXPECT_EQ(value(ping{}), "PONG");
  EXPECT_EQ(value(ping{"hello"}), "hello");
  EXPECT_EQ(value(echo{"echo me"}), "echo me");
  EXPECT_EQ(value(echo{-12}), "-12");
}

// ---- strings --------------------------------------------------------------------------------

TEST_P(Live, get_set_conditions) {
  EXPECT_EQ(value(get{"k"}), std::nullopt);
  EXPECT_TRUE(value(set{"k", "v"}));
  EXPECT_EQ(value(get{"k"}), "v");
  EXPECT_FALSE(value(set{"k", "w", {.condition = set_condition::nx}}));  // exists: not set
  EXPECT_EQ(value(get{"k"}), "v");
  EXPECT_TRUE(value(set{"k", "w", {.condition = set_condition::xx}}));
  EXPECT_EQ(value(get{"k"}), "w");
  EXPECT_FALSE(value(set{"missing", "x", {.condition = set_condition::xx}}));
  EXPECT_EQ(value(get{"missing"}), std::nullopt);
  EXPECT_TRUE(value(set{"n", 42}));
  EXPECT_EQ(value(get{"n"}), "42");
  EXPECT_TRUE(value(set{"f", 2.5}));
  EXPECT_EQ(value(get{"f"}), "2.5");
  const std::string binary("a\0\r\nb", 5);
  EXPECT_TRUE(value(set{"bin", binary}));
  EXPECT_EQ(value(get{"bin"}), binary);
}

TEST_P(Live, set_expiries) {
  EXPECT_TRUE(value(set{"ex", "v", {.expiry = set_expiry::after(100s)}}));
  EXPECT_GE(value(ttl{"ex"}), 98);
  EXPECT_LE(value(ttl{"ex"}), 100);
  EXPECT_TRUE(value(set{"px", "v", {.expiry = set_expiry::after(50'000ms)}}));
  EXPECT_GT(value(pttl{"px"}), 45'000);
  EXPECT_LE(value(pttl{"px"}), 50'000);
  const auto now = std::chrono::system_clock::now();
  EXPECT_TRUE(
      value(set{"exat",
                "v",
                {.expiry = set_expiry::at(std::chrono::floor<std::chrono::seconds>(now) + 200s)}}));
  EXPECT_GE(value(ttl{"exat"}), 197);
  EXPECT_LE(value(ttl{"exat"}), 200);
  EXPECT_TRUE(value(set{"pxat", "v", {.expiry = set_expiry::at(now + 300s)}}));  // nanoseconds
  EXPECT_GE(value(ttl{"pxat"}), 297);
  EXPECT_LE(value(ttl{"pxat"}), 300);
  // KEEPTTL keeps the 100 s of "ex"; a plain SET drops it.
  EXPECT_TRUE(value(set{"ex", "w", {.expiry = set_expiry::keep_ttl()}}));
  EXPECT_GE(value(ttl{"ex"}), 98);
  EXPECT_TRUE(value(set{"ex", "x"}));
  EXPECT_EQ(value(ttl{"ex"}), -1);
  // Expiry with a condition.
  EXPECT_TRUE(value(set{"new", "v", {set_expiry::after(10s), set_condition::nx}}));
  EXPECT_GT(value(ttl{"new"}), 0);
  // A zero expiry is the server's to refuse: a server error, not a mismatch.
  const auto zero = exec(set{"z", "v", {.expiry = set_expiry::after(0s)}});
  ASSERT_TRUE(zero.has_server_error());
  EXPECT_EQ(zero.server_error().kind, server_error_kind::err);
}

TEST_P(Live, set_get) {
  EXPECT_EQ(value(set_get{"k", "v1"}), std::nullopt);  // no old value
  EXPECT_EQ(value(set_get{"k", "v2"}), "v1");
  EXPECT_EQ(value(get{"k"}), "v2");
  // NX with GET: returns the old value and does not set.
  EXPECT_EQ(value(set_get{"k", "v3", {.condition = set_condition::nx}}), "v2");
  EXPECT_EQ(value(get{"k"}), "v2");
  EXPECT_EQ(value(set_get{"k", "v4", {set_expiry::after(60s), set_condition::xx}}), "v2");
  EXPECT_GT(value(ttl{"k"}), 0);
}

TEST_P(Live, getdel_getex) {
  ASSERT_TRUE(value(set{"k", "v"}));
  EXPECT_EQ(value(getex{"k"}), "v");
  EXPECT_EQ(value(ttl{"k"}), -1);
  EXPECT_EQ(value(getex{"k", getex_expiry::after(100s)}), "v");
  EXPECT_GE(value(ttl{"k"}), 98);
  EXPECT_EQ(value(getex{"k", getex_expiry::after(90'000ms)}), "v");
  EXPECT_LE(value(pttl{"k"}), 90'000);
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(
      value(getex{"k", getex_expiry::at(std::chrono::floor<std::chrono::seconds>(now) + 50s)}),
      "v");
  EXPECT_LE(value(ttl{"k"}), 50);
  EXPECT_EQ(value(getex{"k", getex_expiry::at(now + 40s)}), "v");
  EXPECT_LE(value(ttl{"k"}), 40);
  EXPECT_EQ(value(getex{"k", getex_expiry::persist()}), "v");
  EXPECT_EQ(value(ttl{"k"}), -1);
  EXPECT_EQ(value(getex{"missing"}), std::nullopt);
  EXPECT_EQ(value(getdel{"k"}), "v");
  EXPECT_EQ(value(getdel{"k"}), std::nullopt);
  EXPECT_EQ(value(exists{"k"}), 0);
}

TEST_P(Live, mget_mset) {
  EXPECT_TRUE(value(mset{{{"a", "1"}, {"b", 2}}}));
  const std::map<std::string, std::string> more = {{"c", "3"}, {"d", "4"}};
  EXPECT_TRUE(value(mset{more}));
  EXPECT_TRUE(value(mset{{"e", "5"}}));
  const std::vector<std::optional<std::string>> expected = {"1", std::nullopt, "2", "3", "5"};
  EXPECT_EQ(value(mget{{"a", "missing", "b", "c", "e"}}), expected);
  const std::vector<std::string> keys = {"d", "nope"};
  EXPECT_EQ(value(mget{keys}), (std::vector<std::optional<std::string>>{"4", std::nullopt}));
  EXPECT_EQ(value(mget{"a"}), (std::vector<std::optional<std::string>>{"1"}));
}

TEST_P(Live, counters) {
  EXPECT_EQ(value(incr{"n"}), 1);
  EXPECT_EQ(value(incrby{"n", 10}), 11);
  EXPECT_EQ(value(decr{"n"}), 10);
  EXPECT_EQ(value(decrby{"n", 20}), -10);
  EXPECT_EQ(value(incrby{"n", -5}), -15);
  EXPECT_EQ(value(get{"n"}), "-15");
  ASSERT_TRUE(value(set{"s", "text"}));
  const auto r = exec(incr{"s"});
  ASSERT_TRUE(r.has_server_error());
  EXPECT_EQ(r.server_error().kind, server_error_kind::err);
}

TEST_P(Live, append_strlen) {
  EXPECT_EQ(value(strlen{"k"}), 0);
  EXPECT_EQ(value(append{"k", "hello"}), 5);
  EXPECT_EQ(value(append{"k", 123}), 8);
  EXPECT_EQ(value(strlen{"k"}), 8);
  EXPECT_EQ(value(get{"k"}), "hello123");
}

// ---- keys -----------------------------------------------------------------------------------

TEST_P(Live, del_unlink_exists) {
  ASSERT_TRUE(value(mset{{{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}}}));
  EXPECT_EQ(value(exists{"a"}), 1);
  EXPECT_EQ(value(exists{{"a", "a", "b", "zz"}}), 3);  // a key given twice counts twice
  EXPECT_EQ(value(del{"a"}), 1);
  EXPECT_EQ(value(del{"a"}), 0);
  EXPECT_EQ(value(del{{"b", "zz"}}), 1);
  const std::vector<std::string> keys = {"c", "d"};
  EXPECT_EQ(value(unlink{keys}), 2);
  EXPECT_EQ(value(exists{keys}), 0);
}

TEST_P(Live, expire_conditions_and_ttl) {
  EXPECT_EQ(value(ttl{"k"}), -2);
  EXPECT_EQ(value(pttl{"k"}), -2);
  EXPECT_FALSE(value(expire{"k", 10s}));  // no such key
  ASSERT_TRUE(value(set{"k", "v"}));
  EXPECT_EQ(value(ttl{"k"}), -1);
  EXPECT_FALSE(value(expire{"k", 100s, update_condition::xx}));  // has no expiry yet
  EXPECT_FALSE(value(expire{"k", 100s, update_condition::gt}));  // no expiry counts as infinite
  EXPECT_TRUE(value(expire{"k", 100s, update_condition::nx}));
  EXPECT_FALSE(value(expire{"k", 50s, update_condition::nx}));  // has one now
  EXPECT_FALSE(value(expire{"k", 50s, update_condition::gt}));
  EXPECT_TRUE(value(expire{"k", 200s, update_condition::gt}));
  EXPECT_FALSE(value(expire{"k", 300s, update_condition::lt}));
  EXPECT_TRUE(value(expire{"k", 150s, update_condition::xx_lt}));
  EXPECT_TRUE(value(expire{"k", 180s, update_condition::xx_gt}));
  EXPECT_GE(value(ttl{"k"}), 178);
  EXPECT_TRUE(value(expire{"k", 120s, update_condition::xx}));
  EXPECT_LE(value(ttl{"k"}), 120);
  EXPECT_TRUE(value(pexpire{"k", 60'000ms}));
  EXPECT_LE(value(pttl{"k"}), 60'000);
  EXPECT_GT(value(pttl{"k"}), 55'000);
  EXPECT_FALSE(value(pexpire{"k", 70'000ms, update_condition::lt}));
  EXPECT_TRUE(value(pexpire{"k", 50'000ms, update_condition::xx_lt}));
  EXPECT_FALSE(value(pexpire{"k", 1ms, update_condition::nx}));
  EXPECT_FALSE(value(pexpire{"missing", 1s}));
}

TEST_P(Live, scan) {
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(value(set{"user:" + std::to_string(i), i}));
  ASSERT_EQ(value(hset{"user:hash", {"f", "v"}}), 1);
  ASSERT_TRUE(value(set{"other", "x"}));

  std::set<std::string> seen;
  std::uint64_t cursor = 0;
  int pages = 0;
  do {
    const auto page = value(scan{.cursor = cursor, .match = "user:*", .count = 10});
    cursor = page.first;
    seen.insert(page.second.begin(), page.second.end());
    ASSERT_LT(++pages, 1000);
  } while (cursor != 0);
  EXPECT_EQ(seen.size(), 51u);
  EXPECT_EQ(seen.count("other"), 0u);
  EXPECT_EQ(seen.count("user:hash"), 1u);
  EXPECT_GT(pages, 1);

  std::set<std::string> hashes;
  cursor = 0;
  do {
    const auto page = value(scan{cursor, "*", 1000, "hash"});
    cursor = page.first;
    hashes.insert(page.second.begin(), page.second.end());
  } while (cursor != 0);
  EXPECT_EQ(hashes, (std::set<std::string>{"user:hash"}));
}

// ---- hashes ---------------------------------------------------------------------------------

TEST_P(Live, hashes) {
  EXPECT_EQ(value(hget{"h", "f"}), std::nullopt);
  EXPECT_TRUE(value(hgetall{"h"}).empty());
  EXPECT_EQ(value(hset{"h", {"f", "v"}}), 1);
  EXPECT_EQ(value(hset{"h", {{"f", "v2"}, {"n", 1}}}), 1);  // f overwritten, n added
  const std::map<std::string, std::string> more = {{"a", "x"}, {"b", "y"}};
  EXPECT_EQ(value(hset{"h", more}), 2);
  EXPECT_EQ(value(hget{"h", "f"}), "v2");
  EXPECT_EQ(value(hincrby{"h", "n", 41}), 42);
  EXPECT_EQ(value(hincrby{"h", "n"}), 43);
  EXPECT_EQ(value(hincrby{"h", "n", -50}), -7);
  const std::unordered_map<std::string, std::string> all = {
      {"f", "v2"}, {"n", "-7"}, {"a", "x"}, {"b", "y"}};
  EXPECT_EQ(value(hgetall{"h"}), all);
  EXPECT_EQ(value(hdel{"h", {"a", "b", "nope"}}), 2);
  EXPECT_EQ(value(hdel{"h", "f"}), 1);
  EXPECT_EQ(value(hgetall{"h"}), (std::unordered_map<std::string, std::string>{{"n", "-7"}}));
}

// ---- lists ----------------------------------------------------------------------------------

TEST_P(Live, lists) {
  EXPECT_EQ(value(lpop{"l"}), std::nullopt);
  EXPECT_EQ(value(lpop_count{"l", 2}), std::nullopt);
  EXPECT_EQ(value(llen{"l"}), 0);
  EXPECT_EQ(value(lpush{"l", {"a", "b", "c"}}), 3);  // c b a
  EXPECT_EQ(value(rpush{"l", "d"}), 4);              // c b a d
  const std::vector<int> numbers = {1, 2};
  EXPECT_EQ(value(rpush{"l", numbers}), 6);  // c b a d 1 2
  EXPECT_EQ(value(lrange{"l"}), (strings{"c", "b", "a", "d", "1", "2"}));
  EXPECT_EQ(value(lrange{"l", 1, 2}), (strings{"b", "a"}));
  EXPECT_EQ(value(lrange{"l", -2, -1}), (strings{"1", "2"}));
  EXPECT_EQ(value(lpop{"l"}), "c");
  EXPECT_EQ(value(rpop{"l"}), "2");
  EXPECT_EQ(value(lpop_count{"l", 2}), (strings{"b", "a"}));
  EXPECT_EQ(value(rpop_count{"l", 5}), (strings{"1", "d"}));  // fewer than asked: all there were
  EXPECT_EQ(value(llen{"l"}), 0);
  EXPECT_EQ(value(rpop{"l"}), std::nullopt);
  EXPECT_EQ(value(rpop_count{"l", 1}), std::nullopt);
  EXPECT_TRUE(value(lrange{"l"}).empty());
}

// ---- sets -----------------------------------------------------------------------------------

TEST_P(Live, sets) {
  EXPECT_TRUE(value(smembers{"s"}).empty());
  EXPECT_EQ(value(sadd{"s", "a"}), 1);
  EXPECT_EQ(value(sadd{"s", {"a", "b", "c"}}), 2);
  const std::vector<std::string> members = {"c", "d"};
  EXPECT_EQ(value(sadd{"s", members}), 1);
  EXPECT_TRUE(value(sismember{"s", "a"}));
  EXPECT_FALSE(value(sismember{"s", "z"}));
  EXPECT_FALSE(value(sismember{"missing", "a"}));
  auto all = value(smembers{"s"});
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (strings{"a", "b", "c", "d"}));
  EXPECT_EQ(value(srem{"s", {"a", "z"}}), 1);
  EXPECT_EQ(value(srem{"s", "b"}), 1);
  all = value(smembers{"s"});
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (strings{"c", "d"}));
}

// ---- sorted sets ----------------------------------------------------------------------------

TEST_P(Live, zadd_zrange) {
  EXPECT_EQ(value(zadd{"z", {1, "a"}}), 1);
  EXPECT_EQ(value(zadd{"z", {{2, "b"}, {3.5, "c"}}}), 2);
  const std::vector<std::pair<double, std::string>> more = {{-1, "neg"}, {10, "ten"}};
  EXPECT_EQ(value(zadd{"z", more}), 2);
  EXPECT_EQ(value(zadd{"z", {"+inf", "top"}}), 1);
  EXPECT_EQ(value(zadd{"z", {1.5, "a"}}), 0);  // updated, not added
  EXPECT_EQ(value(zadd{"z", {1.25, "a"}, {.changed = true}}), 1);
  EXPECT_EQ(value(zadd{"z", {{9, "a"}, {0, "new"}}, {.condition = update_condition::nx}}), 1);
  EXPECT_EQ(value(zscore{"z", "a"}), 1.25);  // NX left it
  EXPECT_EQ(value(zadd{"z", {{9, "a"}, {0, "xx"}}, {update_condition::xx, true}}), 1);
  EXPECT_EQ(value(zscore{"z", "xx"}), std::nullopt);                       // XX did not add it
  EXPECT_EQ(value(zadd{"z", {1, "a"}, {update_condition::gt, true}}), 0);  // 1 < 9
  EXPECT_EQ(value(zadd{"z", {1, "a"}, {update_condition::xx_lt, true}}), 1);
  EXPECT_EQ(value(zscore{"z", "a"}), 1);

  // Scores now: neg -1, new 0, a 1, b 2, c 3.5, ten 10, top inf.
  EXPECT_EQ(value(zrange{"z"}), (strings{"neg", "new", "a", "b", "c", "ten", "top"}));
  EXPECT_EQ(value(zrange{"z", 1, 2}), (strings{"new", "a"}));
  EXPECT_EQ(value(zrange{"z", 0, 1, {.reverse = true}}), (strings{"top", "ten"}));
  EXPECT_EQ(value(zrange{"z", "(1", 10, {.by = zrange_by::score}}), (strings{"b", "c", "ten"}));
  EXPECT_EQ(value(zrange{"z", "+inf", "-inf", {zrange_by::score, true, zrange_limit{1, 2}}}),
            (strings{"ten", "c"}));
  using scored = std::vector<std::pair<std::string, double>>;
  EXPECT_EQ(value(zrange_withscores{"z", 0, 2}), (scored{{"neg", -1}, {"new", 0}, {"a", 1}}));
  EXPECT_EQ(value(zrange_withscores{"z", -1, -1}),
            (scored{{"top", std::numeric_limits<double>::infinity()}}));
  EXPECT_EQ(value(zrange_withscores{"z", 3.5, "inf", {.by = zrange_by::score}}),
            (scored{{"c", 3.5}, {"ten", 10}, {"top", std::numeric_limits<double>::infinity()}}));
  EXPECT_TRUE(value(zrange_withscores{"missing"}).empty());

  ASSERT_EQ(value(zadd{"lex", {{0, "a"}, {0, "b"}, {0, "c"}, {0, "d"}}}), 4);
  EXPECT_EQ(value(zrange{"lex", "[b", "(d", {.by = zrange_by::lex}}), (strings{"b", "c"}));

  // LIMIT without BYSCORE/BYLEX: the server refuses it, as a value.
  const auto refused = exec(zrange{"z", 0, -1, {.limit = zrange_limit{0, 1}}});
  ASSERT_TRUE(refused.has_server_error());
  EXPECT_EQ(refused.server_error().kind, server_error_kind::err);
}

TEST_P(Live, scores) {
  EXPECT_EQ(value(zscore{"z", "a"}), std::nullopt);
  EXPECT_EQ(value(zincrby{"z", 2.5, "a"}), 2.5);
  EXPECT_EQ(value(zincrby{"z", -0.25, "a"}), 2.25);
  EXPECT_EQ(value(zscore{"z", "a"}), 2.25);
  EXPECT_EQ(value(zadd_incr{"z", 1, "a"}), 3.25);
  EXPECT_EQ(value(zadd_incr{"z", 1, "a", update_condition::nx}), std::nullopt);   // exists
  EXPECT_EQ(value(zadd_incr{"z", 1, "b", update_condition::xx}), std::nullopt);   // does not
  EXPECT_EQ(value(zadd_incr{"z", -1, "a", update_condition::gt}), std::nullopt);  // would drop
  EXPECT_EQ(value(zadd_incr{"z", 0.5, "a", update_condition::xx_gt}), 3.75);
  EXPECT_EQ(value(zscore{"z", "a"}), 3.75);
  EXPECT_EQ(value(zincrby{"z", std::numeric_limits<double>::infinity(), "a"}),
            std::numeric_limits<double>::infinity());
  EXPECT_EQ(value(zscore{"z", "a"}), std::numeric_limits<double>::infinity());
  EXPECT_EQ(value(zincrby{"z", 0.1, "tenth"}), 0.1);  // a double's shortest text round-trips
}

// ---- pubsub ---------------------------------------------------------------------------------

TEST_P(Live, publish) {
  EXPECT_EQ(value(publish{"channel", "message"}), 0);  // nobody listening
  EXPECT_EQ(value(publish{"channel", 42}), 0);
}

// ---- scripting ------------------------------------------------------------------------------

TEST_P(Live, eval_evalsha_script_load) {
  const resp::reply r = value(eval{"return {KEYS[1], ARGV[1], #KEYS, #ARGV}", {"k"}, {"a", 2}});
  ASSERT_EQ(r.type(), resp::type::array);
  ASSERT_EQ(r.elements().size(), 4u);
  EXPECT_EQ(r.elements()[0].text(), "k");
  EXPECT_EQ(r.elements()[1].text(), "a");
  EXPECT_EQ(r.elements()[2].integer(), 1);
  EXPECT_EQ(r.elements()[3].integer(), 2);

  EXPECT_EQ(value(eval<std::int64_t>{"return 7"}), 7);
  ASSERT_TRUE(value(set{"k", "stored"}));
  EXPECT_EQ(value(eval<std::optional<std::string>>{"return redis.call('GET', KEYS[1])", "k"}),
            "stored");
  EXPECT_EQ(value(eval<std::optional<std::string>>{"return redis.call('GET', KEYS[1])", "nope"}),
            std::nullopt);
  const std::vector<std::string> keys = {"k1", "k2"};
  const std::vector<int> args = {1, 2, 3};
  EXPECT_EQ(value(eval<std::int64_t>{"return #KEYS * 10 + #ARGV", keys, args}), 23);

  const std::string_view script = "return ARGV[1] .. ARGV[2]";
  const std::string sha = value(script_load{script});
  EXPECT_EQ(sha.size(), 40u);
  EXPECT_EQ(value(evalsha<std::string>{sha, {}, {"ab", "cd"}}), "abcd");
  EXPECT_EQ(value(evalsha{sha, {}, {"x", 1}}).text(), "x1");

  const auto missing = exec(evalsha<>{"0000000000000000000000000000000000000000"});
  ASSERT_TRUE(missing.has_server_error());
  EXPECT_EQ(missing.server_error().kind, server_error_kind::noscript);
  const auto failing = exec(eval<>{"return redis.call('NOSUCHCOMMAND')"});
  ASSERT_TRUE(failing.has_server_error());
}

// ---- raw ------------------------------------------------------------------------------------

TEST_P(Live, raw) {
  const resp::reply info = value(raw{"CLIENT", "INFO"});
  // A bulk string in RESP2, a verbatim string in RESP3; the text is the same.
  EXPECT_EQ(info.type(), GetParam() == 2 ? resp::type::bulk_string : resp::type::verbatim_string);
  EXPECT_NE(info.text().find("id="), std::string_view::npos);
  EXPECT_EQ(value(raw<std::int64_t>{"DBSIZE"}), 0);
  ASSERT_TRUE(value(raw<applied>{"SET", "k", 5}));
  EXPECT_EQ(value(raw<std::int64_t>{"INCRBY", "k", -2}), 3);
  ASSERT_EQ(value(sadd{"s1", {"a", "b", "c"}}), 3);
  ASSERT_EQ(value(sadd{"s2", {"b", "c", "d"}}), 3);
  const std::vector<std::string> sets = {"s1", "s2"};
  EXPECT_EQ(value(raw<std::int64_t>{"SINTERCARD", 2, sets}), 2);
  EXPECT_EQ(value(raw<std::int64_t>{"SINTERCARD", 2, sets, "LIMIT", 1}), 1);
  const std::vector<std::string_view> words = {"GET", "k"};
  EXPECT_EQ(value(raw<std::optional<std::string>>{words}), "3");
  const auto unknown = exec(raw{"NOSUCHCOMMAND", "x"});
  ASSERT_TRUE(unknown.has_server_error());
  EXPECT_EQ(unknown.server_error().kind, server_error_kind::err);
}

// ---- errors ---------------------------------------------------------------------------------

TEST_P(Live, wrong_type_is_a_server_error_and_the_connection_goes_on) {
  ASSERT_EQ(value(lpush{"l", "x"}), 1);
  const auto r = exec(get{"l"});
  ASSERT_TRUE(r.has_server_error());
  EXPECT_EQ(r.server_error().kind, server_error_kind::wrongtype);
  const auto h = exec(hgetall{"l"});
  ASSERT_TRUE(h.has_server_error());
  EXPECT_EQ(h.server_error().kind, server_error_kind::wrongtype);
  EXPECT_EQ(value(ping{}), "PONG");
}

}  // namespace
}  // namespace uredis::cmd

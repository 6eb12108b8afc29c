// The exact bytes every descriptor writes, for every option and combination, and the proof that
// building and encoding descriptors allocates nothing.

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "allocation_counter.hpp"
#include "uredis/cmd/all.hpp"
#include "uredis/resp/encoder.hpp"
#include "uredis/util/byte_buffer.hpp"

namespace uredis::cmd {
namespace {

using namespace std::chrono_literals;
using namespace std::string_view_literals;

// ---- every descriptor keeps the contract ----------------------------------------------------

template <class... D>
constexpr bool all_descriptors() {
  return ((descriptor<D> && std::is_trivially_destructible_v<D> &&
           std::is_trivially_copyable_v<D>)&&...);
}

// Trivially destructible: a descriptor owns nothing, so it cannot have allocated anything.
static_assert(all_descriptors<
              ping, echo, get, set, set_get, getdel, getex, mget, mset, incr, incrby, decr, decrby,
              append, strlen, del, unlink, exists, expire, pexpire, ttl, pttl, scan, hget, hset,
              hdel, hgetall, hincrby, lpush, rpush, lpop, lpop_count, rpop, rpop_count, lrange,
              llen, sadd, srem, smembers, sismember, zadd, zadd_incr, zrange, zrange_withscores,
              zscore, zincrby, publish, spublish, eval<>, evalsha<>, eval_ro<>, evalsha_ro<>,
              fcall<>, fcall_ro<>, script_load, raw<>, raw<std::int64_t>>());

static_assert(std::is_same_v<response_t<get>, std::optional<std::string>>);
static_assert(std::is_same_v<response_t<set>, applied>);
static_assert(std::is_same_v<response_t<eval<>>, resp::reply>);
static_assert(std::is_same_v<response_t<eval<double>>, double>);
static_assert(std::is_same_v<decltype(eval{"return 1"}), eval<resp::reply>>);
static_assert(std::is_same_v<decltype(evalsha{"sha", {"k"}, {"a"}}), evalsha<resp::reply>>);
static_assert(std::is_same_v<decltype(fcall{"f", {"k"}, {"a"}}), fcall<resp::reply>>);
static_assert(std::is_same_v<decltype(fcall_ro{"f"}), fcall_ro<resp::reply>>);
static_assert(std::is_same_v<decltype(eval_ro{"s", {"k"}}), eval_ro<resp::reply>>);
static_assert(std::is_same_v<decltype(evalsha_ro{"sha"}), evalsha_ro<resp::reply>>);
static_assert(std::is_same_v<decltype(raw{"PING"}), raw<resp::reply>>);
static_assert(!std::is_constructible_v<raw<>>);  // a command has a name

// ---- helpers --------------------------------------------------------------------------------

template <class D>
std::string encoded(const D& d) {
  util::byte_buffer buf;
  resp::encoder e{buf};
  d.encode(e);
  EXPECT_EQ(e.pending_args(), 0u);  // the announced count matched the arguments written
  return std::string(buf.data());
}

std::string wire(std::initializer_list<std::string_view> words) {
  std::string out = "*" + std::to_string(words.size()) + "\r\n";
  for (const std::string_view w : words) {
    out += "$" + std::to_string(w.size()) + "\r\n";
    out += w;
    out += "\r\n";
  }
  return out;
}

TEST(Encode, wire_helper_matches_the_protocol) {
  EXPECT_EQ(encoded(get{"k"}), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  EXPECT_EQ(wire({"GET", "k"}), "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
}

// ---- server ---------------------------------------------------------------------------------

TEST(Encode, ping_echo) {
  EXPECT_EQ(encoded(ping{}), wire({"PING"}));
  EXPECT_EQ(encoded(ping{"hello"}), wire({"PING", "hello"}));
  EXPECT_EQ(encoded(echo{"hi there"}), wire({"ECHO", "hi there"}));
  EXPECT_EQ(encoded(echo{42}), wire({"ECHO", "42"}));
  EXPECT_EQ(encoded(echo{""}), wire({"ECHO", ""}));
}

// ---- strings --------------------------------------------------------------------------------

TEST(Encode, get_getdel) {
  EXPECT_EQ(encoded(get{"key"}), wire({"GET", "key"}));
  EXPECT_EQ(encoded(get{std::string("a\0b", 3)}), wire({"GET", "a\0b"sv}));
  EXPECT_EQ(encoded(getdel{"key"}), wire({"GETDEL", "key"}));
}

TEST(Encode, set_plain_and_values) {
  EXPECT_EQ(encoded(set{"k", "v"}), wire({"SET", "k", "v"}));
  EXPECT_EQ(encoded(set{"k", 42}), wire({"SET", "k", "42"}));
  EXPECT_EQ(encoded(set{"k", -1.25}), wire({"SET", "k", "-1.25"}));
  EXPECT_EQ(encoded(set{"k", std::uint64_t{18446744073709551615u}}),
            wire({"SET", "k", "18446744073709551615"}));
  const std::string big(1000, 'x');
  EXPECT_EQ(encoded(set{"k", big}), wire({"SET", "k", big}));
}

TEST(Encode, set_expiries) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  const std::chrono::sys_seconds at_s{seconds{1700000000}};
  const std::chrono::sys_time<milliseconds> at_ms{milliseconds{1700000000500}};
  EXPECT_EQ(encoded(set{"k", "v", {.expiry = set_expiry::after(10s)}}),
            wire({"SET", "k", "v", "EX", "10"}));
  EXPECT_EQ(encoded(set{"k", "v", {.expiry = set_expiry::after(1500ms)}}),
            wire({"SET", "k", "v", "PX", "1500"}));
  EXPECT_EQ(encoded(set{"k", "v", {.expiry = set_expiry::at(at_s)}}),
            wire({"SET", "k", "v", "EXAT", "1700000000"}));
  EXPECT_EQ(encoded(set{"k", "v", {.expiry = set_expiry::at(at_ms)}}),
            wire({"SET", "k", "v", "PXAT", "1700000000500"}));
  EXPECT_EQ(encoded(set{"k", "v", {.expiry = set_expiry::keep_ttl()}}),
            wire({"SET", "k", "v", "KEEPTTL"}));
}

TEST(Encode, set_conditions) {
  EXPECT_EQ(encoded(set{"k", "v", {.condition = set_condition::nx}}),
            wire({"SET", "k", "v", "NX"}));
  EXPECT_EQ(encoded(set{"k", "v", {.condition = set_condition::xx}}),
            wire({"SET", "k", "v", "XX"}));
  EXPECT_EQ(encoded(set{"k", "v", {.condition = set_condition::always}}), wire({"SET", "k", "v"}));
  EXPECT_EQ(encoded(set{"k", "v", {set_expiry::after(5s), set_condition::nx}}),
            wire({"SET", "k", "v", "EX", "5", "NX"}));
  EXPECT_EQ(encoded(set{"k", "v", {set_expiry::keep_ttl(), set_condition::xx}}),
            wire({"SET", "k", "v", "KEEPTTL", "XX"}));
}

TEST(Encode, set_get) {
  EXPECT_EQ(encoded(set_get{"k", "v"}), wire({"SET", "k", "v", "GET"}));
  EXPECT_EQ(encoded(set_get{"k", "v", {.condition = set_condition::nx}}),
            wire({"SET", "k", "v", "NX", "GET"}));
  EXPECT_EQ(encoded(set_get{"k", 7, {set_expiry::after(250ms), set_condition::xx}}),
            wire({"SET", "k", "7", "PX", "250", "XX", "GET"}));
}

TEST(Encode, getex) {
  const std::chrono::sys_seconds at_s{std::chrono::seconds{1700000000}};
  const std::chrono::sys_time<std::chrono::milliseconds> at_ms{
      std::chrono::milliseconds{1700000000001}};
  EXPECT_EQ(encoded(getex{"k"}), wire({"GETEX", "k"}));
  EXPECT_EQ(encoded(getex{"k", getex_expiry::after(100s)}), wire({"GETEX", "k", "EX", "100"}));
  EXPECT_EQ(encoded(getex{"k", getex_expiry::after(99ms)}), wire({"GETEX", "k", "PX", "99"}));
  EXPECT_EQ(encoded(getex{"k", getex_expiry::at(at_s)}),
            wire({"GETEX", "k", "EXAT", "1700000000"}));
  EXPECT_EQ(encoded(getex{"k", getex_expiry::at(at_ms)}),
            wire({"GETEX", "k", "PXAT", "1700000000001"}));
  EXPECT_EQ(encoded(getex{"k", getex_expiry::persist()}), wire({"GETEX", "k", "PERSIST"}));
}

TEST(Encode, mget_mset) {
  EXPECT_EQ(encoded(mget{"a"}), wire({"MGET", "a"}));
  EXPECT_EQ(encoded(mget{{"a", "b", "c"}}), wire({"MGET", "a", "b", "c"}));
  const std::vector<std::string> keys = {"x", "y"};
  EXPECT_EQ(encoded(mget{keys}), wire({"MGET", "x", "y"}));
  EXPECT_EQ(encoded(mset{{"k", "v"}}), wire({"MSET", "k", "v"}));
  EXPECT_EQ(encoded(mset{{{"k1", "v1"}, {"k2", 2}}}), wire({"MSET", "k1", "v1", "k2", "2"}));
  const std::map<std::string, std::string> pairs = {{"a", "1"}, {"b", "2"}};
  EXPECT_EQ(encoded(mset{pairs}), wire({"MSET", "a", "1", "b", "2"}));
}

TEST(Encode, counters) {
  EXPECT_EQ(encoded(incr{"n"}), wire({"INCR", "n"}));
  EXPECT_EQ(encoded(incrby{"n", 5}), wire({"INCRBY", "n", "5"}));
  EXPECT_EQ(encoded(incrby{"n", -9223372036854775807 - 1}),
            wire({"INCRBY", "n", "-9223372036854775808"}));
  EXPECT_EQ(encoded(decr{"n"}), wire({"DECR", "n"}));
  EXPECT_EQ(encoded(decrby{"n", 3}), wire({"DECRBY", "n", "3"}));
  EXPECT_EQ(encoded(decrby{"n", -3}), wire({"DECRBY", "n", "-3"}));
}

TEST(Encode, append_strlen) {
  EXPECT_EQ(encoded(append{"k", "tail"}), wire({"APPEND", "k", "tail"}));
  EXPECT_EQ(encoded(append{"k", 12}), wire({"APPEND", "k", "12"}));
  EXPECT_EQ(encoded(strlen{"k"}), wire({"STRLEN", "k"}));
}

// ---- keys -----------------------------------------------------------------------------------

TEST(Encode, del_unlink_exists) {
  EXPECT_EQ(encoded(del{"a"}), wire({"DEL", "a"}));
  EXPECT_EQ(encoded(del{{"a", "b"}}), wire({"DEL", "a", "b"}));
  const std::array<std::string_view, 3> keys = {"x", "y", "z"};
  EXPECT_EQ(encoded(del{keys}), wire({"DEL", "x", "y", "z"}));
  EXPECT_EQ(encoded(unlink{"a"}), wire({"UNLINK", "a"}));
  EXPECT_EQ(encoded(unlink{keys}), wire({"UNLINK", "x", "y", "z"}));
  EXPECT_EQ(encoded(exists{"a"}), wire({"EXISTS", "a"}));
  EXPECT_EQ(encoded(exists{{"a", "a"}}), wire({"EXISTS", "a", "a"}));
}

TEST(Encode, expire_pexpire) {
  EXPECT_EQ(encoded(expire{"k", 10s}), wire({"EXPIRE", "k", "10"}));
  EXPECT_EQ(encoded(expire{"k", 1min}), wire({"EXPIRE", "k", "60"}));
  EXPECT_EQ(encoded(expire{"k", 10s, update_condition::nx}), wire({"EXPIRE", "k", "10", "NX"}));
  EXPECT_EQ(encoded(expire{"k", 10s, update_condition::xx}), wire({"EXPIRE", "k", "10", "XX"}));
  EXPECT_EQ(encoded(expire{"k", 10s, update_condition::gt}), wire({"EXPIRE", "k", "10", "GT"}));
  EXPECT_EQ(encoded(expire{"k", 10s, update_condition::lt}), wire({"EXPIRE", "k", "10", "LT"}));
  EXPECT_EQ(encoded(expire{"k", 10s, update_condition::xx_gt}),
            wire({"EXPIRE", "k", "10", "XX", "GT"}));
  EXPECT_EQ(encoded(expire{"k", 10s, update_condition::xx_lt}),
            wire({"EXPIRE", "k", "10", "XX", "LT"}));
  EXPECT_EQ(encoded(pexpire{"k", 1500ms}), wire({"PEXPIRE", "k", "1500"}));
  EXPECT_EQ(encoded(pexpire{"k", 2s}), wire({"PEXPIRE", "k", "2000"}));
  EXPECT_EQ(encoded(pexpire{"k", 5ms, update_condition::xx_gt}),
            wire({"PEXPIRE", "k", "5", "XX", "GT"}));
}

TEST(Encode, ttl_pttl) {
  EXPECT_EQ(encoded(ttl{"k"}), wire({"TTL", "k"}));
  EXPECT_EQ(encoded(pttl{"k"}), wire({"PTTL", "k"}));
}

TEST(Encode, scan) {
  EXPECT_EQ(encoded(scan{}), wire({"SCAN", "0"}));
  EXPECT_EQ(encoded(scan{.cursor = 17}), wire({"SCAN", "17"}));
  EXPECT_EQ(encoded(scan{.cursor = 18446744073709551615u, .match = "user:*"}),
            wire({"SCAN", "18446744073709551615", "MATCH", "user:*"}));
  EXPECT_EQ(encoded(scan{.cursor = 3, .count = 100}), wire({"SCAN", "3", "COUNT", "100"}));
  EXPECT_EQ(encoded(scan{.type = "hash"}), wire({"SCAN", "0", "TYPE", "hash"}));
  EXPECT_EQ(encoded(scan{5, "a*", 10, "string"}),
            wire({"SCAN", "5", "MATCH", "a*", "COUNT", "10", "TYPE", "string"}));
}

// ---- hashes ---------------------------------------------------------------------------------

TEST(Encode, hashes) {
  EXPECT_EQ(encoded(hget{"h", "f"}), wire({"HGET", "h", "f"}));
  EXPECT_EQ(encoded(hget{"h", 3}), wire({"HGET", "h", "3"}));
  EXPECT_EQ(encoded(hset{"h", {"f", "v"}}), wire({"HSET", "h", "f", "v"}));
  EXPECT_EQ(encoded(hset{"h", {{"f", "v"}, {"n", 1}}}), wire({"HSET", "h", "f", "v", "n", "1"}));
  const std::vector<std::pair<std::string, double>> fields = {{"a", 0.5}, {"b", 2}};
  EXPECT_EQ(encoded(hset{"h", fields}), wire({"HSET", "h", "a", "0.5", "b", "2"}));
  EXPECT_EQ(encoded(hdel{"h", "f"}), wire({"HDEL", "h", "f"}));
  EXPECT_EQ(encoded(hdel{"h", {"f", "g"}}), wire({"HDEL", "h", "f", "g"}));
  EXPECT_EQ(encoded(hgetall{"h"}), wire({"HGETALL", "h"}));
  EXPECT_EQ(encoded(hincrby{"h", "f", -4}), wire({"HINCRBY", "h", "f", "-4"}));
  EXPECT_EQ(encoded(hincrby{"h", "f"}), wire({"HINCRBY", "h", "f", "1"}));
}

// ---- lists ----------------------------------------------------------------------------------

TEST(Encode, lists) {
  EXPECT_EQ(encoded(lpush{"l", "a"}), wire({"LPUSH", "l", "a"}));
  EXPECT_EQ(encoded(lpush{"l", {"a", "b", 3}}), wire({"LPUSH", "l", "a", "b", "3"}));
  const std::vector<int> values = {1, 2};
  EXPECT_EQ(encoded(rpush{"l", values}), wire({"RPUSH", "l", "1", "2"}));
  EXPECT_EQ(encoded(rpush{"l", "z"}), wire({"RPUSH", "l", "z"}));
  EXPECT_EQ(encoded(lpop{"l"}), wire({"LPOP", "l"}));
  EXPECT_EQ(encoded(lpop_count{"l", 3}), wire({"LPOP", "l", "3"}));
  EXPECT_EQ(encoded(rpop{"l"}), wire({"RPOP", "l"}));
  EXPECT_EQ(encoded(rpop_count{"l", 2}), wire({"RPOP", "l", "2"}));
  EXPECT_EQ(encoded(lrange{"l"}), wire({"LRANGE", "l", "0", "-1"}));
  EXPECT_EQ(encoded(lrange{"l", 2, 5}), wire({"LRANGE", "l", "2", "5"}));
  EXPECT_EQ(encoded(llen{"l"}), wire({"LLEN", "l"}));
}

// ---- sets -----------------------------------------------------------------------------------

TEST(Encode, sets) {
  EXPECT_EQ(encoded(sadd{"s", "m"}), wire({"SADD", "s", "m"}));
  EXPECT_EQ(encoded(sadd{"s", {"a", "b"}}), wire({"SADD", "s", "a", "b"}));
  const std::vector<std::string> members = {"x"};
  EXPECT_EQ(encoded(srem{"s", members}), wire({"SREM", "s", "x"}));
  EXPECT_EQ(encoded(smembers{"s"}), wire({"SMEMBERS", "s"}));
  EXPECT_EQ(encoded(sismember{"s", "m"}), wire({"SISMEMBER", "s", "m"}));
}

// ---- sorted sets ----------------------------------------------------------------------------

TEST(Encode, zadd) {
  EXPECT_EQ(encoded(zadd{"z", {1.5, "a"}}), wire({"ZADD", "z", "1.5", "a"}));
  EXPECT_EQ(encoded(zadd{"z", {{1, "a"}, {2, "b"}}}), wire({"ZADD", "z", "1", "a", "2", "b"}));
  EXPECT_EQ(encoded(zadd{"z", {"-inf", "a"}}), wire({"ZADD", "z", "-inf", "a"}));
  EXPECT_EQ(encoded(zadd{"z", {1, "a"}, {.condition = update_condition::nx}}),
            wire({"ZADD", "z", "NX", "1", "a"}));
  EXPECT_EQ(encoded(zadd{"z", {1, "a"}, {.changed = true}}), wire({"ZADD", "z", "CH", "1", "a"}));
  EXPECT_EQ(encoded(zadd{"z", {1, "a"}, {update_condition::xx_gt, true}}),
            wire({"ZADD", "z", "XX", "GT", "CH", "1", "a"}));
  EXPECT_EQ(encoded(zadd{"z", {1, "a"}, {update_condition::lt, false}}),
            wire({"ZADD", "z", "LT", "1", "a"}));
  const std::vector<std::pair<double, std::string>> members = {{0.25, "q"}, {-3, "r"}};
  EXPECT_EQ(encoded(zadd{"z", members}), wire({"ZADD", "z", "0.25", "q", "-3", "r"}));
}

TEST(Encode, zadd_incr) {
  EXPECT_EQ(encoded(zadd_incr{"z", 2.5, "a"}), wire({"ZADD", "z", "INCR", "2.5", "a"}));
  EXPECT_EQ(encoded(zadd_incr{"z", -1, "a", update_condition::xx}),
            wire({"ZADD", "z", "XX", "INCR", "-1", "a"}));
  EXPECT_EQ(encoded(zadd_incr{"z", 1, "a", update_condition::xx_lt}),
            wire({"ZADD", "z", "XX", "LT", "INCR", "1", "a"}));
}

TEST(Encode, zrange) {
  EXPECT_EQ(encoded(zrange{"z"}), wire({"ZRANGE", "z", "0", "-1"}));
  EXPECT_EQ(encoded(zrange{"z", 1, 2}), wire({"ZRANGE", "z", "1", "2"}));
  EXPECT_EQ(encoded(zrange{"z", "(1", "+inf", {.by = zrange_by::score}}),
            wire({"ZRANGE", "z", "(1", "+inf", "BYSCORE"}));
  EXPECT_EQ(encoded(zrange{"z", "[a", "(c", {.by = zrange_by::lex}}),
            wire({"ZRANGE", "z", "[a", "(c", "BYLEX"}));
  EXPECT_EQ(encoded(zrange{"z", 0, -1, {.reverse = true}}),
            wire({"ZRANGE", "z", "0", "-1", "REV"}));
  EXPECT_EQ(encoded(zrange{"z", 5.5, 0, {zrange_by::score, true, zrange_limit{1, 2}}}),
            wire({"ZRANGE", "z", "5.5", "0", "BYSCORE", "REV", "LIMIT", "1", "2"}));
  EXPECT_EQ(encoded(zrange_withscores{"z"}), wire({"ZRANGE", "z", "0", "-1", "WITHSCORES"}));
  EXPECT_EQ(
      encoded(zrange_withscores{"z", "-inf", "inf", {.by = zrange_by::score, .limit = {{0, 10}}}}),
      wire({"ZRANGE", "z", "-inf", "inf", "BYSCORE", "LIMIT", "0", "10", "WITHSCORES"}));
}

TEST(Encode, zscore_zincrby) {
  EXPECT_EQ(encoded(zscore{"z", "a"}), wire({"ZSCORE", "z", "a"}));
  EXPECT_EQ(encoded(zincrby{"z", 2, "a"}), wire({"ZINCRBY", "z", "2", "a"}));
  EXPECT_EQ(encoded(zincrby{"z", -0.5, "a"}), wire({"ZINCRBY", "z", "-0.5", "a"}));
}

// ---- pubsub, scripting ----------------------------------------------------------------------

TEST(Encode, publish) {
  EXPECT_EQ(encoded(publish{"ch", "msg"}), wire({"PUBLISH", "ch", "msg"}));
  EXPECT_EQ(encoded(publish{"ch", 1}), wire({"PUBLISH", "ch", "1"}));
  EXPECT_EQ(encoded(spublish{"{r}ch", "msg"}), wire({"SPUBLISH", "{r}ch", "msg"}));
}

TEST(Encode, eval_evalsha_script_load) {
  EXPECT_EQ(encoded(eval{"return 1"}), wire({"EVAL", "return 1", "0"}));
  EXPECT_EQ(encoded(eval{"s", {"k1", "k2"}, {"a", 1}}),
            wire({"EVAL", "s", "2", "k1", "k2", "a", "1"}));
  EXPECT_EQ(encoded(eval<std::int64_t>{"s", {}, {"a"}}), wire({"EVAL", "s", "0", "a"}));
  EXPECT_EQ(encoded(eval{"s", "k"}), wire({"EVAL", "s", "1", "k"}));
  const std::vector<std::string> keys = {"x", "y"};
  const std::vector<double> args = {0.5};
  EXPECT_EQ(encoded(evalsha<double>{"abc", keys, args}),
            wire({"EVALSHA", "abc", "2", "x", "y", "0.5"}));
  EXPECT_EQ(encoded(evalsha{"abc"}), wire({"EVALSHA", "abc", "0"}));
  EXPECT_EQ(encoded(script_load{"return 1"}), wire({"SCRIPT", "LOAD", "return 1"}));
}

TEST(Encode, read_only_scripts_and_functions) {
  EXPECT_EQ(encoded(eval_ro{"s", {"k1", "k2"}, {"a", 1}}),
            wire({"EVAL_RO", "s", "2", "k1", "k2", "a", "1"}));
  EXPECT_EQ(encoded(evalsha_ro<std::int64_t>{"abc", "k"}), wire({"EVALSHA_RO", "abc", "1", "k"}));
  EXPECT_EQ(encoded(fcall{"myfunc"}), wire({"FCALL", "myfunc", "0"}));
  EXPECT_EQ(encoded(fcall<std::int64_t>{"f", {"k"}, {"a", 2.5}}),
            wire({"FCALL", "f", "1", "k", "a", "2.5"}));
  EXPECT_EQ(encoded(fcall_ro{"f", {"k1", "k2"}}), wire({"FCALL_RO", "f", "2", "k1", "k2"}));
}

// ---- raw ------------------------------------------------------------------------------------

TEST(Encode, raw) {
  EXPECT_EQ(encoded(raw{"PING"}), wire({"PING"}));
  EXPECT_EQ(encoded(raw{"CLIENT", "INFO"}), wire({"CLIENT", "INFO"}));
  EXPECT_EQ(encoded(raw<std::int64_t>{"INCRBY", "k", -2}), wire({"INCRBY", "k", "-2"}));
  const std::vector<std::string> keys = {"a", "b"};
  EXPECT_EQ(encoded(raw<std::int64_t>{"SINTERCARD", 2, keys, "LIMIT", 5}),
            wire({"SINTERCARD", "2", "a", "b", "LIMIT", "5"}));
  const std::vector<std::string_view> words = {"SET", "k", "v"};
  EXPECT_EQ(encoded(raw{words}), wire({"SET", "k", "v"}));
  EXPECT_EQ(raw(words).size(), 3u);
  EXPECT_EQ(
      encoded(raw{"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P"}),
      wire({"A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O", "P"}));
  static_assert(raw<>::max_parts == 16);
}

// ---- encoding allocates nothing -------------------------------------------------------------

void encode_everything(resp::encoder& e, const std::vector<std::string>& keys,
                       const std::map<std::string, std::string>& fields) {
  ping{}.encode(e);
  echo{"m"}.encode(e);
  get{"k"}.encode(e);
  set{"k", "v", {set_expiry::after(10s), set_condition::nx}}.encode(e);
  set_get{"k", 1}.encode(e);
  getdel{"k"}.encode(e);
  getex{"k", getex_expiry::persist()}.encode(e);
  mget{keys}.encode(e);
  mset{fields}.encode(e);
  mset{{{"a", 1}, {"b", 2}}}.encode(e);
  incr{"n"}.encode(e);
  incrby{"n", 2}.encode(e);
  decr{"n"}.encode(e);
  decrby{"n", 2}.encode(e);
  append{"k", "v"}.encode(e);
  strlen{"k"}.encode(e);
  del{{"a", "b"}}.encode(e);
  unlink{keys}.encode(e);
  exists{"a"}.encode(e);
  expire{"k", 1s, update_condition::xx_gt}.encode(e);
  pexpire{"k", 1ms}.encode(e);
  ttl{"k"}.encode(e);
  pttl{"k"}.encode(e);
  scan{1, "*", 10, "string"}.encode(e);
  hget{"h", "f"}.encode(e);
  hset{"h", fields}.encode(e);
  hdel{"h", {"f", "g"}}.encode(e);
  hgetall{"h"}.encode(e);
  hincrby{"h", "f", 1}.encode(e);
  lpush{"l", keys}.encode(e);
  rpush{"l", "v"}.encode(e);
  lpop{"l"}.encode(e);
  lpop_count{"l", 2}.encode(e);
  rpop{"l"}.encode(e);
  rpop_count{"l", 2}.encode(e);
  lrange{"l", 0, -1}.encode(e);
  llen{"l"}.encode(e);
  sadd{"s", {"a", "b"}}.encode(e);
  srem{"s", "a"}.encode(e);
  smembers{"s"}.encode(e);
  sismember{"s", "a"}.encode(e);
  zadd{"z", {{1, "a"}, {2.5, "b"}}, {update_condition::gt, true}}.encode(e);
  zadd_incr{"z", 1, "a"}.encode(e);
  zrange{"z", "(1", "+inf", {zrange_by::score, true, zrange_limit{0, 5}}}.encode(e);
  zrange_withscores{"z"}.encode(e);
  zscore{"z", "a"}.encode(e);
  zincrby{"z", 1.5, "a"}.encode(e);
  publish{"c", "m"}.encode(e);
  eval{"return 1", keys, {"a", 1}}.encode(e);
  evalsha<std::int64_t>{"sha", {}, keys}.encode(e);
  script_load{"return 1"}.encode(e);
  raw{"CLIENT", "INFO"}.encode(e);
  raw<std::int64_t>{"SINTERCARD", 2, keys}.encode(e);
}

TEST(Encode, allocates_nothing_into_a_warm_buffer) {
  const std::vector<std::string> keys = {"key:1", "key:2", "key:3"};
  const std::map<std::string, std::string> fields = {{"f1", "v1"}, {"f2", "v2"}};
  util::byte_buffer buf;
  resp::encoder e{buf};
  encode_everything(e, keys, fields);  // warm-up: the buffer grows once
  const std::size_t bytes = buf.size();
  buf.clear();

  dev::allocation_scope scope;
  for (int round = 0; round < 100; ++round) {
    encode_everything(e, keys, fields);
    buf.consume(buf.size());
  }
  const std::uint64_t allocations = scope.allocations();
  EXPECT_EQ(allocations, 0u);  // operator new and the buffer's mimalloc alike
  EXPECT_GT(bytes, 1000u);
}

}  // namespace
}  // namespace uredis::cmd

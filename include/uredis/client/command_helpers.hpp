#pragma once
// command_helpers: the typed helpers (client.get("k"), client.set("k", "v", {...}), ...), written
// once for every API. Each is one line: it builds the command's descriptor (uredis::cmd) and
// hands it to the derived class's exec(), so a helper returns whatever that exec() returns:
//
//   uredis::client           exec(d) -> an awaitable of result<cmd::response_t<D>>
//   uredis::blocking_client  exec(d) -> cmd::response_t<D>, or throws the mapped exception
//
//   class my_api : public command_helpers<my_api> {
//    public:
//     template <cmd::descriptor D> auto exec(const D& command);   // all a Derived must have
//   };
//
// Parameters mirror the descriptors' fields (cmd/*.hpp say what each command answers): one key
// or many (cmd::arg_list: "k", {"a", "b"}, a vector), field/value pairs (cmd::pair_list:
// {"f", "v"}, {{"f", "v"}, {"g", 2}}, a std::map), options structs with designated
// initializers. command(parts...) sends any command with any arguments (cmd::raw).
//
// Lifetime: arguments are viewed, never copied, until exec() encodes the command. For the
// blocking client that is inside the call; for the coroutine client it is when the result is
// co_awaited, so await it in the same expression that calls the helper:
//
//   auto v = co_await client.get(prefix + id);  // fine: the string lives until the co_await ends
//   auto a = client.get(prefix + id);           // dangling: the string died with this statement
//   co_await a;
//
// GCC 12 rejects any braced list (a std::initializer_list: {"a", "b"}, also a std::vector built
// from one) inside an expression that contains co_await, with "array used as initializer" (a
// compiler bug; Clang takes it). Name the list in a statement of its own, which also keeps it
// alive long enough:
//
//   const cmd::arg keys[] = {"a", "b"};
//   auto v = co_await client.mget(keys);
//
// Commands whose reply shape depends on an option are separate helpers, as they are separate
// descriptors: set / set_get (SET ... GET), lpop / lpop(key, count), zadd / zadd_incr,
// zrange / zrange_withscores.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include "uredis/cmd/all.hpp"

namespace uredis {

template <class Derived>
class command_helpers {
 public:
  // --- connection ---

  /// PING [message] -> "PONG", or the message.
  auto ping(std::optional<std::string_view> message = std::nullopt) {
    return self().exec(cmd::ping{message});
  }
  /// ECHO message -> the message.
  auto echo(cmd::arg message) { return self().exec(cmd::echo{message}); }

  // --- strings ---

  /// GET key -> the value, or nullopt.
  auto get(std::string_view key) { return self().exec(cmd::get{key}); }
  /// SET key value [EX|PX|EXAT|PXAT|KEEPTTL] [NX|XX] -> applied (false: NX or XX stopped it).
  auto set(std::string_view key, cmd::arg value, cmd::set_options options = {}) {
    return self().exec(cmd::set{key, value, options});
  }
  /// SET ... GET -> the old value, or nullopt.
  auto set_get(std::string_view key, cmd::arg value, cmd::set_options options = {}) {
    return self().exec(cmd::set_get{key, value, options});
  }
  /// GETDEL key -> the value it deleted, or nullopt.
  auto getdel(std::string_view key) { return self().exec(cmd::getdel{key}); }
  /// GETEX key [EX|PX|EXAT|PXAT|PERSIST] -> the value, or nullopt.
  auto getex(std::string_view key, std::optional<cmd::getex_expiry> expiry = std::nullopt) {
    return self().exec(cmd::getex{key, expiry});
  }
  /// MGET key... -> a value or nullopt per key.
  auto mget(cmd::arg_list keys) { return self().exec(cmd::mget{keys}); }
  /// MSET key value... -> applied (always true).
  auto mset(cmd::pair_list pairs) { return self().exec(cmd::mset{pairs}); }
  /// INCR key -> the new value.
  auto incr(std::string_view key) { return self().exec(cmd::incr{key}); }
  /// INCRBY key increment -> the new value.
  auto incrby(std::string_view key, std::int64_t increment) {
    return self().exec(cmd::incrby{key, increment});
  }
  /// DECR key -> the new value.
  auto decr(std::string_view key) { return self().exec(cmd::decr{key}); }
  /// DECRBY key decrement -> the new value.
  auto decrby(std::string_view key, std::int64_t decrement) {
    return self().exec(cmd::decrby{key, decrement});
  }
  /// APPEND key value -> the length after the append.
  auto append(std::string_view key, cmd::arg value) { return self().exec(cmd::append{key, value}); }
  /// STRLEN key -> the length (0: no such key).
  auto strlen(std::string_view key) { return self().exec(cmd::strlen{key}); }

  // --- keys ---

  /// DEL key... -> how many keys were removed.
  auto del(cmd::arg_list keys) { return self().exec(cmd::del{keys}); }
  /// UNLINK key... -> how many keys were removed.
  auto unlink(cmd::arg_list keys) { return self().exec(cmd::unlink{keys}); }
  /// EXISTS key... -> how many of the keys exist.
  auto exists(cmd::arg_list keys) { return self().exec(cmd::exists{keys}); }
  /// EXPIRE key seconds [NX|XX|GT|LT] -> whether the expiry was set.
  auto expire(std::string_view key, std::chrono::seconds timeout,
              cmd::update_condition condition = cmd::update_condition::always) {
    return self().exec(cmd::expire{key, timeout, condition});
  }
  /// PEXPIRE key milliseconds [NX|XX|GT|LT] -> whether the expiry was set.
  auto pexpire(std::string_view key, std::chrono::milliseconds timeout,
               cmd::update_condition condition = cmd::update_condition::always) {
    return self().exec(cmd::pexpire{key, timeout, condition});
  }
  /// TTL key -> seconds left; -1 no expiry, -2 no such key.
  auto ttl(std::string_view key) { return self().exec(cmd::ttl{key}); }
  /// PTTL key -> milliseconds left; -1 no expiry, -2 no such key.
  auto pttl(std::string_view key) { return self().exec(cmd::pttl{key}); }
  /// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] -> {next cursor, keys}; the
  /// iteration is over when the next cursor is 0.
  auto scan(std::uint64_t cursor, std::optional<std::string_view> match = std::nullopt,
            std::optional<std::uint64_t> count = std::nullopt,
            std::optional<std::string_view> type = std::nullopt) {
    return self().exec(cmd::scan{cursor, match, count, type});
  }

  // --- hashes ---

  /// HGET key field -> the value, or nullopt.
  auto hget(std::string_view key, cmd::arg field) { return self().exec(cmd::hget{key, field}); }
  /// HSET key field value... -> how many fields were added.
  auto hset(std::string_view key, cmd::pair_list fields) {
    return self().exec(cmd::hset{key, fields});
  }
  /// HSET key field value -> 1 when the field is new, 0 when it was overwritten.
  auto hset(std::string_view key, cmd::arg field, cmd::arg value) {
    return self().exec(cmd::hset{key, cmd::pair_list(field, value)});
  }
  /// HDEL key field... -> how many fields were removed.
  auto hdel(std::string_view key, cmd::arg_list fields) {
    return self().exec(cmd::hdel{key, fields});
  }
  /// HGETALL key -> every field and its value.
  auto hgetall(std::string_view key) { return self().exec(cmd::hgetall{key}); }
  /// HINCRBY key field increment -> the field's new value.
  auto hincrby(std::string_view key, cmd::arg field, std::int64_t increment) {
    return self().exec(cmd::hincrby{key, field, increment});
  }

  // --- lists ---

  /// LPUSH key value... -> the length after the push.
  auto lpush(std::string_view key, cmd::arg_list values) {
    return self().exec(cmd::lpush{key, values});
  }
  /// RPUSH key value... -> the length after the push.
  auto rpush(std::string_view key, cmd::arg_list values) {
    return self().exec(cmd::rpush{key, values});
  }
  /// LPOP key -> the first element, or nullopt.
  auto lpop(std::string_view key) { return self().exec(cmd::lpop{key}); }
  /// LPOP key count -> up to `count` elements, or nullopt when there is no such key.
  auto lpop(std::string_view key, std::uint64_t count) {
    return self().exec(cmd::lpop_count{key, count});
  }
  /// RPOP key -> the last element, or nullopt.
  auto rpop(std::string_view key) { return self().exec(cmd::rpop{key}); }
  /// BLPOP key timeout -> {key, element}, or nullopt when `timeout` ran out (0: wait forever).
  auto blpop(std::string_view key, std::chrono::milliseconds timeout) {
    return self().exec(cmd::blpop{key, timeout});
  }
  /// BRPOP key timeout -> {key, element}, or nullopt when `timeout` ran out (0: wait forever).
  auto brpop(std::string_view key, std::chrono::milliseconds timeout) {
    return self().exec(cmd::brpop{key, timeout});
  }
  /// RPOP key count -> up to `count` elements (last first), or nullopt when there is no such key.
  auto rpop(std::string_view key, std::uint64_t count) {
    return self().exec(cmd::rpop_count{key, count});
  }
  /// LRANGE key start stop -> the elements, both ends included.
  auto lrange(std::string_view key, std::int64_t start, std::int64_t stop) {
    return self().exec(cmd::lrange{key, start, stop});
  }
  /// LLEN key -> the length.
  auto llen(std::string_view key) { return self().exec(cmd::llen{key}); }

  // --- sets ---

  /// SADD key member... -> how many members were added.
  auto sadd(std::string_view key, cmd::arg_list members) {
    return self().exec(cmd::sadd{key, members});
  }
  /// SREM key member... -> how many members were removed.
  auto srem(std::string_view key, cmd::arg_list members) {
    return self().exec(cmd::srem{key, members});
  }
  /// SMEMBERS key -> every member, in the server's order.
  auto smembers(std::string_view key) { return self().exec(cmd::smembers{key}); }
  /// SISMEMBER key member -> whether member is in the set.
  auto sismember(std::string_view key, cmd::arg member) {
    return self().exec(cmd::sismember{key, member});
  }

  // --- sorted sets ---

  /// ZADD key [NX|XX] [GT|LT] [CH] score member... -> members added (with CH: or changed).
  auto zadd(std::string_view key, cmd::pair_list members, cmd::zadd_options options = {}) {
    return self().exec(cmd::zadd{key, members, options});
  }
  /// ZADD key [NX|XX] [GT|LT] INCR increment member -> the new score, or nullopt.
  auto zadd_incr(std::string_view key, double increment, cmd::arg member,
                 cmd::update_condition condition = cmd::update_condition::always) {
    return self().exec(cmd::zadd_incr{key, increment, member, condition});
  }
  /// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] -> the members.
  auto zrange(std::string_view key, cmd::arg start, cmd::arg stop,
              cmd::zrange_options options = {}) {
    return self().exec(cmd::zrange{key, start, stop, options});
  }
  /// ZRANGE ... WITHSCORES -> the members with their scores.
  auto zrange_withscores(std::string_view key, cmd::arg start, cmd::arg stop,
                         cmd::zrange_options options = {}) {
    return self().exec(cmd::zrange_withscores{key, start, stop, options});
  }
  /// ZSCORE key member -> the score, or nullopt.
  auto zscore(std::string_view key, cmd::arg member) {
    return self().exec(cmd::zscore{key, member});
  }
  /// ZINCRBY key increment member -> the new score.
  auto zincrby(std::string_view key, double increment, cmd::arg member) {
    return self().exec(cmd::zincrby{key, increment, member});
  }

  // --- pub/sub ---

  /// PUBLISH channel message -> how many subscribers received it.
  auto publish(std::string_view channel, cmd::arg message) {
    return self().exec(cmd::publish{channel, message});
  }

  // --- scripting ---

  /// EVAL script numkeys key... arg... -> the script's reply as a Response.
  template <class Response = resp::reply>
  auto eval(std::string_view script, cmd::arg_list keys = {}, cmd::arg_list args = {}) {
    return self().exec(cmd::eval<Response>{script, keys, args});
  }
  /// EVALSHA sha1 numkeys key... arg... -> the script's reply as a Response (NOSCRIPT: load it).
  template <class Response = resp::reply>
  auto evalsha(std::string_view sha1, cmd::arg_list keys = {}, cmd::arg_list args = {}) {
    return self().exec(cmd::evalsha<Response>{sha1, keys, args});
  }
  /// SCRIPT LOAD script -> the script's SHA1, for evalsha.
  auto script_load(std::string_view script) { return self().exec(cmd::script_load{script}); }

  // --- anything else ---

  /// Any command with any arguments: each part is an argument ("CLIENT", a std::string, 42,
  /// 2.5) or a forward range of them; the reply is adapted into Response (default resp::reply,
  /// which holds anything):
  ///
  ///   client.command("CLIENT", "INFO")                     -> resp::reply
  ///   client.command<std::int64_t>("SINTERCARD", 2, keys)  -> std::int64_t
  template <class Response = resp::reply, class... Parts>
  auto command(Parts&&... parts) {
    return self().exec(cmd::raw<Response>(std::forward<Parts>(parts)...));
  }

 protected:
  // Only a Derived is one: the helpers make no sense on their own.
  command_helpers() noexcept = default;
  ~command_helpers() = default;
  command_helpers(const command_helpers&) noexcept = default;
  command_helpers& operator=(const command_helpers&) noexcept = default;

 private:
  Derived& self() noexcept { return static_cast<Derived&>(*this); }
};

}  // namespace uredis

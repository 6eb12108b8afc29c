#pragma once
// request_source: issues the requests of one workload on a shard's connections, one exec() per
// request with the typed descriptor of its command (or the template's request).
//
// One per shard, shared by its connections: each request's keys are written into the
// key_source's buffer (and, when a request needs several at once, held in this source's own
// slots), the template's mixed arguments into the scratch buffer, and exec() encodes them into
// the connection's output buffer before issue() returns, so the next request may reuse them.
// Nothing is allocated per request: the value (-d bytes of 'x'), the key slots and the scratch
// buffer are allocated once, here; replies that carry a value (GET, LPOP, RPOP, SPOP) are read
// as views into the read buffer, and those with many (LRANGE, ZPOPMIN) are read and dropped,
// not copied into strings and vectors.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "keys.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/cluster/cluster_client.hpp"
#include "uredis/cmd/hashes.hpp"
#include "uredis/cmd/lists.hpp"
#include "uredis/cmd/server.hpp"
#include "uredis/cmd/sets.hpp"
#include "uredis/cmd/sorted_sets.hpp"
#include "uredis/cmd/strings.hpp"
#include "uredis/resp/adapter.hpp"
#include "workload.hpp"

namespace uredis::bench {

class request_source {
 public:
  /// `name_keys`: send a --command template that uses __key__ as a request that names its
  /// keys (command_template::keyed_request), which the client-side cache and a cluster's slot
  /// routing need.
  request_source(const workload& work, const key_source& keys, std::size_t data_size,
                 bool name_keys = false)
      : work_(work), keys_(keys), value_(data_size, 'x'), name_keys_(name_keys) {
    if (work.command != nullptr)
      scratch_.resize(work.command->scratch_size(key_source::max_key_size, data_size));
  }

  /// Sends one request on `c` (a connection, or a cluster::cluster_client, which routes it by
  /// the slot of the keys its descriptor names); `done(ok)` runs once with its outcome (ok: a
  /// reply that is not an error). `done` may run before issue() returns (a connection that is
  /// closed). `done` is taken by value: a callback of two words then comes in two registers,
  /// where one passed by reference was built in memory by the caller and read back here as
  /// one 16-byte word, which the CPU cannot forward from the two stores that built it.
  template <class Target, class Done>
  void issue(Target& c, Done done);

  /// The key sequence from its start (keys.hpp).
  void restart() noexcept { keys_.restart(); }

 private:
  static constexpr std::size_t mset_keys = 10;  // redis-benchmark's "MSET (10 keys)"

  // PING written inline ("PING\r\n"), as redis-benchmark's PING_INLINE sends it: the server
  // takes another parsing path for it than for the RESP array of PING_MBULK. One command,
  // answered by one reply, so the connection's FIFO is unaffected by its shape.
  struct inline_ping {
    using response = resp::ignore_t;
    void encode(resp::encoder& e) const { e.buffer().append("PING\r\n"); }
    static constexpr bool keyless = true;
  };
  // A command of one key whose reply is read in place: a bulk string or nil viewed in the read
  // buffer (GET, LPOP, RPOP, SPOP: -d may exceed std::string's small-string buffer, and a
  // benchmark must not allocate per reply), or anything dropped (ZPOPMIN's array).
  template <class Response>
  struct key_command {
    std::string_view name;
    std::string_view key;
    using response = Response;
    void encode(resp::encoder& e) const { e.command(name, key); }
    constexpr void for_each_key(auto&& f) const { f(key); }
  };
  using bulk_view = key_command<std::optional<std::string_view>>;
  // LRANGE key 0 stop, its elements dropped as they arrive (cmd::lrange would copy each).
  struct lrange_head {
    std::string_view key;
    std::int64_t stop;
    using response = resp::ignore_t;
    void encode(resp::encoder& e) const { e.command("LRANGE", key, 0, stop); }
    constexpr void for_each_key(auto&& f) const { f(key); }
  };
  // MSET of the held keys, each set to the value.
  struct mset_held {
    std::span<const std::string_view> keys;
    std::string_view value;
    using response = resp::ignore_t;
    void encode(resp::encoder& e) const {
      e.begin(1 + 2 * keys.size());
      e.arg("MSET");
      for (const std::string_view key : keys) {
        e.arg(key);
        e.arg(value);
      }
    }
    constexpr void for_each_key(auto&& f) const {
      for (const std::string_view key : keys)
        f(key);
    }
  };

  // Copies `key` (the key_source's buffer, which the next key() overwrites) into slot `i`.
  std::string_view hold(std::size_t i, std::string_view key) noexcept {
    key.copy(held_[i].data(), key.size());
    return held_views_[i] = {held_[i].data(), key.size()};
  }

  workload work_;
  key_source keys_;
  std::string value_;
  bool name_keys_;
  std::string scratch_;
  std::array<std::array<char, key_source::max_key_size>, mset_keys> held_{};
  std::array<std::string_view, mset_keys> held_views_{};
};

template <class Target, class Done>
void request_source::issue(Target& c, Done done) {
  auto on_reply = [done](const auto& r) mutable noexcept { done(r.has_value()); };
  if (work_.command != nullptr) {
    const std::string_view key = work_.command->uses_key() ? keys_.key("key:") : "";
    if (name_keys_ && work_.command->uses_key()) {
      c.exec(command_template::keyed_request{work_.command, key, value_, scratch_.data()},
             std::move(on_reply));
    } else {
      c.exec(command_template::request{work_.command, key, value_, scratch_.data()},
             std::move(on_reply));
    }
    return;
  }
  switch (work_.test->kind) {
    case test_kind::ping_inline:
      c.exec(inline_ping{}, std::move(on_reply));
      break;
    case test_kind::ping_mbulk:
      c.exec(cmd::ping{}, std::move(on_reply));
      break;
    case test_kind::set:
      c.exec(cmd::set{keys_.key("key:"), value_}, std::move(on_reply));
      break;
    case test_kind::get:
      c.exec(bulk_view{"GET", keys_.key("key:")}, std::move(on_reply));
      break;
    case test_kind::incr:
      c.exec(cmd::incr{keys_.key("counter:")}, std::move(on_reply));
      break;
    case test_kind::lpush:
    case test_kind::lrange_fill:
      c.exec(cmd::lpush{"mylist", cmd::arg_list(value_)}, std::move(on_reply));
      break;
    case test_kind::rpush:
      c.exec(cmd::rpush{"mylist", cmd::arg_list(value_)}, std::move(on_reply));
      break;
    case test_kind::lpop:
      c.exec(bulk_view{"LPOP", "mylist"}, std::move(on_reply));
      break;
    case test_kind::rpop:
      c.exec(bulk_view{"RPOP", "mylist"}, std::move(on_reply));
      break;
    case test_kind::sadd:
      c.exec(cmd::sadd{"myset", cmd::arg_list(keys_.key("element:"))}, std::move(on_reply));
      break;
    case test_kind::hset:
      c.exec(cmd::hset{"myhash", cmd::pair_list(keys_.key("element:"), value_)},
             std::move(on_reply));
      break;
    case test_kind::spop:
      c.exec(bulk_view{"SPOP", "myset"}, std::move(on_reply));
      break;
    case test_kind::zadd: {
      // The score is redis-benchmark's: "0", or with -r a drawn number of its own.
      const std::string_view score = keys_.keyspace() == 0 ? "0" : hold(0, keys_.key(""));
      c.exec(cmd::zadd{"myzset", cmd::pair_list(score, keys_.key("element:"))},
             std::move(on_reply));
      break;
    }
    case test_kind::zpopmin:
      c.exec(key_command<resp::ignore_t>{"ZPOPMIN", "myzset"}, std::move(on_reply));
      break;
    case test_kind::lrange_100:
      c.exec(lrange_head{"mylist", 99}, std::move(on_reply));
      break;
    case test_kind::lrange_300:
      c.exec(lrange_head{"mylist", 299}, std::move(on_reply));
      break;
    case test_kind::lrange_500:
      c.exec(lrange_head{"mylist", 499}, std::move(on_reply));
      break;
    case test_kind::lrange_600:
      c.exec(lrange_head{"mylist", 599}, std::move(on_reply));
      break;
    case test_kind::mset:
      for (std::size_t i = 0; i < mset_keys; ++i)
        hold(i, keys_.key("key:"));
      if constexpr (std::is_same_v<Target, cluster::cluster_client>) {
        // Ten keys of ten slots: the library's MSET, which a cluster client splits per slot
        // (not atomic, and the split allocates its merge state).
        std::array<std::pair<std::string_view, std::string_view>, mset_keys> pairs;
        for (std::size_t i = 0; i < mset_keys; ++i)
          pairs[i] = {held_views_[i], value_};
        c.exec(cmd::mset{cmd::pair_list(pairs)}, std::move(on_reply));
      } else {
        c.exec(mset_held{held_views_, value_}, std::move(on_reply));
      }
      break;
  }
}

}  // namespace uredis::bench

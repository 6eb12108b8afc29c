#pragma once
// request_source: issues the requests of one workload on a shard's connections, one exec() per
// request with the typed descriptor of its command (or the template's request).
//
// One per shard, shared by its connections: each request's key is written into the key_source's
// buffer, the template's mixed arguments into the scratch buffer, and exec() encodes them into
// the connection's output buffer before issue() returns, so the next request may reuse both.
// Nothing is allocated per request: the value (-d bytes of 'x') and the scratch buffer are
// allocated once, here; replies that carry a value (GET, LPOP) are read as views into the read
// buffer, not copied into strings.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "keys.hpp"
#include "uredis/client/connection.hpp"
#include "uredis/cmd/hashes.hpp"
#include "uredis/cmd/lists.hpp"
#include "uredis/cmd/server.hpp"
#include "uredis/cmd/sets.hpp"
#include "uredis/cmd/strings.hpp"
#include "workload.hpp"

namespace uredis::bench {

class request_source {
 public:
  request_source(const workload& work, const key_source& keys, std::size_t data_size)
      : work_(work), keys_(keys), value_(data_size, 'x') {
    if (work.command != nullptr)
      scratch_.resize(work.command->scratch_size(key_source::max_key_size, data_size));
  }

  /// Sends one request on `c`; `done(ok)` runs once with its outcome (ok: a reply that is not
  /// an error). `done` may run before issue() returns (a connection that is closed).
  template <class Done>
  void issue(connection& c, Done&& done);

  /// The key sequence from its start (keys.hpp).
  void restart() noexcept { keys_.restart(); }

 private:
  // GET and LPOP replies read as views into the read buffer: -d may exceed std::string's
  // small-string buffer, and a benchmark must not allocate per reply.
  struct get_view {
    std::string_view key;
    using response = std::optional<std::string_view>;
    void encode(resp::encoder& e) const { e.command("GET", key); }
    constexpr void for_each_key(auto&& f) const { f(key); }
  };
  struct lpop_view {
    std::string_view key;
    using response = std::optional<std::string_view>;
    void encode(resp::encoder& e) const { e.command("LPOP", key); }
    constexpr void for_each_key(auto&& f) const { f(key); }
  };

  workload work_;
  key_source keys_;
  std::string value_;
  std::string scratch_;
};

template <class Done>
void request_source::issue(connection& c, Done&& done) {
  auto on_reply = [done = std::forward<Done>(done)](const auto& r) mutable noexcept {
    done(r.has_value());
  };
  if (work_.command != nullptr) {
    const std::string_view key = work_.command->uses_key() ? keys_.key("key:") : "";
    c.exec(command_template::request{work_.command, key, value_, scratch_.data()},
           std::move(on_reply));
    return;
  }
  switch (work_.test->kind) {
    case test_kind::ping:
      c.exec(cmd::ping{}, std::move(on_reply));
      break;
    case test_kind::set:
      c.exec(cmd::set{keys_.key("key:"), value_}, std::move(on_reply));
      break;
    case test_kind::get:
      c.exec(get_view{keys_.key("key:")}, std::move(on_reply));
      break;
    case test_kind::incr:
      c.exec(cmd::incr{keys_.key("counter:")}, std::move(on_reply));
      break;
    case test_kind::lpush:
      c.exec(cmd::lpush{"mylist", cmd::arg_list(value_)}, std::move(on_reply));
      break;
    case test_kind::rpush:
      c.exec(cmd::rpush{"mylist", cmd::arg_list(value_)}, std::move(on_reply));
      break;
    case test_kind::lpop:
      c.exec(lpop_view{"mylist"}, std::move(on_reply));
      break;
    case test_kind::sadd:
      c.exec(cmd::sadd{"myset", cmd::arg_list(keys_.key("element:"))}, std::move(on_reply));
      break;
    case test_kind::hset:
      c.exec(cmd::hset{"myhash", cmd::pair_list(keys_.key("element:"), value_)},
             std::move(on_reply));
      break;
  }
}

}  // namespace uredis::bench
